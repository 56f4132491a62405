#include <cstdio>
#include <cstdlib>

#include "core/errors.h"
#include "kiln/status.h"

namespace kiln {

struct Status::Rep {
  const ErrorInfo* info;
  std::string message;
  std::string fix;  // the catalog's unless with_fix() replaced it
  std::optional<NodeRef> node;
  Severity severity = Severity::kError;
};

const char* category_name(Category c) {
  switch (c) {
    case Category::kOk: return "OK";
    case Category::kParseError: return "PARSE_ERROR";
    case Category::kUnsupportedNode: return "UNSUPPORTED_NODE";
    case Category::kInvalidArgument: return "INVALID_ARGUMENT";
    case Category::kInvalidConfig: return "INVALID_CONFIG";
    case Category::kInvalidState: return "INVALID_STATE";
    case Category::kOutOfMemory: return "OUT_OF_MEMORY";
    case Category::kInternalError: return "INTERNAL_ERROR";
    case Category::kExecutionFailed: return "EXECUTION_FAILED";
    case Category::kCalibrationFailed: return "CALIBRATION_FAILED";
    case Category::kEngineIncompatible: return "ENGINE_INCOMPATIBLE";
    case Category::kEngineCorrupt: return "ENGINE_CORRUPT";
    case Category::kIoError: return "IO_ERROR";
  }
  return "UNKNOWN";
}

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kInfo: return "info";
  }
  return "error";
}

Status::Status(int code, std::string message) {
  const ErrorInfo* info = find_error(code);
  if (info == nullptr) {
    std::fprintf(stderr, "kiln: internal error: uncatalogued error code %d: %s\n", code,
                 message.c_str());
    std::abort();
  }
  rep_ = std::make_unique<Rep>(Rep{info, std::move(message), info->fix, std::nullopt, Severity::kError});
}

Status::Status(const Status& other)
    : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
  return *this;
}

Status::Status() noexcept = default;
Status::Status(Status&&) noexcept = default;
Status& Status::operator=(Status&&) noexcept = default;
Status::~Status() = default;

int Status::code() const { return rep_ ? rep_->info->number : 0; }
std::string Status::code_str() const { return rep_ ? format_code(rep_->info->number) : "OK"; }
Category Status::category() const { return rep_ ? rep_->info->category : Category::kOk; }
Severity Status::severity() const { return rep_ ? rep_->severity : Severity::kInfo; }

const std::string& Status::message() const {
  static const std::string kEmpty;
  return rep_ ? rep_->message : kEmpty;
}

const char* Status::title() const { return rep_ ? rep_->info->title : "ok"; }

const std::string& Status::fix() const {
  static const std::string kEmpty;
  return rep_ ? rep_->fix : kEmpty;
}

const NodeRef* Status::node() const { return rep_ && rep_->node ? &*rep_->node : nullptr; }

Status& Status::with_node(NodeRef node) {
  if (rep_) rep_->node = std::move(node);
  return *this;
}
Status& Status::with_fix(std::string fix) {
  if (rep_) rep_->fix = std::move(fix);
  return *this;
}
Status& Status::with_severity(Severity severity) {
  if (rep_) rep_->severity = severity;
  return *this;
}

std::string Status::to_string() const {
  if (!rep_) return "OK";
  std::string s = code_str() + " " + category_name(category()) + ": " + rep_->message;
  if (const NodeRef* n = node()) {
    s += " [node";
    if (n->index >= 0) s += " #" + std::to_string(n->index);
    if (!n->name.empty()) s += " '" + n->name + "'";
    s += " (" + (n->domain.empty() ? "" : n->domain + "::") + n->op_type;
    if (n->opset > 0) s += ", opset " + std::to_string(n->opset);
    s += ")";
    if (!n->graph.empty()) s += " in graph '" + n->graph + "'";
    s += "]";
  }
  s += "\n  fix: " + fix();
  return s;
}

namespace detail {
void result_abort(const char* what, const Status* status) {
  std::fprintf(stderr, "kiln: internal error: %s%s%s\n", what, status ? ": " : "",
               status ? status->to_string().c_str() : "");
  std::abort();
}
}  // namespace detail

}  // namespace kiln
