// INT8 calibration inside the builder: the range (amax) of every tensor an INT8 layer reads,
// from a calibration cache or by running representative batches through an FP32 engine of the
// optimized graph and collecting statistics of those tensors (kiln_calib).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kiln/builder.h"

namespace kiln::builder {

struct CalibrationContext {
  const ir::Model& optimized;        // the graph the engine will hold (before INT8 annotation)
  std::vector<std::string> tensors;  // whose ranges are needed
  // Ranges that help but are not needed (residuals an INT8 chain could hand over quantized):
  // calibrated with the others, taken from a cache that has them; a degenerate one is left out
  // rather than failing the build.
  std::vector<std::string> optional_tensors;
  std::set<std::string> unsigned_tensors;  // of those, the ones quantized to uint8
  const BuilderConfig& config;             // profiles, calibration options, logger
  std::string model_key;                   // identifies the model in the calibration cache
};

// name -> amax. CALIBRATION_FAILED codes for every failure (no data, batches that do not fit
// the inputs, NaN/Inf, degenerate ranges, too few samples with `strict`, a cache for another
// model or version).
Result<std::map<std::string, float>> calibrate(const CalibrationContext& ctx,
                                               CalibrationReport& report);

// 16 hex digits of a 64-bit hash of `bytes`.
std::string hex_digest(const std::vector<uint8_t>& bytes);

}  // namespace kiln::builder
