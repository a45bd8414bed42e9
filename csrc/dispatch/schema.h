#pragma once
// Op schemas: "vt::add(Tensor self, Tensor other, Scalar alpha=1) -> Tensor".
// Parsed once at registration; the Python argument parser and the signature check read it.
#include <string>
#include <vector>

#include "dispatch/ivalue.h"

namespace vt {

struct SchemaArg {
  std::string name;
  std::string type;        // "Tensor", "int[]?", "Scalar", ...
  bool has_default = false;
  IValue default_value;
  bool kwarg_only = false;
};

struct Schema {
  std::string name;        // "vt::add"
  std::vector<SchemaArg> args;
  std::vector<std::string> returns;  // type strings; "Tensor[]" for lists, empty for "()"
  std::string text;

  static Schema parse(const std::string& text);  // ValueError naming the offending part
  std::string returns_type() const;             // "Tensor", "(Tensor, Tensor)", "()" ...
};

}  // namespace vt
