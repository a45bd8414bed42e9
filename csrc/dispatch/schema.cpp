#include "dispatch/schema.h"

#include <cctype>
#include <sstream>

#include "core/error.h"

namespace vt {

namespace {
std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// Splits on commas not inside brackets.
std::vector<std::string> split_top(const std::string& s) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : s) {
    if (c == '[' || c == '(') depth++;
    if (c == ']' || c == ')') depth--;
    if (c == ',' && depth == 0) { out.push_back(trim(cur)); cur.clear(); continue; }
    cur += c;
  }
  if (!trim(cur).empty()) out.push_back(trim(cur));
  return out;
}

DType parse_dtype_name(const std::string& s) {
  for (int i = 0; i < kNumDTypes; ++i)
    if (dtype_name(DType(i)) == s) return DType(i);
  detail::throw_error(ErrorKind::Value, "unknown dtype '", s, "' in schema default");
}

IValue parse_default(const std::string& type, const std::string& text, const std::string& schema) {
  if (text == "None") return IValue();
  std::string base = type.back() == '?' ? type.substr(0, type.size() - 1) : type;
  if (base == "bool") return IValue(text == "True");
  if (base == "int") return IValue(int64_t(std::stoll(text)));
  if (base == "float") return IValue(std::stod(text));
  if (base == "Scalar") {
    if (text.find_first_of(".eE") != std::string::npos) return IValue(Scalar(std::stod(text)));
    if (text == "True" || text == "False") return IValue(Scalar(text == "True"));
    return IValue(Scalar(int64_t(std::stoll(text))));
  }
  if (base == "int[]") {
    IntList l;
    std::string inner = trim(text.substr(1, text.size() - 2));
    for (auto& p : split_top(inner)) l.push_back(std::stoll(p));
    return IValue(l);
  }
  if (base == "ScalarType") return IValue(parse_dtype_name(text));
  if (base == "str") return IValue(text.size() >= 2 ? text.substr(1, text.size() - 2) : text);
  detail::throw_error(ErrorKind::Value, "schema '", schema, "': cannot parse default '", text, "' for type ", type);
}
}  // namespace

Schema Schema::parse(const std::string& text) {
  Schema s;
  s.text = text;
  size_t lp = text.find('('), arrow = text.rfind("->");
  VT_CHECK_VALUE(lp != std::string::npos && arrow != std::string::npos && arrow > lp,
                 "malformed schema '", text, "': expected 'ns::name(args) -> returns'");
  size_t rp = text.rfind(')', arrow);
  s.name = trim(text.substr(0, lp));
  bool kwonly = false;
  for (auto& a : split_top(text.substr(lp + 1, rp - lp - 1))) {
    if (a == "*") { kwonly = true; continue; }
    SchemaArg arg;
    std::string decl = a, def;
    size_t eq = a.find('=');
    if (eq != std::string::npos) { decl = trim(a.substr(0, eq)); def = trim(a.substr(eq + 1)); }
    size_t sp = decl.rfind(' ');
    VT_CHECK_VALUE(sp != std::string::npos, "malformed argument '", a, "' in schema '", text, "'");
    arg.type = trim(decl.substr(0, sp));
    arg.name = trim(decl.substr(sp + 1));
    arg.kwarg_only = kwonly;
    if (eq != std::string::npos) { arg.has_default = true; arg.default_value = parse_default(arg.type, def, text); }
    s.args.push_back(std::move(arg));
  }
  std::string ret = trim(text.substr(arrow + 2));
  if (ret.front() == '(') {
    for (auto& r : split_top(ret.substr(1, ret.size() - 2))) s.returns.push_back(r);
  } else {
    s.returns.push_back(ret);
  }
  return s;
}

std::string Schema::returns_type() const {
  if (returns.empty()) return "()";
  if (returns.size() == 1) return returns[0];
  std::string r = "(";
  for (size_t i = 0; i < returns.size(); ++i) r += (i ? ", " : "") + returns[i];
  return r + ")";
}

}  // namespace vt
