// kiln/engine.h — loading an engine and running it (the fast, online step).
//
//   auto engine = kiln::Engine::load("model.engine");          // mmap'd, checked, shared
//   auto ctx = (*engine)->create_context();                    // cheap: no weight copies
//   ctx->set_input_shape("x", {4, 3, 224, 224});               // inside the active profile
//   ctx->bind("x", x_data, x_bytes);                           // caller-owned buffers
//   ctx->bind("y", y_data, y_bytes);
//   ctx->execute();                                            // or enqueue(stream)
//
// An Engine is immutable and thread-safe; each ExecutionContext runs one inference at a time
// with its own activation arena. Run as many contexts in parallel as there are threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kiln/builder.h"
#include "kiln/logger.h"
#include "kiln/status.h"
#include "kiln/tensor.h"
#include "kiln/types.h"

namespace kiln {

enum class TensorIOMode : uint8_t { kInput = 0, kOutput };

struct TensorInfo {
  std::string name;
  TensorIOMode mode = TensorIOMode::kInput;
  DataType dtype = DataType::kUndefined;
  std::vector<int64_t> shape;  // -1 for dims known only at run time
};

// An ordered queue of work on a device. On the CPU, work runs on the stream's own worker
// thread; enqueue returns at once and synchronize waits for everything queued so far.
class Stream {
 public:
  static Result<std::unique_ptr<Stream>> create(DeviceKind device = DeviceKind::kCpu);
  virtual ~Stream() = default;
  // Waits for the queued work; returns the first error of it (and clears it).
  virtual Status synchronize() = 0;
};

class ExecutionContext;

class Engine {
 public:
  // Maps the file read-only; checks magic, version, checksum, structure and that this machine
  // can run it (ENGINE_CORRUPT / ENGINE_INCOMPATIBLE otherwise).
  static Result<std::shared_ptr<Engine>> load(const std::string& path, Logger* logger = nullptr);
  // From bytes in memory (copied once; e.g. Builder::build_serialized's result).
  static Result<std::shared_ptr<Engine>> deserialize(const std::vector<uint8_t>& bytes,
                                                     Logger* logger = nullptr);
  virtual ~Engine() = default;

  virtual const std::vector<TensorInfo>& io_tensors() const = 0;
  // nullptr when there is no such input or output.
  virtual const TensorInfo* find_io_tensor(const std::string& name) const = 0;
  virtual int num_profiles() const = 0;
  // The range of an input under a profile; INVALID_ARGUMENT for a bad index or name.
  virtual Result<ShapeRangeSpec> profile_shape(int profile, const std::string& input) const = 0;
  // Activation arena a context needs under the profile (bytes).
  virtual uint64_t arena_bytes(int profile) const = 0;
  virtual DeviceKind device() const = 0;
  virtual size_t num_layers() const = 0;
  // Threads each layer of this engine's runs may use (the CPU backend's intra-op pool; one
  // run at a time uses them, other contexts' runs have their own). 0 = the machine's physical
  // cores (the default). A fixed count gives bit-identical results run to run.
  virtual void set_intra_op_threads(int threads) = 0;
  virtual int intra_op_threads() const = 0;

  // A new context on profile 0. Contexts keep the engine alive.
  virtual Result<std::unique_ptr<ExecutionContext>> create_context() = 0;
};

class ExecutionContext {
 public:
  virtual ~ExecutionContext() = default;

  // Selects the profile (allocates its arena); input shapes must be set again afterwards.
  virtual Status set_profile(int profile) = 0;
  virtual int profile() const = 0;
  // INVALID_ARGUMENT when outside the profile, naming the input, dim, value and range.
  virtual Status set_input_shape(const std::string& input, const std::vector<int64_t>& shape) = 0;
  // The shape an input or output will have for the current input shapes (-1 where it depends
  // on data and is known only after a run: then the last run's shape, if any).
  virtual Result<std::vector<int64_t>> tensor_shape(const std::string& name) = 0;

  // Caller-owned memory for an input (read) or output (written) of at least the tensor's
  // bytes; stays bound until rebound. Outputs left unbound are kept by the context (output()).
  virtual Status bind(const std::string& name, void* data, size_t bytes) = 0;
  // Convenience for inputs: binds a tensor's memory and sets its shape.
  virtual Status set_input(const std::string& name, const Tensor& tensor) = 0;

  // Runs synchronously on the calling thread.
  virtual Status execute() = 0;
  // Queues a run on `stream` and returns; errors surface from stream.synchronize(). Do not
  // touch the context or its bound buffers until then (INVALID_STATE otherwise).
  virtual Status enqueue(Stream& stream) = 0;

  // Output of the last run: a view of the bound buffer, or of context memory valid until the
  // next run.
  virtual Result<Tensor> output(const std::string& name) const = 0;

  // Per-layer timing (trtexec --dumpProfile): while on, every run adds each layer's wall time;
  // layer_profile() returns the totals in layer order. Turning it on resets them.
  struct LayerTime {
    std::string name, op, tactic;
    double total_ms = 0;
    int64_t runs = 0;
  };
  virtual void set_profiling(bool on) = 0;
  virtual std::vector<LayerTime> layer_profile() const = 0;

  // A tap on every tensor a run produces (TensorRT's debug tensors; kiln's INT8 calibration and
  // `kiln compare --per-layer` use it): while set, each run calls `observer` on the running
  // thread with every graph input (layer -1) and every layer output as soon as it is produced
  // (the layer's index), before any later layer can reuse its memory. Views are valid only
  // during the call. An error returned stops the run with that error. Empty: off. A tensor an
  // INT8 layer hands to the next one as uint8 (requantized in its epilogue) is passed as the
  // float32 values it stands for.
  using TensorObserver =
      std::function<Status(const std::string& name, const Tensor& value, int layer)>;
  virtual void set_tensor_observer(TensorObserver observer) = 0;

  // The INT8 saturation monitor (opt-in): while on, every run counts, for each INT8 layer, the
  // values of its input that fall outside the range calibration gave it (they are clipped when
  // quantized). A rate that grows in production is the early warning that the calibration data
  // was not representative of the traffic. Turning it on resets the counts; read them between
  // runs. Layers that run FP32 are not listed. A layer whose input arrives already quantized
  // (uint8 from an INT8 layer's epilogue, which clipped it) counts its values at 255.
  struct SaturationStat {
    std::string layer;                 // the layer's name
    std::string tensor;                // its input, the tensor that is quantized
    float range_lo = 0, range_hi = 0;  // the calibrated range (values outside it are clipped)
    int64_t values = 0;                // input values seen
    int64_t saturated = 0;             // of those, outside the range
    double rate() const {
      return values > 0 ? static_cast<double>(saturated) / static_cast<double>(values) : 0.0;
    }
  };
  virtual void set_saturation_monitor(bool on) = 0;
  virtual std::vector<SaturationStat> saturation() const = 0;
};

}  // namespace kiln
