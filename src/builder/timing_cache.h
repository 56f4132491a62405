// Timing cache: measured tactic timings keyed by layer signature, kept in a JSON file so later
// builds (same machine, same layers) skip re-timing. The builder times a layer only when more
// than one tactic supports it; it reads the cache before and writes it back after a build.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "kiln/status.h"

namespace kiln::builder {

class TimingCache {
 public:
  struct Entry {
    std::string tactic;
    double ms = 0;
  };
  // A missing file is an empty cache; a file that is not a kiln timing cache is K4006.
  Status load(const std::string& path);
  Status save(const std::string& path) const;
  void record(const std::string& key, const std::string& tactic, double ms);
  std::optional<Entry> find(const std::string& key) const;
  // Every timing recorded for `key` (tactic label → ms), or nullptr.
  const std::map<std::string, double>* timings(const std::string& key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second;
  }
  size_t size() const { return entries_.size(); }

 private:
  std::string fingerprint_;  // machine the timings were measured on
  std::map<std::string, std::map<std::string, double>> entries_;  // key → tactic → ms
};

}  // namespace kiln::builder
