// Per-tensor calibration statistics over a run of batches, and the ranges chosen from them.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "calib/tensor_stats.h"
#include "calib/thresholds.h"
#include "kiln/status.h"
#include "kiln/tensor.h"
#include "kiln/types.h"

namespace kiln::calib {

// Not synchronized: call add() from one thread at a time.
class Collector {
 public:
  // Adds a float32 tensor's values to the statistics kept under `name` (batch_index names the
  // batch in messages). Tensors of other types are ignored and listed by skipped(). NaN/Inf in
  // the tensor is CalibNonFinite (K8002) naming tensor, batch and count.
  Status add(std::string_view name, const Tensor& tensor, size_t batch_index);

  const std::map<std::string, TensorStats, std::less<>>& stats() const { return stats_; }
  const TensorStats* find(std::string_view name) const;
  // Names add() ignored because they are not float32, with their type.
  const std::map<std::string, DataType, std::less<>>& skipped() const { return skipped_; }

  // The range of every tensor seen (Range::saturation is each one's clipped fraction). Every
  // tensor that cannot get one is reported at once: all NaN/Inf tensors in one CalibNonFinite
  // (K8002), else all all-zero tensors in one CalibDegenerateRange (K8001). A percentile outside
  // (0, 100] with kPercentile is CalibOptionInvalid (K4007).
  Result<std::map<std::string, Range>> ranges(Algorithm algorithm,
                                              double percentile = kDefaultPercentile) const;

 private:
  std::map<std::string, TensorStats, std::less<>> stats_;
  std::map<std::string, DataType, std::less<>> skipped_;
};

struct SaturatedTensor {
  std::string name;
  Range range;
};

// The n tensors with the highest saturation, highest first (ties by name).
std::vector<SaturatedTensor> most_saturated(const std::map<std::string, Range>& ranges, size_t n);

// A human-readable table of most_saturated(ranges, n): one line per tensor, e.g.
//   "  12.500%  amax 3.14159  'conv1_out'"; "" when ranges is empty.
std::string saturation_report(const std::map<std::string, Range>& ranges, size_t n);

}  // namespace kiln::calib
