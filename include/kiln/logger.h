// kiln/logger.h — where the builder and runtime report progress and problems.
//
// A Logger receives messages by severity (like TensorRT's ILogger); an ErrorRecorder keeps every
// error Status a component produced (like IErrorRecorder), so a caller that only checks the
// returned Status can still list everything that went wrong. Both are called from any thread.
#pragma once

#include <mutex>
#include <string_view>
#include <vector>

#include "kiln/status.h"

namespace kiln {

enum class LogSeverity : uint8_t { kError = 0, kWarning, kInfo, kVerbose };
const char* log_severity_name(LogSeverity severity);  // "error", "warning", "info", "verbose"

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void log(LogSeverity severity, std::string_view message) = 0;
};

// Writes "[kiln] warning: …" lines to stderr for messages at or above `threshold`.
class StderrLogger final : public Logger {
 public:
  explicit StderrLogger(LogSeverity threshold = LogSeverity::kWarning) : threshold_(threshold) {}
  void log(LogSeverity severity, std::string_view message) override;

 private:
  LogSeverity threshold_;
  std::mutex mu_;
};

// Collects error Statuses; thread-safe.
class ErrorRecorder {
 public:
  void report(const Status& status);
  std::vector<Status> errors() const;
  size_t size() const;
  void clear();

 private:
  mutable std::mutex mu_;
  std::vector<Status> errors_;
};

}  // namespace kiln
