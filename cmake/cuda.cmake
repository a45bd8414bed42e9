# The CUDA backend (csrc/cuda, csrc/alloc, csrc/ops/cuda), included by CMakeLists.txt after
# target _C exists. VT_CUDA=auto builds it where a CUDA compiler is found and a GPU is visible (Note [CUDA only
# with a GPU]); on requires a compiler; off skips it. See Note [CUDA build layout].
#
# Note [CUDA build layout]
# - .cpp files of csrc/cuda, csrc/alloc and csrc/cuda/graph are compiled into _C like the rest of the core.
# - .cu files are compiled into an OBJECT library whose objects are linked into _C: nanobind puts
#   GCC-only flags (-fno-stack-protector, ...) on _C for every language, which nvcc rejects, and
#   an object library (unlike a static one) keeps every static kernel registration.
# - The CUDA runtime is linked statically (CUDA::cudart_static): the module then needs only the
#   driver (libcuda.so), which cudart opens lazily; without a driver or GPU, cudaGetDeviceCount
#   fails and vibetensor.cuda.is_available() is False instead of the import failing.
# - cuBLAS is optional. Sources named csrc/ops/cuda/blas_*.cu (matmul kernels) are compiled only
#   when it is found (toolkit, or the nvidia-cublas wheel; VT_CUBLAS_ROOT=<dir with include/ and
#   lib/> points elsewhere), with VT_HAVE_CUBLAS=1.
# - CUPTI is optional too, and only its headers are used: where cupti_activity.h is found,
#   csrc/probes/cupti_activity.cpp compiles the native GPU activity collector in (VT_HAVE_CUPTI=1),
#   which dlopens libcupti at run time (Note [Native CUPTI collector]); elsewhere it says why not.

string(TOLOWER "${VT_CUDA}" _vt_cuda)
if(NOT _vt_cuda MATCHES "^(auto|on|off|1|0|true|false|yes|no)$")
  message(FATAL_ERROR "VT_CUDA='${VT_CUDA}': expected auto, on or off")
endif()
if(_vt_cuda MATCHES "^(off|0|false|no)$")
  message(STATUS "vibetensor: CUDA backend disabled (VT_CUDA=${VT_CUDA})")
  set(VT_HAVE_CUDA OFF)
  return()
endif()
set(_vt_cuda_required OFF)
if(_vt_cuda MATCHES "^(on|1|true|yes)$")
  set(_vt_cuda_required ON)
endif()

