// The backend interface: what a device (CPU now, CUDA next) offers the builder and the runtime.
//
//   Device   — memory (arena buffers), streams, its fingerprint and its tactics.
//   Tactic   — one kernel implementation for some layers: supports(), the ISA features it needs,
//              its workspace, whether it may write its output over an input, pack() (weights
//              reordered at build time, stored in the engine) and prepare(), which binds it to
//              one layer into a Kernel.
//   Kernel   — a prepared layer; run() is const and thread-safe so every execution context of
//              an engine shares one Kernel per layer (weights are never copied per context).
//
// The builder asks each tactic of the target device whether it supports a layer, and picks
// one (timing several when there is a choice); the engine records the tactic's name, and the
// runtime finds it again by name on the loading machine's device.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine_data.h"
#include "ir/graph.h"
#include "kiln/builder.h"
#include "kiln/status.h"
#include "ops/kernel.h"
#include "ops/op_schema.h"

namespace kiln::backends {

class Kernel {
 public:
  virtual ~Kernel() = default;
  // Computes the layer: reads ctx inputs, allocates outputs through ctx (the executor's planned
  // memory). Called concurrently from many contexts.
  virtual Status run(ops::KernelContext& ctx) const = 0;
};

class Tactic {
 public:
  virtual ~Tactic() = default;
  virtual std::string_view name() const = 0;  // stable: recorded in engines
  virtual bool supports(const ir::Node& node, const ops::OpSchema& schema) const = 0;
  // ISA features (fingerprint names) the tactic's code needs on the running machine.
  virtual std::vector<std::string> required_features() const { return {}; }
  virtual uint64_t workspace_bytes(const ir::Node& node) const { return 0; }
  // Whether the kernel may write output 0 over input `input` (same dtype and byte size; the
  // planner checks sizes and lifetimes).
  virtual bool allows_inplace(const ir::Node& node, const ops::OpSchema& schema,
                              size_t input) const {
    return false;
  }
  virtual Result<std::unique_ptr<Kernel>> prepare(const ir::Node& node, const ops::OpSchema& schema,
                                                  const std::vector<uint8_t>& params) const = 0;

  // The implementations this tactic could run the layer with, for the autotuner to time. The
  // node's values carry the shapes of the profile's opt point. Default: one, with no params.
  struct Variant {
    std::string label;            // shown by `kiln inspect`, e.g. "brg:avx512_core"
    std::vector<uint8_t> params;  // handed to prepare()
  };
  virtual std::vector<Variant> variants(const ir::Node& node, const ops::OpSchema& schema) const {
    return {Variant{}};
  }
  // Without timing (--opt-level 0, or one candidate): the variant to take.
  virtual Variant default_variant(const ir::Node& node, const ops::OpSchema& schema) const {
    std::vector<Variant> v = variants(node, schema);
    return v.empty() ? Variant{} : v.front();
  }
  // Human-readable form of params recorded in an engine.
  virtual std::string describe(const std::vector<uint8_t>& params) const {
    return std::string(params.begin(), params.end());
  }

  // Build-time packing: constants (weights) already in the layout the kernel chosen by
  // `params` runs them in at the opt shapes the node's values carry, so loading an engine
  // reorders nothing. The builder stores each as a uint8 initializer of the engine; the runtime
  // hands them back, in order, to prepare_packed(). Default: nothing to pack.
  struct PackedConstant {
    std::string tag;  // what it is ("weights"), part of the initializer's name
    Tensor data;
  };
  virtual Result<std::vector<PackedConstant>> pack(const ir::Node& node,
                                                   const ops::OpSchema& schema,
                                                   const std::vector<uint8_t>& params) const {
    return std::vector<PackedConstant>{};
  }
  // prepare() with the constants pack() made at build time. A kernel must check that a packed
  // constant fits what it computes at load (another shape or machine may want another layout)
  // and pack again from the original weights when it does not.
  virtual Result<std::unique_ptr<Kernel>> prepare_packed(
      const ir::Node& node, const ops::OpSchema& schema, const std::vector<uint8_t>& params,
      const std::vector<const Tensor*>& packed) const {
    return prepare(node, schema, params);
  }
};

// Device memory: one contiguous, kArenaAlignment-aligned block.
class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual void* data() = 0;
  virtual uint64_t size() const = 0;
};

// A queue of work run in order, off the caller's thread.
class Queue {
 public:
  virtual ~Queue() = default;
  virtual void submit(std::function<Status()> work) = 0;
  // Waits for everything submitted; returns (and clears) the first error.
  virtual Status wait() = 0;
};

class Device {
 public:
  virtual ~Device() = default;
  virtual DeviceKind kind() const = 0;
  virtual const engine::Fingerprint& fingerprint() const = 0;
  virtual Result<std::unique_ptr<Buffer>> allocate(uint64_t bytes) = 0;
  virtual std::unique_ptr<Queue> create_queue() = 0;
  // Intra-op parallelism of the layers the calling thread runs from now on (<= 0: the device's
  // default). The runtime sets it at the start of every run from the engine's options.
  virtual void set_intra_op_threads(int n) {}
  // Called on the running thread when a run returns: release what the device keeps spinning
  // or parked for the next run (CPU: the calling thread's worker threads).
  virtual void run_finished() {}
  // In preference order (the builder takes the first that supports a layer unless timing
  // says otherwise).
  virtual const std::vector<const Tactic*>& tactics() const = 0;
  const Tactic* find_tactic(std::string_view name) const;
};

// The device of that kind in this process (DeviceUnavailable when not compiled in/present).
Result<Device*> device_for(DeviceKind kind);

// A Queue that runs submitted host work in order on one worker thread (the CPU device's).
std::unique_ptr<Queue> make_thread_queue();

}  // namespace kiln::backends
