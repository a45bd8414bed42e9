// The kernel suite's C++ side exposed to Python: compilers registered from vibetensor.kernels, the
// report of which backend ran what, and a launch plan for the CPU-side tests of argument packing,
// specialization and caching. See Note [Kernel suite launch path] in ops/suite/launch.h.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "core/error.h"
#include "ops/matmul_geometry.h"
#include "ops/suite/attention_blocks.h"
#include "ops/suite/families.h"
#include "ops/suite/launch.h"
#include "ops/suite/row_config.h"
#include "ops/suite/spec_table.h"
#include "policy/catalogue.h"
#include "python/bindings.h"
#include "python/thread_gil.h"

namespace vt::python {
namespace {

suite::Backend backend_of(const std::string& name) {
  int i = policy::kernels_backend.index_of(name);
  VT_CHECK_VALUE(i > 0, "kernel suite: expected a suite backend of kernels.backend (not native), got '", name, "'");
  return suite::Backend(i);
}

// Calls the Python compiler with the GIL; its failure becomes one RuntimeError message, so it can
// cross threads (a backward worker) as a C++ error.
suite::Compiler wrap_compiler(nb::object fn) {
  auto held = std::make_shared<nb::object>(std::move(fn));
  return [held](const suite::CompileRequest& r) {
    EngineGil gil;  // Note [Engine threads and Python thread states]
    try {
      nb::dict d;
      d["backend"] = r.backend;
      d["family"] = r.family;
      d["kernel"] = r.kernel;
      d["signature"] = r.signature;
      d["constants"] = r.constants;
      d["warps"] = r.warps;
      d["stages"] = r.stages;
      d["capability"] = std::make_pair(r.cc_major, r.cc_minor);
      d["aligned"] = r.aligned;
      nb::dict out = nb::cast<nb::dict>((*held)(d));
      suite::CompiledImage img;
      nb::bytes image = nb::cast<nb::bytes>(out["image"]);
      img.image.assign(image.c_str(), image.size());
      img.symbol = nb::cast<std::string>(out["symbol"]);
      img.shared_bytes = nb::cast<int>(out["shared_bytes"]);
      img.warps = nb::cast<int>(out["warps"]);
      img.global_scratch_bytes = nb::cast<int64_t>(out["global_scratch_bytes"]);
      img.profile_scratch_bytes = nb::cast<int64_t>(out["profile_scratch_bytes"]);
      return img;
    } catch (nb::python_error& e) {
      std::string msg = nb::cast<std::string>(nb::str(e.value()));
      e.restore();
      PyErr_Clear();
      VT_CHECK(false, msg);
    } catch (const nb::cast_error&) {
      VT_CHECK(false, "kernel suite: the ", r.backend, " compiler of ", r.kernel, " returned a result without the "
               "keys image (bytes), symbol, shared_bytes, warps, global_scratch_bytes, profile_scratch_bytes");
    }
    return suite::CompiledImage{};
  };
}

// What the Python launcher receives (Note [Python kernel launch]): args as (kind, value, dtype)
// with kind "ptr" (value: the address), "i32", "i64" (value: int) or "f32" (value: float).
nb::dict python_launch_dict(const suite::PythonLaunch& r) {
  nb::dict d;
  d["backend"] = r.backend;
  d["family"] = r.family;
  d["kernel"] = r.kernel;
  nb::list args;
  for (const suite::PythonLaunchArg& a : r.args) {
    switch (a.kind) {
      case suite::Arg::ptr: args.append(nb::make_tuple("ptr", a.bits, a.dtype)); break;
      case suite::Arg::i32: {
        int32_t v;
        std::memcpy(&v, &a.bits, sizeof v);
        args.append(nb::make_tuple("i32", int64_t(v), ""));
        break;
      }
      case suite::Arg::i64: {
        int64_t v;
        std::memcpy(&v, &a.bits, sizeof v);
        args.append(nb::make_tuple("i64", v, ""));
        break;
      }
      case suite::Arg::f32: {
        float v;
        std::memcpy(&v, &a.bits, sizeof v);
        args.append(nb::make_tuple("f32", double(v), ""));
        break;
      }
    }
  }
  d["args"] = args;
  d["constants"] = r.constants;
  d["warps"] = r.warps;
  d["stages"] = r.stages;
  d["device"] = r.device;
  d["grid"] = nb::make_tuple(r.grid[0], r.grid[1], r.grid[2]);
  d["stream"] = uint64_t(r.stream);
  d["aligned"] = r.aligned;
  return d;
}

// Calls the Python launcher with the GIL; its failure becomes one RuntimeError message.
suite::PythonLauncher wrap_launcher(nb::object fn) {
  auto held = std::make_shared<nb::object>(std::move(fn));
  return [held](const suite::PythonLaunch& r) {
    EngineGil gil;  // Note [Engine threads and Python thread states]
    try {
      (*held)(python_launch_dict(r));
    } catch (nb::python_error& e) {
      std::string msg = nb::cast<std::string>(nb::str(e.value()));
      e.restore();
      PyErr_Clear();
      VT_CHECK(false, "kernel suite: the Python launch of ", r.kernel, " failed: ", msg);
    }
  };
}

// Declarations made by tests through _suite_plan live for the process, like the ops' own.
std::mutex g_test_decls_mutex;
std::map<std::string, std::unique_ptr<suite::KernelDecl>> g_test_decls;

const suite::KernelDecl& test_decl(const std::string& family, const std::string& name,
                                   const std::vector<std::pair<std::string, std::string>>& params,
                                   const std::vector<std::string>& constants) {
  static const std::map<std::string, suite::Arg> kinds{
      {"ptr", suite::Arg::ptr}, {"i32", suite::Arg::i32}, {"i64", suite::Arg::i64}, {"f32", suite::Arg::f32}};
  std::lock_guard<std::mutex> g(g_test_decls_mutex);
  auto& slot = g_test_decls[family + "/" + name];
  if (!slot) {
    auto* strings = new std::vector<std::string>;  // the declaration's names, kept for the process
    strings->reserve(2 + params.size() + constants.size());
    auto keep = [&](const std::string& s) { strings->push_back(s); return strings->back().c_str(); };
    std::vector<suite::Param> ps;
    for (auto& [p, kind] : params) {
      auto it = kinds.find(kind);
      VT_CHECK_VALUE(it != kinds.end(), "kernel suite: parameter kind must be ptr, i32, i64 or f32, got '", kind, "'");
      ps.push_back({keep(p), it->second});
    }
    std::vector<const char*> cs;
    for (auto& c : constants) cs.push_back(keep(c));
    const char* fam = keep(family);
    const char* nm = keep(name);
    slot = std::make_unique<suite::KernelDecl>(fam, nm, std::move(ps), std::move(cs), /*builtin=*/false);
  }
  return *slot;
}

}  // namespace

void bind_suite(nb::module_& m) {
  m.def("_suite_set_compiler", [](const std::string& backend, nb::object fn, std::vector<std::string> families) {
    suite::set_compiler(backend_of(backend), fn.is_none() ? suite::Compiler{} : wrap_compiler(std::move(fn)),
                        std::move(families));
  }, nb::arg("backend"), nb::arg("compiler").none(), nb::arg("families") = std::vector<std::string>{});
  // What an op of `family` would run now (recording a fallback as the op would).
  m.def("_suite_backend_for", [](const std::string& family) {
    return std::string(suite::backend_name(suite::backend_for(family.c_str())));
  });
  m.def("_suite_set_family_backend", [](const std::string& family, std::optional<std::string> backend) {
    std::optional<suite::Backend> b;
    if (backend) {  // native is a valid choice here: the family runs its native kernels
      int i = policy::kernels_backend.index_of(*backend);
      VT_CHECK_VALUE(i >= 0, "kernel suite: unknown backend '", *backend, "'");
      b = suite::Backend(i);
    }
    suite::set_family_backend(family, b);
  }, nb::arg("family"), nb::arg("backend").none());
  m.def("_suite_family_backends", &suite::family_backends);
  m.def("_suite_has_compiler", [](const std::string& backend) { return suite::has_compiler(backend_of(backend)); });
  m.def("_suite_set_python_launcher", [](nb::object fn) {
    suite::set_python_launcher(fn.is_none() ? suite::PythonLauncher{} : wrap_launcher(std::move(fn)));
  }, nb::arg("launcher").none());
  m.def("_suite_has_python_launcher", &suite::has_python_launcher);
  // Every declaration built into the module: (family, kernel, [(parameter, kind)], [constexpr]).
  m.def("_suite_declarations", [] {
    static const char* kind_names[] = {"ptr", "i32", "i64", "f32"};
    nb::list l;
    for (const suite::KernelDecl* k : suite::declarations()) {
      if (!k->builtin) continue;
      nb::list params, constants;
      for (const suite::Param& p : k->params) params.append(nb::make_tuple(p.name, kind_names[int(p.kind)]));
      for (const char* c : k->constants) constants.append(c);
      l.append(nb::make_tuple(k->family, k->name, params, constants));
    }
    return l;
  });
  // How the kernels.scope=all families would launch (ops/suite/families.h), for tests that run the Python
  // kernels under Triton's interpreter with these arguments.
  m.def("_suite_matmul_plan", [](const Tensor& a, const Tensor& b) {
    suite::MatmulPlan P = suite::plan_matmul(a, b, matmul::plan(a, b));
    nb::dict d;
    d["ok"] = P.ok;
    d["why"] = std::string(P.why);
    if (!P.ok) return d;
    d["m"] = P.m, d["n"] = P.n, d["k"] = P.k, d["batches"] = P.batches, d["grid_x"] = P.grid_x;
    d["strides"] = std::vector<int64_t>(std::begin(P.strides), std::end(P.strides));
    d["PRECISION"] = P.precision, d["A_UNIT"] = P.a_unit, d["B_UNIT"] = P.b_unit, d["BLOCK_M"] = P.block_m;
    d["BLOCK_N"] = P.block_n, d["BLOCK_K"] = P.block_k, d["GROUP_M"] = P.group_m, d["num_warps"] = P.warps, d["num_stages"] = P.stages;
    return d;
  });
  // The optim family's chunk table (Note [Chunk table]): its rows as a list and whether every address is
  // 16-byte aligned, for tests that run the interpreted kernels on it.
  m.def("_suite_chunk_table", [](const std::vector<TensorList>& lists, int64_t chunk) {
    std::vector<const TensorList*> ptrs;
    for (const TensorList& l : lists) ptrs.push_back(&l);
    VT_CHECK_VALUE(!ptrs.empty(), "_suite_chunk_table: expected at least one tensor list");
    suite::ChunkTable t = suite::chunk_table(ptrs, chunk);
    nb::dict d;
    d["rows"] = t.rows;
    d["n_rows"] = t.n_rows;
    d["aligned"] = t.aligned;
    return d;
  }, nb::arg("lists"), nb::arg("chunk") = suite::kOptimChunk);
  m.def("_suite_elementwise_plan", [](const Tensor& out, std::optional<Tensor> x, std::optional<Tensor> y) {
    suite::ElementwisePlan P = suite::plan_elementwise(out, x ? *x : Tensor(), y ? *y : Tensor());
    nb::dict d;
    d["ok"] = P.ok;
    d["why"] = std::string(P.why);
    d["FLAT"] = P.flat;
    d["sizes"] = std::vector<int64_t>(std::begin(P.sizes), std::end(P.sizes));
    std::vector<int64_t> strides;
    for (auto& s : P.strides) strides.insert(strides.end(), std::begin(s), std::end(s));
    d["strides"] = strides;
    return d;
  }, nb::arg("out"), nb::arg("x").none(), nb::arg("y").none());
  // The C++ mirror of kernels/triton's row_config / persistent_programs (tests compare the two).
  m.def("_suite_row_config", [](int64_t n_cols) {
    suite::RowConfig c = suite::row_config(n_cols);
    nb::dict d;
    d["ROWS"] = c.rows;
    d["BLOCK"] = c.block;
    d["SINGLE"] = c.single;
    d["num_warps"] = c.warps;
    return d;
  });
  m.def("_suite_persistent_row_config", [](int64_t n_rows, int64_t n_cols, int n_sms) {
    suite::PersistentConfig c = suite::persistent_row_config(n_rows, n_cols, n_sms);
    nb::dict d;
    d["ROWS"] = c.row.rows;
    d["BLOCK"] = c.row.block;
    d["SINGLE"] = c.row.single;
    d["num_warps"] = c.row.warps;
    d["n_programs"] = c.programs;
    return d;
  });
  // The C++ mirror of kernels/triton/attention.py's config_* (tests compare the two).
  m.def("_suite_attention_blocks", [](const std::string& kernel, int64_t T, int64_t D, int bytes, bool causal) {
    suite::AttentionBlocks b;
    if (kernel == "attn_fwd") b = suite::attn_fwd_blocks(T, D, bytes, causal);
    else if (kernel == "attn_bwd_pre") b = suite::attn_bwd_pre_blocks();
    else if (kernel == "attn_bwd_dkdv") b = suite::attn_bwd_dkdv_blocks(T, D, bytes, causal);
    else if (kernel == "attn_bwd_dq") b = suite::attn_bwd_dq_blocks(T, D, bytes);
    else VT_CHECK_VALUE(false, "_suite_attention_blocks: unknown kernel '", kernel,
                        "', expected attn_fwd, attn_bwd_pre, attn_bwd_dkdv or attn_bwd_dq");
    if (kernel == "attn_bwd_pre") return nb::make_tuple(b.m, b.warps, b.stages);
    return nb::make_tuple(b.m, b.n, b.warps, b.stages);
  });
  m.def("_suite_report", [] {
    nb::list l;
    for (const suite::FamilyReport& r : suite::report()) {
      nb::dict d;
      d["family"] = r.family;
      d["backend"] = r.backend;
      d["fallback"] = r.reason;
      d["count"] = r.count;
      d["launch"] = r.launch;
      l.append(d);
    }
    return l;
  });
  m.def("_suite_reset_report", &suite::reset_report);
  m.def("_suite_compile_pending", &suite::compile_pending);
  m.def("_suite_pending_count", &suite::pending_count);
  // A launch built as an op builds it, resolved (compiled on a miss) but not launched: tests of the
  // argument buffer, the specialization key and the table on any machine.
  m.def("_suite_plan", [](const std::string& family, const std::string& name,
                          const std::vector<std::pair<std::string, std::string>>& params,
                          const std::vector<std::string>& constants, nb::list args, std::vector<int64_t> values,
                          int warps, std::vector<int64_t> grid, int repeat) {
    const suite::KernelDecl& k = test_decl(family, name, params, constants);
    VT_CHECK_VALUE(args.size() == k.params.size(), "_suite_plan: ", k.params.size(), " arguments expected, got ",
                   args.size());
    Tensor like;
    for (nb::handle a : args)
      if (nb::isinstance<Tensor>(a)) { like = nb::cast<Tensor>(a); break; }
    suite::Launch l(k, like.defined() ? like : Tensor());
    for (size_t i = 0; i < k.params.size(); ++i) {
      nb::handle a = args[i];
      switch (k.params[i].kind) {
        case suite::Arg::ptr:
          if (a.is_none()) l.null(DType::Float32); else l.ptr(nb::cast<Tensor>(a));
          break;
        case suite::Arg::i32: l.i32(nb::cast<int64_t>(a)); break;
        case suite::Arg::i64: l.i64(nb::cast<int64_t>(a)); break;
        case suite::Arg::f32: l.f32(nb::cast<double>(a)); break;
      }
    }
    for (int64_t v : values) l.constant(v);
    l.warps(warps);
    int before = k.table.size();
    const suite::Compiled* c = l.resolve();
    nb::dict d;
    if (!grid.empty()) {  // launch `repeat` times from C++ and time the launcher alone
      VT_CHECK_VALUE(grid.size() == 3, "_suite_plan: grid must be [x, y, z], got ", grid.size(), " numbers");
      double dt;
      {
        nb::gil_scoped_release release;
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < repeat; ++i) suite::Launch(l).run(grid[0], grid[1], grid[2]);
        dt = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
      }
      d["ns_per_launch"] = repeat > 0 ? dt / repeat : 0.0;
    }
    nb::list slots;
    for (int i = 0; i < l.filled(); ++i) slots.append(l.slots()[i]);
    d["slots"] = slots;
    d["compiled_now"] = k.table.size() > before;
    d["specializations"] = k.table.size();
    d["symbol"] = c ? nb::cast(c->symbol) : nb::none();
    d["image_bytes"] = c ? c->image_bytes : 0;
    d["threads"] = c ? c->threads : 0;
    d["aligned"] = bool(l.key().aligned);
    // what kernels.launch=python would hand to the Python launcher for this launch (grid as given)
    d["python_request"] = python_launch_dict(
        l.python_request(grid.size() == 3 ? grid[0] : 1, grid.size() == 3 ? grid[1] : 1, grid.size() == 3 ? grid[2] : 1, 0));
    return d;
  }, nb::arg("family"), nb::arg("name"), nb::arg("params"), nb::arg("constants"), nb::arg("args"),
     nb::arg("values"), nb::arg("warps") = 4, nb::arg("grid") = std::vector<int64_t>{}, nb::arg("repeat") = 1);
}

}  // namespace vt::python
