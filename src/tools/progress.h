// A one-line progress bar on stderr for long work (builds, calibration): redrawn in place on
// a terminal, one line per phase otherwise (logs stay readable).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace kiln::tools {

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled);
  ~ProgressBar();
  void update(std::string_view phase, double fraction);
  void finish();

 private:
  bool enabled_, tty_;
  std::string phase_;
  int last_percent_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace kiln::tools
