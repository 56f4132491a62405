#include "kiln/logger.h"

#include <cstdio>
#include <string>

namespace kiln {

const char* log_severity_name(LogSeverity severity) {
  switch (severity) {
    case LogSeverity::kError: return "error";
    case LogSeverity::kWarning: return "warning";
    case LogSeverity::kInfo: return "info";
    case LogSeverity::kVerbose: return "verbose";
  }
  return "?";
}

void StderrLogger::log(LogSeverity severity, std::string_view message) {
  if (severity > threshold_) return;
  std::lock_guard<std::mutex> lock(mu_);
  std::fprintf(stderr, "[kiln] %s: %.*s\n", log_severity_name(severity),
               static_cast<int>(message.size()), message.data());
}

void ErrorRecorder::report(const Status& status) {
  if (status.ok()) return;
  std::lock_guard<std::mutex> lock(mu_);
  errors_.push_back(status);
}

std::vector<Status> ErrorRecorder::errors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_;
}

size_t ErrorRecorder::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_.size();
}

void ErrorRecorder::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  errors_.clear();
}

}  // namespace kiln
