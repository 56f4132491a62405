// kiln/builder.h — from an ONNX model to a serialized engine (the slow, offline step).
//
//   auto net = kiln::Network::from_onnx_file("model.onnx");
//   kiln::BuilderConfig config;                      // CPU, fp32, one profile
//   config.profiles.push_back(kiln::OptimizationProfile()
//       .set("x", {1, 3, 224, 224}, {8, 3, 224, 224}, {16, 3, 224, 224}));
//   auto plan = kiln::Builder().build_serialized(*net, config);   // engine file bytes
//
// Everything is validated before building, and every problem is reported: a dynamic input
// without a range in some profile, min <= opt <= max violated, a profile naming no input, an
// op without a kernel. The first problem is returned; all of them go to the ErrorRecorder.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/logger.h"
#include "kiln/status.h"
#include "kiln/types.h"

namespace kiln {

namespace ir {
struct Model;
}
class Calibrator;  // kiln/calibrator.h

// A parsed, checked ONNX model ready to build.
class Network {
 public:
  // Imports, verifies and checks op support; every problem goes to `recorder` (if given), the
  // first error is returned.
  static Result<std::unique_ptr<Network>> from_onnx_file(const std::string& path,
                                                         ErrorRecorder* recorder = nullptr);
  static Result<std::unique_ptr<Network>> from_onnx_bytes(std::string_view bytes,
                                                          ErrorRecorder* recorder = nullptr);
  ~Network();

  struct Input {
    std::string name;
    DataType dtype;
    std::vector<int64_t> shape;          // -1 for a dynamic dim
    std::vector<std::string> dim_names;  // symbol per dim ("" when static or unnamed)
  };
  std::vector<Input> inputs() const;
  std::vector<std::string> outputs() const;
  size_t num_nodes() const;

  const ir::Model& model() const { return *model_; }

  // A network over an IR model that is already verified and typed (the builder's own use: the
  // FP32 engine INT8 calibration runs is built from the optimized graph).
  static std::unique_ptr<Network> adopt(std::unique_ptr<ir::Model> model);

 private:
  explicit Network(std::unique_ptr<ir::Model> model);
  std::unique_ptr<ir::Model> model_;
};

// min/opt/max shape per input. Inputs without dynamic dims need no entry.
struct ShapeRangeSpec {
  std::vector<int64_t> min, opt, max;
};

class OptimizationProfile {
 public:
  OptimizationProfile& set(std::string input, std::vector<int64_t> min, std::vector<int64_t> opt,
                           std::vector<int64_t> max);
  // min = opt = max.
  OptimizationProfile& set(std::string input, std::vector<int64_t> shape);
  const std::map<std::string, ShapeRangeSpec>& shapes() const { return shapes_; }

