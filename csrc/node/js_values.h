#pragma once
// JavaScript values as an op's boxed arguments (by its schema) and its results as JavaScript values.
// See Note [Node frontend] in node/addon.cpp.
#include <node_api.h>

#include "dispatch/dispatcher.h"

namespace vt::node {

// The Stack for a call of `op`: argv are its arguments in schema order; when more schema arguments
// remain, a last argument that is a plain object (not a Tensor, not an array) gives them by name
// ({dim: [1], keepdim: true}); the rest take their defaults. Conversions: Tensor (a number becomes a
// 0-d wrapped scalar, as a Python number does), Tensor[] (an array), int (an integer number or a
// BigInt), int[] (an array or one int), float, bool, Scalar (a number is a float, a BigInt an int, a
// boolean a bool), ScalarType ("float32", ...), Device ("cpu", "cuda:0"), str; null or undefined for
// an optional argument is None. A TypeError names the op, the argument and what was expected.
Stack stack_of(napi_env env, const OperatorEntry& op, const napi_value* argv, size_t argc);

// The results of a finished call (the Stack after call_boxed): one value, or an array for several;
// undefined for "-> ()".
napi_value results_of(napi_env env, const OperatorEntry& op, Stack& stack);

DimVector int_list_of(napi_env env, napi_value v, const char* what);

}  // namespace vt::node
