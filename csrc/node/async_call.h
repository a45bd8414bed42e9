#pragma once
// Work started from JavaScript that runs on a libuv worker thread and settles a Promise on the JS
// thread, under the cap on work in flight. See Note [Node frontend] in node/addon.cpp.
#include <node_api.h>

#include <exception>
#include <functional>

#include "dispatch/ivalue.h"

namespace vt::node {

// Runs `work` (no JavaScript access: it runs on a worker) with the grad mode the JS thread has now,
// then resolves the returned Promise with settle(env) on the JS thread, or rejects it with the
// exception `work` or `settle` threw. Over the cap, the Promise is rejected at once with a RangeError
// saying how many are in flight (Note [Node frontend]: async calls are refused, not queued).
napi_value start_async(napi_env env, const char* name, std::function<void()> work,
                       std::function<napi_value(napi_env)> settle);

// The JS Error object (TypeError, RangeError or Error) of an exception, as throw_current throws it.
napi_value error_value(napi_env env, std::exception_ptr e);

}  // namespace vt::node