 private:
  std::map<std::string, ShapeRangeSpec> shapes_;
};

struct PrecisionFlags {
  bool fp16 = false;
  bool bf16 = false;
  bool int8 = false;
};

// INT8 post-training calibration (BuilderConfig::precision.int8).
struct Int8Calibration {
  // Streams representative input batches (nullptr: the scales come from cache_path alone).
  Calibrator* calibrator = nullptr;
  // How a tensor's range is chosen from what calibration saw: "entropy" (TensorRT's KL-divergence
  // threshold over a 2048-bin histogram of |x|, the default), "minmax" (the largest |x|) or
  // "percentile" (that percentile of |x|).
  std::string algorithm = "entropy";
  double percentile = 99.99;
  // Calibration cache: read (instead of calibrating) when there is no calibrator, written
  // after calibrating. Rejected when made for another model or kiln version.
  std::string cache_path;
  // Fewer samples than this (summed over batches' first dimension) is a warning, or an error
  // with `strict`: a few hundred real inputs are what makes INT8 ranges representative.
  int64_t min_samples = 500;
  bool strict = false;
  // Layers whose estimated quantization SQNR (CalibrationReport::layers) is below this many dB
  // stay FP32 (`--int8-min-sqnr`); 0 = every calibrated layer may run INT8.
  double min_sqnr_db = 0;
  // INT8 layers whose output only INT8 layers read hand it over as uint8, requantized in their
  // epilogue (`inspect` shows them as int8>u8). false (`--no-int8-chain`) keeps every output
  // float32: slower, for debugging.
  bool chain = true;
};

// What calibration chose, per tensor (BuildSummary, `kiln build` log, inspect).
struct CalibratedTensor {
  std::string name;
  float amax = 0;         // the range [-amax, amax] (or [0, amax]) the tensor is quantized to
  double saturation = 0;  // fraction of calibration values beyond it (clipped)
  // Estimated signal-to-quantization-noise ratio of its INT8 (or UINT8) values over the
  // calibration data, from the histogram (0 when the scales came from a cache).
  double sqnr_db = 0;
};
// The quantization error of one calibrated conv/linear layer, as a signal-to-noise ratio.
struct LayerQuantError {
  std::string layer;
  std::string tensor;         // its input
  double input_sqnr_db = 0;   // the input quantized to its range (CalibratedTensor::sqnr_db)
  double weight_sqnr_db = 0;  // the weights quantized per output channel (exact)
  double sqnr_db = 0;         // both (their noise-to-signal ratios add)
  bool kept_fp32 = false;     // below Int8Calibration::min_sqnr_db
};
struct CalibrationReport {
  bool from_cache = false;
  std::string algorithm;
  int64_t samples = 0;
  int64_t batches = 0;
  std::vector<CalibratedTensor> tensors;  // highest saturation first
  // Calibrated layers, largest error (lowest sqnr_db) first; empty for a cache (no histograms).
  std::vector<LayerQuantError> layers;
};

// Reports build progress: a phase name and the fraction of it done (0..1). Called on the
// building thread.
using BuildProgress = std::function<void(std::string_view phase, double fraction)>;

// Every build option, typed; recorded in the engine (kiln inspect shows them).
struct BuilderConfig {
  DeviceKind device = DeviceKind::kCpu;
  PrecisionFlags precision;
  Int8Calibration calibration;
  // Per-layer precision constraints, `PATTERN:PRECISION` (`kiln build --layer-precision`):
  // PATTERN is a layer or ONNX node name or a glob over them; e.g. "/head/*:fp32" keeps those
  // layers out of reduced precision.
  std::vector<std::string> layer_precisions;
  // Scratch memory a layer's kernel may use, in bytes; 0 = no limit. Tactics needing more are
  // not considered.
  uint64_t workspace_bytes = 0;
  // Several profiles let one engine serve very different shapes with memory sized per range.
  // Empty: one profile, allowed only when every input is static.
  std::vector<OptimizationProfile> profiles;
  // File of measured tactic timings reused across builds ("" = none). Read when present,
  // written back after the build.
  std::string timing_cache_path;
  // 0 = run the graph as imported; 1 = simplifications that never change arithmetic;
  // 2 = fusions (Conv+BN+activation, attention, …); 3 = layout-aware rewrites (channels-last
  // CNNs). Tactic timing runs at levels >= 1.
  int optimization_level = 3;
  // Optimizer passes to leave out, by name (`kiln build --disable-pass NAME`): the way around a
  // pass that fails on a model (its INTERNAL_ERROR names it).
  std::vector<std::string> disabled_passes;
  // When set, the IR is written here before the optimizer and after every pass that changed it
  // (000_input.txt, 001_<pass>.txt, …).
  std::string dump_ir_dir;
  // Tactics the builder may choose from, by name or name prefix ("cpu.reference",
  // "cpu.dnnl"); empty = all of the device's. `kiln build --tactics`, like trtexec's
  // --tacticSources: e.g. reference kernels only, for bit-exact comparisons.
  std::vector<std::string> allowed_tactics;
  // Time candidate tactics per layer at the profile's opt shapes (levels >= 1); off = take
  // each layer's first supporting tactic and its default variant.
  bool autotune = true;
  // Store weights in the engine already packed into the layout each chosen kernel runs them in
  // (at profile 0's opt shapes), so loading reorders nothing. Costs engine size: the original
  // weights stay too (kernels fall back to them for shapes wanting another layout).
  bool pack_weights = true;
  // Per-build diagnostics.
  Logger* logger = nullptr;
  ErrorRecorder* error_recorder = nullptr;
  BuildProgress progress;
};

// What the last build did.
struct BuildSummary {
  size_t nodes = 0;   // ONNX nodes of the main graph
  size_t layers = 0;  // engine layers after optimization
  // pass → (rewrite → count), e.g. conv_activation_fusion → {Conv+Relu: 49}
  std::map<std::string, std::map<std::string, int64_t>> passes;
  std::string text;       // "169 nodes → 72 layers (conv_bn_fold 53, …)"
  int timed_layers = 0;   // layers whose candidate tactics were timed in this build
  int cached_layers = 0;  // layers with a choice settled by the timing cache alone
  double tuning_seconds = 0;
  int int8_layers = 0;  // layers whose chosen tactic runs INT8 (the autotuner may keep a
                        // calibrated layer in FP32 where that is faster)
  // INT8 layer outputs requantized to uint8 in the epilogue (read only by INT8 layers).
  int int8_chained = 0;
  CalibrationReport calibration;
  int bf16_layers = 0;  // layers whose chosen tactic runs BF16 (--bf16)
  // Layers whose weights the engine stores as float16, computing in FP32 (--fp16 on a CPU
  // without native FP16 arithmetic).
  int fp16_layers = 0;
  int packed_layers = 0;      // layers whose weights the engine holds pre-packed
  uint64_t packed_bytes = 0;  // bytes of those packed copies
};

class Builder {
 public:
  // The bytes of an engine file (write them to disk, or Engine::deserialize them).
  Result<std::vector<uint8_t>> build_serialized(const Network& network,
                                                const BuilderConfig& config);
  const BuildSummary& last_summary() const { return summary_; }

 private:
  BuildSummary summary_;
};

}  // namespace kiln
