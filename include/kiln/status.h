// kiln/status.h — the one recoverable error channel of the public API.
//
// Every failure is a Status carrying a catalogued code (K1004, …; see `kiln explain`), its
// category, a message with the offending values, an optional node reference and a fix.
// No exception crosses the kiln API; aborts are reserved for broken internal invariants.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace kiln {

enum class Category : uint8_t {
  kOk = 0,
  kParseError,
  kUnsupportedNode,
  kInvalidArgument,
  kInvalidConfig,
  kInvalidState,
  kOutOfMemory,
  kInternalError,
  kExecutionFailed,
  kCalibrationFailed,
  kEngineIncompatible,
  kEngineCorrupt,
  kIoError,
};

// "PARSE_ERROR", "UNSUPPORTED_NODE", …; "OK" for kOk.
const char* category_name(Category category);

// The graph element a problem is about. index is the node's position in its ONNX graph
// (-1 when the problem is not about a node); graph names the subgraph path for nested nodes.
struct NodeRef {
  int64_t index = -1;
  std::string name;
  std::string op_type;
  std::string domain;
  int64_t opset = 0;
  std::string graph;
};

enum class Severity : uint8_t { kError = 0, kWarning, kInfo };
const char* severity_name(Severity severity);

class Status {
 public:
  Status() noexcept;  // OK
  // code is a catalogued number (e.g. 1004); an uncatalogued number aborts (internal bug).
  Status(int code, std::string message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept;
  Status& operator=(Status&&) noexcept;
  ~Status();

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  int code() const;               // 0 when ok
  std::string code_str() const;   // "K1004"; "OK"
  Category category() const;
  Severity severity() const;      // kError unless downgraded (check warnings)
  const std::string& message() const;
  const char* title() const;  // catalog title
  // The fix for this instance: the specific one if given, else the catalog's.
  const std::string& fix() const;
  const NodeRef* node() const;

  Status& with_node(NodeRef node);
  Status& with_fix(std::string fix);
  Status& with_severity(Severity severity);

  // "K1004 PARSE_ERROR: <message> [node #3 'conv1' (Conv, opset 17)]\n  fix: <fix>"
  std::string to_string() const;

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

// A value or the Status saying why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {
    if (std::get<Status>(v_).ok()) abort_ok_status();
  }
  bool ok() const { return v_.index() == 0; }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  Status take_status() && { return ok() ? Status() : std::move(std::get<Status>(v_)); }
  T& value() & { return checked(); }
  const T& value() const& { return const_cast<Result*>(this)->checked(); }
  T&& value() && { return std::move(checked()); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &const_cast<Result*>(this)->checked(); }
  T& operator*() & { return checked(); }
  const T& operator*() const& { return const_cast<Result*>(this)->checked(); }

 private:
  [[noreturn]] static void abort_ok_status();
  [[noreturn]] static void abort_no_value(const Status& s);
  T& checked() {
    if (!ok()) abort_no_value(std::get<Status>(v_));
    return std::get<0>(v_);
  }
  std::variant<T, Status> v_;
};

namespace detail {
[[noreturn]] void result_abort(const char* what, const Status* status);
}
template <typename T>
void Result<T>::abort_ok_status() {
  detail::result_abort("Result constructed from an OK Status", nullptr);
}
template <typename T>
void Result<T>::abort_no_value(const Status& s) {
  detail::result_abort("Result::value() called on an error", &s);
}

}  // namespace kiln

#define KILN_CONCAT_INNER_(a, b) a##b
#define KILN_CONCAT_(a, b) KILN_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the enclosing function if it is an error.
#define KILN_RETURN_IF_ERROR(expr)                   \
  do {                                               \
    ::kiln::Status kiln_status_ = (expr);            \
    if (!kiln_status_.ok()) return kiln_status_;     \
  } while (0)

// `lhs` = value of Result `expr`, or return its Status.
#define KILN_ASSIGN_OR_RETURN(lhs, expr) \
  KILN_ASSIGN_OR_RETURN_IMPL_(KILN_CONCAT_(kiln_result_, __LINE__), lhs, expr)
#define KILN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)            \
  auto tmp = (expr);                                           \
  if (!tmp.ok()) return std::move(tmp).take_status();          \
  lhs = std::move(tmp).value()
