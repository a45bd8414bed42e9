// See js_values.h.
#include "node/js_values.h"

#include <cmath>

#include "node/js_tensor.h"
#include "node/napi_util.h"
#include "ops/ops.h"

namespace vt::node {
namespace {

[[noreturn]] void bad(const std::string& op, const SchemaArg& a, const char* expected) {
  detail::throw_error(ErrorKind::Type, op, ": argument '", a.name, "' must be ", expected);
}

bool is_array(napi_env env, napi_value v) {
  bool r = false;
  VT_NAPI(env, napi_is_array(env, v, &r));
  return r;
}

bool is_nullish(napi_env env, napi_value v) {
  napi_valuetype t = type_of(env, v);
  return t == napi_null || t == napi_undefined;
}

int64_t int_of(napi_env env, napi_value v, const char* what) {
  napi_valuetype t = type_of(env, v);
  if (t == napi_bigint) {
    int64_t r;
    bool lossless;
    VT_NAPI(env, napi_get_value_bigint_int64(env, v, &r, &lossless));
    VT_CHECK_VALUE(lossless, what, " does not fit in int64");
    return r;
  }
  double d = number_of(env, v, what);
  VT_CHECK_TYPE(std::isfinite(d) && d == std::floor(d), what, " must be an integer, got ", d);
  VT_CHECK_VALUE(std::fabs(d) <= 9007199254740992.0, what, " ", d, " is beyond the integers a number holds exactly "
                 "(use a BigInt)");
  return int64_t(d);
}

DType dtype_named(const std::string& s, const std::string& op) {
  static const std::pair<const char*, DType> names[] = {
      {"float32", DType::Float32}, {"float", DType::Float32},   {"float64", DType::Float64}, {"double", DType::Float64},
      {"float16", DType::Float16}, {"half", DType::Float16},    {"bfloat16", DType::BFloat16}, {"int64", DType::Int64},
      {"long", DType::Int64},      {"int32", DType::Int32},     {"int", DType::Int32},       {"bool", DType::Bool}};
  for (const auto& [n, d] : names)
    if (s == n) return d;
  detail::throw_error(ErrorKind::Type, op, ": unknown dtype '", s, "' (expected float32, float64, float16, bfloat16, "
                      "int64, int32 or bool)");
}

IValue value_of(napi_env env, napi_value v, const SchemaArg& a, const std::string& op) {
  std::string type = a.type;
  if (type.ends_with("?")) {
    if (is_nullish(env, v)) return IValue();
    type.pop_back();
  }
  const std::string what = op + ": argument '" + a.name + "'";
  if (type == "Tensor") {
    if (is_tensor(env, v)) return IValue(unwrap_tensor(env, v, what.c_str()));
    if (type_of(env, v) == napi_number) return IValue(ops::wrap_scalar(Scalar(number_of(env, v, what.c_str()))));
    bad(op, a, "a Tensor or a number");
  }
  if (type == "Tensor[]") {
    if (!is_array(env, v)) bad(op, a, "an array of Tensors");
    TensorList l;
    for_each_item(env, v, [&](napi_value e) { l.push_back(unwrap_tensor(env, e, what.c_str())); });
    return IValue(std::move(l));
  }
  if (type == "int") return IValue(int_of(env, v, what.c_str()));
  if (type == "int[]") {
    DimVector d = int_list_of(env, v, what.c_str());
    return IValue(IntList(d.begin(), d.end()));
  }
  if (type == "float") return IValue(number_of(env, v, what.c_str()));
  if (type == "bool") return IValue(bool_of(env, v, what.c_str()));
  if (type == "Scalar") {
    switch (type_of(env, v)) {
      case napi_number: return IValue(Scalar(number_of(env, v, what.c_str())));
      case napi_bigint: return IValue(Scalar(int_of(env, v, what.c_str())));
      case napi_boolean: return IValue(Scalar(bool_of(env, v, what.c_str())));
      default: bad(op, a, "a number, a BigInt or a boolean");
    }
  }
  if (type == "ScalarType") return IValue(dtype_named(string_of(env, v, what.c_str()), op));
  if (type == "Device") return IValue(Device::parse(string_of(env, v, what.c_str())));
  if (type == "str") return IValue(string_of(env, v, what.c_str()));
  detail::throw_error(ErrorKind::NotImplemented, op, ": argument '", a.name, "' has type ", a.type,
                      ", which the JavaScript frontend does not convert");
}

bool is_options_object(napi_env env, napi_value v) {
  return type_of(env, v) == napi_object && !is_array(env, v) && !is_tensor(env, v);
}

}  // namespace

DimVector int_list_of(napi_env env, napi_value v, const char* what) {
  DimVector out;
  for_each_item(env, v, [&](napi_value e) { out.push_back(int_of(env, e, what)); });
  return out;
}

Stack stack_of(napi_env env, const OperatorEntry& op, const napi_value* argv, size_t argc) {
  const Schema& s = op.schema;
  const std::string& name = s.name;
  napi_value options = nullptr;
  if (argc > 0 && is_options_object(env, argv[argc - 1])) options = argv[--argc];  // no argument is a plain object
  VT_CHECK_TYPE(argc <= s.args.size(), name, " takes ", s.args.size(), " arguments but ", argc, " were given");
  Stack stack;
  stack.reserve(s.args.size());
  for (size_t i = 0; i < s.args.size(); ++i) {
    const SchemaArg& a = s.args[i];
    napi_value v = i < argc ? argv[i] : nullptr;
    if (!v && options) {
      bool has = false;
      VT_NAPI(env, napi_has_named_property(env, options, a.name.c_str(), &has));
      if (has) VT_NAPI(env, napi_get_named_property(env, options, a.name.c_str(), &v));
    }
    if (v && !(is_nullish(env, v) && a.has_default && !a.type.ends_with("?"))) stack.push_back(value_of(env, v, a, name));
    else if (a.has_default) stack.push_back(a.default_value);
    else detail::throw_error(ErrorKind::Type, name, ": missing argument '", a.name, "' (", a.type, ")");
  }
  if (options) {  // every option must name an argument that was not given positionally
    napi_value keys;
    uint32_t n;
    VT_NAPI(env, napi_get_property_names(env, options, &keys));
    VT_NAPI(env, napi_get_array_length(env, keys, &n));
    for (uint32_t k = 0; k < n; ++k) {
      napi_value key;
      VT_NAPI(env, napi_get_element(env, keys, k, &key));
      std::string kn = string_of(env, key, "an option name");
      size_t i = 0;
      while (i < s.args.size() && s.args[i].name != kn) ++i;
      VT_CHECK_TYPE(i < s.args.size(), name, ": unknown option '", kn, "' (the schema is ", s.text, ")");
      VT_CHECK_TYPE(i >= argc, name, ": argument '", kn, "' given both positionally and as an option");
    }
  }
  return stack;
}

napi_value results_of(napi_env env, const OperatorEntry& op, Stack& stack) {
  auto one = [&](IValue& v) -> napi_value {
    if (v.is<Tensor>()) return wrap_tensor(env, std::move(v.get<Tensor>()));
    if (v.is<TensorList>()) {
      TensorList& l = v.get<TensorList>();
      napi_value a;
      VT_NAPI(env, napi_create_array_with_length(env, l.size(), &a));
      for (size_t i = 0; i < l.size(); ++i) VT_NAPI(env, napi_set_element(env, a, uint32_t(i), wrap_tensor(env, l[i])));
      return a;
    }
    return js_null(env);
  };
  if (op.schema.returns.empty()) return js_undefined(env);
  if (stack.size() == 1) return one(stack[0]);
  napi_value a;
  VT_NAPI(env, napi_create_array_with_length(env, stack.size(), &a));
  for (size_t i = 0; i < stack.size(); ++i) VT_NAPI(env, napi_set_element(env, a, uint32_t(i), one(stack[i])));
  return a;
}

}  // namespace vt::node
