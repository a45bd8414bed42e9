# The Node.js addon (node/, Note [Node frontend] in csrc/node/addon.cpp), with VT_NODE=ON: the core's
# sources again and csrc/node as one Node-API module, build/node/vt_node.node when node/build.js
# configures it. Node-API's symbols come from the node process at load time (a module may leave them
# undefined). VT_NODE_INCLUDE: the folder of node_api.h; by default the headers installed beside the
# node binary (node/build.js passes node-api-headers' from npm where those are missing).
if(NOT VT_NODE_INCLUDE)
  execute_process(COMMAND node -p "require('path').resolve(process.execPath, '../../include/node')"
                  OUTPUT_VARIABLE VT_NODE_INCLUDE OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _vt_node_rc)
endif()
if(NOT EXISTS "${VT_NODE_INCLUDE}/node_api.h")
  message(FATAL_ERROR "VT_NODE=ON: node_api.h not found (VT_NODE_INCLUDE='${VT_NODE_INCLUDE}'); run node/build.js, "
                      "which fetches node-api-headers from npm when node's own headers are missing")
endif()
file(GLOB VT_NODE_SOURCES CONFIGURE_DEPENDS csrc/node/*.cpp)
add_library(vt_node MODULE ${VT_CORE_SOURCES} ${VT_NODE_SOURCES})
set_target_properties(vt_node PROPERTIES PREFIX "" SUFFIX ".node" CXX_VISIBILITY_PRESET hidden
                      VISIBILITY_INLINES_HIDDEN ON BUILD_RPATH "${VT_BLAS_LIBDIR}")
target_include_directories(vt_node PRIVATE ${VT_NODE_INCLUDE})
target_compile_definitions(vt_node PRIVATE NAPI_VERSION=8)
vt_configure_core(vt_node)
list(APPEND VT_CORE_TARGETS vt_node)
message(STATUS "vibetensor: building the Node.js addon vt_node.node (Node-API headers ${VT_NODE_INCLUDE})")
