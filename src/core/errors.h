// Internal view of the error catalog (errors.def): the Code enum and lookup.
#pragma once

#include <span>
#include <sstream>
#include <string>
#include <utility>

#include "kiln/status.h"

namespace kiln {

enum class Code : int {
#define KILN_ERROR(number, id, category, title, causes, fix) k##id = number,
#include "core/errors.def"
#undef KILN_ERROR
};

struct ErrorInfo {
  int number;
  const char* id;  // "OpsetOutOfRange"
  Category category;
  const char* title;
  const char* causes;
  const char* fix;
};

// Every catalogued error in file order.
std::span<const ErrorInfo> error_catalog();
const ErrorInfo* find_error(int number);
std::string format_code(int number);  // "K1004", "K0101"

// Concatenates anything streamable: str("dim ", i, " = ", v).
template <typename... Args>
std::string str(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

// Error with a catalogued code: err(Code::kOpsetOutOfRange, "model uses opset ", n, ...).
template <typename... Args>
Status err(Code code, const Args&... args) {
  return Status(static_cast<int>(code), str(args...));
}

}  // namespace kiln
