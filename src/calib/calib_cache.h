// The INT8 calibration cache: the per-tensor scales calibration chose, so a rebuild can skip
// calibrating. A versioned, line-oriented text file (UTF-8, '\n' line ends; '\r\n' is read too):
//
//   kiln-calibration-cache 1
//   kiln-version: 0.1.0
//   algorithm: percentile 99.99          (or "entropy", "minmax")
//   model: 3f9a...                       (the caller's key identifying the model graph)
//   samples: 512
//   conv1_out: 0.0123456791              (one line per tensor, sorted by name)
//
// A tensor line is "<name>: <scale>", the scale (amax / 127) printed with 9 significant digits
// so it reads back as the identical float32. Names are percent-encoded where they hold '%',
// '\n', '\r' or ':' (as %25, %0A, %0D, %3A), so every tensor line holds exactly one ':'.
// Blank lines are ignored.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "calib/thresholds.h"
#include "kiln/status.h"

namespace kiln::calib {

inline constexpr int kCacheFormatVersion = 1;

struct CacheData {
  std::string kiln_version;  // the kiln that wrote it (kiln::version() when calibrating)
  Algorithm algorithm = Algorithm::kEntropy;
  double percentile = kDefaultPercentile;  // written and read only for kPercentile
  std::string model_key;                   // identifies the model graph; no '\n' or '\r'
  uint64_t samples = 0;
  std::map<std::string, float> scales;  // tensor name -> amax / 127

  bool operator==(const CacheData&) const = default;
};

// The file's text. Values write_cache cannot represent (a model key or version with a line
// break) are written with the break replaced by a space.
std::string write_cache(const CacheData& data);
// Writes write_cache(data) to path (through a temporary file renamed into place, so a failed
// write leaves no partial cache). FileWriteFailed (K103) on failure.
Status save_cache(const std::string& path, const CacheData& data);

// Parses a cache's text; `what` names it in messages (its path). Every malformed line is
// CalibCacheMalformed (K8012) naming `what` and the line number: bad header or format version,
// unknown algorithm, bad sample count, a scale that is not a positive finite float, a tensor
// listed twice, an invalid %-escape, a line without exactly one ':'.
Result<CacheData> parse_cache(std::string_view text, std::string_view what);
// Reads and parses a file: FileNotFound (K101) / FileUnreadable (K102), then parse_cache.
Result<CacheData> load_cache(const std::string& path);

// Whether a cache may stand in for calibrating this build: CalibCacheMismatch (K8013) when the
// model key or the kiln version differs (naming both values of each), CalibCacheIncomplete
// (K8014) when needed tensors have no scale (naming up to 5 and the count).
Status check_cache(const CacheData& data, std::string_view model_key,
                   const std::vector<std::string>& needed_tensors);

// Percent-encoding of tensor names as in the file (exposed for tests).
std::string escape_name(std::string_view name);

}  // namespace kiln::calib
