#include "builder/timing_cache.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/errors.h"
#include "engine/engine_file.h"

namespace kiln::builder {

Status TimingCache::load(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::Ok();
  std::ifstream in(path);
  if (!in) return err(Code::kFileUnreadable, "timing cache '", path, "' cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != "kiln-timing-cache-1" ||
      !j.contains("entries") || !j["entries"].is_object())
    return err(Code::kInvalidOption, "'", path, "' is not a kiln timing cache")
        .with_fix("pass a file written by kiln build --timing-cache, or a new path");
  const std::string here = engine::host_fingerprint().to_string();
  // Timings from another machine would steer tactic choice wrongly: start over.
  if (j.value("machine", "") != here) return Status::Ok();
  for (const auto& [key, tactics] : j["entries"].items()) {
    if (!tactics.is_object()) continue;
    for (const auto& [tactic, ms] : tactics.items())
      if (ms.is_number()) entries_[key][tactic] = ms.get<double>();
  }
  return Status::Ok();
}

Status TimingCache::save(const std::string& path) const {
  nlohmann::json entries = nlohmann::json::object();
  for (const auto& [key, tactics] : entries_) entries[key] = tactics;
  const nlohmann::json j = {{"format", "kiln-timing-cache-1"},
                            {"machine", engine::host_fingerprint().to_string()},
                            {"entries", entries}};
  std::ofstream out(path);
  if (!(out << j.dump(1) << '\n'))
    return err(Code::kFileWriteFailed, "timing cache '", path, "' cannot be written");
  return Status::Ok();
}

void TimingCache::record(const std::string& key, const std::string& tactic, double ms) {
  entries_[key][tactic] = ms;
}

std::optional<TimingCache::Entry> TimingCache::find(const std::string& key) const {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.empty()) return std::nullopt;
  Entry best{it->second.begin()->first, it->second.begin()->second};
  for (const auto& [tactic, ms] : it->second)
    if (ms < best.ms) best = {tactic, ms};
  return best;
}

}  // namespace kiln::builder
