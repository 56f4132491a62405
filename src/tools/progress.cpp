#include "tools/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace kiln::tools {

ProgressBar::ProgressBar(bool enabled)
    : enabled_(enabled), tty_(isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(std::string_view phase, double fraction) {
  if (!enabled_) return;
  const int percent = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * 100.0);
  const auto now = std::chrono::steady_clock::now();
  const bool new_phase = phase != phase_;
  if (!tty_) {
    if (new_phase) std::fprintf(stderr, "kiln: %.*s\n", static_cast<int>(phase.size()), phase.data());
    phase_ = phase;
    return;
  }
  // Redraw at most every 50 ms unless the phase or a 100% mark changes.
  if (!new_phase && percent == last_percent_) return;
  if (!new_phase && percent != 100 && now - last_draw_ < std::chrono::milliseconds(50)) return;
  constexpr int kWidth = 30;
  const int filled = percent * kWidth / 100;
  const double secs = std::chrono::duration<double>(now - start_).count();
  std::fprintf(stderr, "\r[%s%s] %3d%%  %-16.*s %6.1f s", std::string(filled, '#').c_str(),
               std::string(kWidth - filled, '.').c_str(), percent,
               static_cast<int>(std::min<size_t>(phase.size(), 16)), phase.data(), secs);
  std::fflush(stderr);
  phase_ = phase;
  last_percent_ = percent;
  last_draw_ = now;
}

void ProgressBar::finish() {
  if (enabled_ && tty_ && last_percent_ >= 0) std::fprintf(stderr, "\n");
  last_percent_ = -1;
  enabled_ = false;
}

}  // namespace kiln::tools
