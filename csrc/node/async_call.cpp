// See async_call.h.
#include "node/async_call.h"

#include <memory>

#include "core/grad_mode.h"
#include "node/js_tensor.h"
#include "node/napi_util.h"

namespace vt::node {
namespace {

struct AsyncCall {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  Instance* inst = nullptr;
  bool grad_enabled = true;
  std::function<void()> run;
  std::function<napi_value(napi_env)> settle;
  std::exception_ptr error;
};

void execute(napi_env, void* data) {
  auto* c = static_cast<AsyncCall*>(data);
  AutoGradMode mode(c->grad_enabled);  // the JS thread's no_grad reaches its async ops
  try {
    c->run();
  } catch (...) {
    c->error = std::current_exception();
  }
}

void complete(napi_env env, napi_status status, void* data) {
  auto* c = static_cast<AsyncCall*>(data);
  c->inst->in_flight.fetch_sub(1, std::memory_order_relaxed);
  napi_value result = nullptr;
  if (!c->error && status == napi_ok) {
    try {
      result = c->settle(env);
    } catch (...) {
      c->error = std::current_exception();
    }
  }
  if (c->error) {
    napi_reject_deferred(env, c->deferred, error_value(env, c->error));
  } else if (status != napi_ok) {
    napi_value msg, err;
    napi_create_string_utf8(env, "vibetensor: the async work was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, nullptr, msg, &err);
    napi_reject_deferred(env, c->deferred, err);
  } else {
    napi_resolve_deferred(env, c->deferred, result);
  }
  napi_delete_async_work(env, c->work);
  delete c;  // releases the call's tensors on the JS thread
}

}  // namespace

napi_value error_value(napi_env env, std::exception_ptr e) {
  napi_value msg, err;
  std::string text = "vibetensor: unknown C++ exception";
  ErrorKind kind = ErrorKind::Runtime;
  try {
    std::rethrow_exception(e);
  } catch (const vt::Error& x) {
    text = x.what();
    kind = x.kind();
  } catch (const std::exception& x) {
    text = x.what();
  } catch (...) {
  }
  napi_create_string_utf8(env, text.data(), text.size(), &msg);
  if (kind == ErrorKind::Type) napi_create_type_error(env, nullptr, msg, &err);
  else if (kind == ErrorKind::Value || kind == ErrorKind::Index) napi_create_range_error(env, nullptr, msg, &err);
  else napi_create_error(env, nullptr, msg, &err);
  return err;
}

napi_value start_async(napi_env env, const char* name, std::function<void()> work,
                       std::function<napi_value(napi_env)> settle) {
  Instance& inst = instance(env);
  napi_value promise;
  napi_deferred deferred;
  VT_NAPI(env, napi_create_promise(env, &deferred, &promise));
  const int before = inst.in_flight.fetch_add(1, std::memory_order_relaxed);
  if (before >= inst.max_in_flight) {
    inst.in_flight.fetch_sub(1, std::memory_order_relaxed);
    napi_value err = error_value(env, std::make_exception_ptr(vt::Error(
        ErrorKind::Value, std::string(name) + ": " + std::to_string(before) + " async operations are in flight, the "
        "cap (VT_NODE_MAX_INFLIGHT or setMaxInFlight) is " + std::to_string(inst.max_in_flight) +
        "; await some before starting more")));
    VT_NAPI(env, napi_reject_deferred(env, deferred, err));
    return promise;
  }
  napi_value resource_name;
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name) != napi_ok) resource_name = nullptr;
  auto c = std::make_unique<AsyncCall>(
      AsyncCall{nullptr, deferred, &inst, GradMode::is_enabled(), std::move(work), std::move(settle), nullptr});
  bool created = resource_name &&
                 napi_create_async_work(env, nullptr, resource_name, execute, complete, c.get(), &c->work) == napi_ok;
  if (!created || napi_queue_async_work(env, c->work) != napi_ok) {
    if (created) napi_delete_async_work(env, c->work);
    inst.in_flight.fetch_sub(1, std::memory_order_relaxed);
    napi_reject_deferred(env, deferred, error_value(env, std::make_exception_ptr(
        NapiError(std::string(name) + ": could not start the async work"))));
    return promise;
  }
  c.release();  // complete() deletes it
  return promise;
}

}  // namespace vt::node
