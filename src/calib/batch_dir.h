// Calibration batches from a directory of .npy files, and the checks every batch must pass.
//
// DirCalibrator understands three layouts of DIR, tried in this order:
//   (c) DIR/manifest.json  {"batches": [{"<input>": "relative/file.npy", ...}, ...]}: one object
//       per batch, in list order. Paths are relative to DIR and must stay inside it: absolute
//       paths, '..' components and symbolic links leading out are refused (CalibPathEscape).
//   (a) DIR/*.npy          single-input models: each file, sorted by name, is one batch of the
//                          model's one input.
//   (b) DIR/<batch>/*.npy  one sub-directory per batch (sorted by name) holding <input>.npy for
//                          each input.
// Names starting with '.' and files not ending in .npy are ignored. A directory with both loose
// .npy files and batch sub-directories, loose files for a model with several inputs, or a batch
// sub-directory without .npy files is CalibLayoutInvalid; nothing to read is CalibNoData.
// Batches are read one at a time, when asked for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kiln/calibrator.h"
#include "kiln/status.h"
#include "kiln/tensor.h"
#include "kiln/types.h"

namespace kiln::calib {

class DirCalibrator final : public Calibrator {
 public:
  enum class Layout { kFiles, kSubdirs, kManifest };

  // Scans `dir`. input_names are the model's inputs (layout (a) needs exactly one).
  static Result<std::unique_ptr<DirCalibrator>> open(const std::string& dir,
                                                     std::vector<std::string> input_names);

  Result<std::optional<std::vector<std::pair<std::string, Tensor>>>> next_batch() override;
  void reset() override { next_ = 0; }

  Layout layout() const { return layout_; }
  size_t num_batches() const { return batches_.size(); }
  // Where batch `index` comes from, for messages: "DIR/x_003.npy", "DIR/0003/",
  // "DIR/manifest.json batch 3".
  const std::string& batch_source(size_t index) const { return batches_.at(index).source; }

 private:
  struct BatchFiles {
    std::string source;
    std::vector<std::pair<std::string, std::string>> files;  // input name -> .npy path
  };
  DirCalibrator() = default;

  Layout layout_ = Layout::kFiles;
  std::vector<BatchFiles> batches_;
  size_t next_ = 0;
};

// What a calibration batch must match for one model input. min_dims and max_dims have the
// input's rank; min == max for a static dimension, max < 0 for one without upper bound. An
// empty max_dims means max == min.
struct InputSpec {
  std::string name;
  DataType dtype = DataType::kFloat32;
  std::vector<int64_t> min_dims, max_dims;
};

// Every problem of a batch, in this order: tensors for unknown inputs or given twice
// (CalibInputUnknown), missing inputs (CalibInputMissing), wrong dtype (CalibInputType), wrong
// rank or a dimension outside [min, max] (CalibInputShape), NaN/Inf in a floating-point input
// (CalibInputNonFinite). Each names the batch index, the input, expected and actual values.
std::vector<Status> batch_problems(const std::vector<std::pair<std::string, Tensor>>& batch,
                                   const std::vector<InputSpec>& inputs, size_t batch_index);
// The first of batch_problems(), or OK.
Status validate_batch(const std::vector<std::pair<std::string, Tensor>>& batch,
                      const std::vector<InputSpec>& inputs, size_t batch_index);

// Samples in a batch: the largest first dimension among its tensors of rank >= 1 (1 when all
// are scalars, 0 for an empty batch). Calibration counts the sum over its batches.
uint64_t batch_samples(const std::vector<std::pair<std::string, Tensor>>& batch);

// Whether `samples` (summed over all batches) reaches min_samples. Enough: std::nullopt. Too
// few: with `strict` the error CalibTooFewSamples (K8004); otherwise that Status's text (code,
// message, fix) as a warning for the caller to log.
Result<std::optional<std::string>> check_sample_count(uint64_t samples, uint64_t min_samples,
                                                      bool strict);

}  // namespace kiln::calib