# Note [CUDA only with a GPU]: under auto the CUDA objects are built only where a GPU is visible
# (the NVIDIA driver lists one); nvcc alone, as on a CI machine, would spend half the build time
# on kernels nothing can run. VT_CUDA=on builds them anyway (to check they compile).
if(NOT _vt_cuda_required)
  file(GLOB _vt_gpus /proc/driver/nvidia/gpus/*)
  if(NOT _vt_gpus)
    find_program(_vt_nvidia_smi nvidia-smi)
    if(_vt_nvidia_smi)
      execute_process(COMMAND ${_vt_nvidia_smi} -L OUTPUT_VARIABLE _vt_gpus RESULT_VARIABLE _vt_smi_rc ERROR_QUIET)
      if(NOT _vt_smi_rc EQUAL 0 OR NOT _vt_gpus MATCHES "GPU")
        set(_vt_gpus "")
      endif()
    endif()
  endif()
  if(NOT _vt_gpus)
    message(STATUS "vibetensor: no GPU visible, building the CPU-only backend (VT_CUDA=auto; VT_CUDA=on builds CUDA anyway)")
    set(VT_HAVE_CUDA OFF)
    return()
  endif()
endif()

include(CheckLanguage)
check_language(CUDA)
if(NOT CMAKE_CUDA_COMPILER)
  if(_vt_cuda_required)
    message(FATAL_ERROR "VT_CUDA=on but no CUDA compiler (nvcc) was found; set CUDACXX or CMAKE_CUDA_COMPILER")
  endif()
  message(STATUS "vibetensor: no CUDA compiler found, building the CPU-only backend (VT_CUDA=auto)")
  set(VT_HAVE_CUDA OFF)
  return()
endif()

# H100 (sm_90) by default; -DCMAKE_CUDA_ARCHITECTURES=80;90 (or native) overrides.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES OR CMAKE_CUDA_ARCHITECTURES STREQUAL "")
  set(CMAKE_CUDA_ARCHITECTURES 90 CACHE STRING "CUDA architectures to compile for")
endif()
enable_language(CUDA)
find_package(CUDAToolkit)
if(NOT CUDAToolkit_FOUND)
  if(_vt_cuda_required)
    message(FATAL_ERROR "VT_CUDA=on but the CUDA toolkit (cudart) was not found next to ${CMAKE_CUDA_COMPILER}")
  endif()
  message(STATUS "vibetensor: nvcc found but not the CUDA toolkit; building the CPU-only backend")
  set(VT_HAVE_CUDA OFF)
  return()
endif()
set(VT_HAVE_CUDA ON)
message(STATUS "vibetensor: CUDA backend ON (CUDA ${CUDAToolkit_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES})")

# ---- cuBLAS (optional) --------------------------------------------------------------------------
set(VT_HAVE_CUBLAS OFF)
if(TARGET CUDA::cublas AND TARGET CUDA::cublasLt AND EXISTS "${CUDAToolkit_INCLUDE_DIRS}/cublas_v2.h")
  set(VT_HAVE_CUBLAS ON)
  set(_vt_cublas_libs CUDA::cublas CUDA::cublasLt)
  get_target_property(_vt_cublas_loc CUDA::cublas IMPORTED_LOCATION)
  get_filename_component(_vt_cublas_libdir "${_vt_cublas_loc}" DIRECTORY)
else()
  # The nvidia-cublas wheel: <site-packages>/nvidia/cu13/{include,lib} (versioned .so only).
  set(_vt_cublas_hints ${VT_CUBLAS_ROOT} $ENV{VT_CUBLAS_ROOT})
  execute_process(COMMAND "${Python_EXECUTABLE}" -c
    "import nvidia, os; [print(os.path.join(p, d)) for p in nvidia.__path__ for d in ('cu13', 'cublas')]"
    OUTPUT_VARIABLE _vt_py_cublas OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  string(REPLACE "\n" ";" _vt_py_cublas "${_vt_py_cublas}")
  list(APPEND _vt_cublas_hints ${_vt_py_cublas})
  find_path(VT_CUBLAS_INCLUDE_DIR cublas_v2.h HINTS ${_vt_cublas_hints} PATH_SUFFIXES include NO_DEFAULT_PATH)
  find_library(VT_CUBLAS_LIBRARY NAMES cublas libcublas.so.13 libcublas.so.12 HINTS ${_vt_cublas_hints}
               PATH_SUFFIXES lib lib64 NO_DEFAULT_PATH)
  find_library(VT_CUBLASLT_LIBRARY NAMES cublasLt libcublasLt.so.13 libcublasLt.so.12 HINTS ${_vt_cublas_hints}
               PATH_SUFFIXES lib lib64 NO_DEFAULT_PATH)
  if(VT_CUBLAS_INCLUDE_DIR AND VT_CUBLAS_LIBRARY AND VT_CUBLASLT_LIBRARY)
    set(VT_HAVE_CUBLAS ON)
    add_library(vt_cublas INTERFACE)
    target_include_directories(vt_cublas INTERFACE ${VT_CUBLAS_INCLUDE_DIR})
    target_link_libraries(vt_cublas INTERFACE ${VT_CUBLAS_LIBRARY} ${VT_CUBLASLT_LIBRARY})
    set(_vt_cublas_libs vt_cublas)
    get_filename_component(_vt_cublas_libdir "${VT_CUBLAS_LIBRARY}" DIRECTORY)
  endif()
endif()
if(VT_HAVE_CUBLAS)
  message(STATUS "vibetensor: cuBLAS found (${_vt_cublas_libdir}): CUDA matmul kernels are built")
else()
  message(STATUS "vibetensor: cuBLAS NOT found: building WITHOUT CUDA matmul kernels (csrc/ops/cuda/blas_*.cu); "
                 "install the toolkit's cuBLAS or `pip install nvidia-cublas`, or set VT_CUBLAS_ROOT")
endif()

# ---- CUPTI headers (optional) -------------------------------------------------------------------
find_path(VT_CUPTI_INCLUDE cupti_activity.h
          HINTS ${CUDAToolkit_INCLUDE_DIRS} "${CUDAToolkit_LIBRARY_ROOT}" /usr/local/cuda ENV CUDA_HOME
          PATH_SUFFIXES include extras/CUPTI/include)
if(VT_CUPTI_INCLUDE)
  message(STATUS "vibetensor: CUPTI headers found (${VT_CUPTI_INCLUDE}): the native GPU activity collector is built")
else()
  message(STATUS "vibetensor: CUPTI headers NOT found: building WITHOUT the native GPU activity collector "
                 "(vibetensor.probes.cupti falls back to cupti-python)")
endif()

# ---- sources ------------------------------------------------------------------------------------
file(GLOB VT_CUDA_CXX_SOURCES CONFIGURE_DEPENDS csrc/cuda/*.cpp csrc/alloc/*.cpp csrc/cuda/graph/*.cpp)
file(GLOB VT_CUDA_CU_SOURCES CONFIGURE_DEPENDS csrc/cuda/*.cu csrc/ops/cuda/*.cu)
if(NOT VT_HAVE_CUBLAS)
  list(FILTER VT_CUDA_CU_SOURCES EXCLUDE REGEX "/csrc/ops/cuda/blas_[^/]*\\.cu$")
endif()

set(_vt_cuda_defs VT_CUDA=1)
if(VT_PROBES)
  list(APPEND _vt_cuda_defs VT_PROBES=1)
endif()
if(VT_HAVE_CUBLAS)
  list(APPEND _vt_cuda_defs VT_HAVE_CUBLAS=1)
endif()

add_library(vt_cuda_kernels OBJECT ${VT_CUDA_CU_SOURCES})
set_target_properties(vt_cuda_kernels PROPERTIES
  POSITION_INDEPENDENT_CODE ON CUDA_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden)
# C++20 for nvcc. CMake < 3.26 does not know nvcc's C++20 flag (and CUDA_STANDARD defaults to
# CXX_STANDARD, 20): tell it.
if(NOT DEFINED CMAKE_CUDA20_STANDARD_COMPILE_OPTION OR CMAKE_CUDA20_STANDARD_COMPILE_OPTION STREQUAL "")
  set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
  set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
endif()
set_target_properties(vt_cuda_kernels PROPERTIES CUDA_STANDARD 20 CUDA_STANDARD_REQUIRED ON CUDA_EXTENSIONS OFF)
target_include_directories(vt_cuda_kernels PRIVATE csrc)
target_compile_definitions(vt_cuda_kernels PRIVATE ${_vt_cuda_defs})
# --expt-relaxed-constexpr: device code may call constexpr host functions (std::numeric_limits).
# No fast math: the CUDA kernels must give the CPU kernels' results (see ops/cuda/math.cuh).
target_compile_options(vt_cuda_kernels PRIVATE -O3 --expt-relaxed-constexpr -Xcompiler=-fno-math-errno)
target_link_libraries(vt_cuda_kernels PRIVATE CUDA::cudart_static)
if(VT_HAVE_CUBLAS)
  target_link_libraries(vt_cuda_kernels PRIVATE ${_vt_cublas_libs})
endif()

foreach(_vt_target IN LISTS VT_CORE_TARGETS)  # the Python module, and the Node.js addon with VT_NODE
  target_sources(${_vt_target} PRIVATE ${VT_CUDA_CXX_SOURCES} $<TARGET_OBJECTS:vt_cuda_kernels>)
  target_compile_definitions(${_vt_target} PRIVATE VT_CUDA=1)
  target_link_libraries(${_vt_target} PRIVATE CUDA::cudart_static)
  if(VT_CUPTI_INCLUDE)
    # Only the collector's own file sees the headers and the definition (the rest of the module does not
    # change with it, nor rebuild).
    set_property(SOURCE csrc/probes/cupti_activity.cpp APPEND PROPERTY INCLUDE_DIRECTORIES ${VT_CUPTI_INCLUDE})
    set_property(SOURCE csrc/probes/cupti_activity.cpp APPEND PROPERTY COMPILE_DEFINITIONS VT_HAVE_CUPTI=1)
    target_link_libraries(${_vt_target} PRIVATE ${CMAKE_DL_LIBS})
  endif()
  if(VT_HAVE_CUBLAS)
    target_compile_definitions(${_vt_target} PRIVATE VT_HAVE_CUBLAS=1)
    target_link_libraries(${_vt_target} PRIVATE ${_vt_cublas_libs})
    # The wheel's and some toolkits' library folders are not on the loader path.
    set_property(TARGET ${_vt_target} APPEND PROPERTY BUILD_RPATH "${_vt_cublas_libdir}")
    set_property(TARGET ${_vt_target} APPEND PROPERTY INSTALL_RPATH "${_vt_cublas_libdir}")
  endif()
endforeach()
