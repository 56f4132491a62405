// kiln/calibrator.h — the source of input batches for INT8 post-training calibration.
//
// The builder runs the FP32 model over every batch a Calibrator yields and records the range of
// each tensor it will quantize. Implement next_batch() to stream your own data (a few hundred
// representative samples in all), or use kiln's directory reader (`kiln build --calib DIR`).
// Like the rest of the API it reports failures as Status, never by throwing.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln {

// One calibration batch: a tensor per model input, named after the input. The first dimension
// of the inputs is the batch dimension (samples are counted as the sum of it over batches).
using CalibrationBatch = std::vector<std::pair<std::string, Tensor>>;

class Calibrator {
 public:
  virtual ~Calibrator() = default;

  // The next batch, std::nullopt when there is no more data, or the error that stopped reading.
  // Tensors may be borrowed views: they need to stay valid only until the next call.
  virtual Result<std::optional<std::vector<std::pair<std::string, Tensor>>>> next_batch() = 0;

  // Starts over from the first batch (for a second pass over the data). The default does nothing.
  virtual void reset() {}
};

}  // namespace kiln
