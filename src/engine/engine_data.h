// The in-memory description of a built engine, shared by the writer (builder) and the reader
// (runtime). The file layout is specified in docs/engine-format.md and in engine_file.h.
//
// An engine is the imported model graph (ir::Model, subgraphs included) plus what the builder
// decided for it: one Layer per main-graph node (same order as graph->nodes()), a memory plan
// per optimization profile, the build options and the target fingerprint.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace kiln::engine {

// Bumped whenever the byte layout or the meaning of a field changes; readers accept exactly
// their own version (ENGINE_INCOMPATIBLE otherwise).
// 2: layers list their build-time packed constants; 3: float32 initializers may be stored as
// float16 (--fp16 weight storage).
inline constexpr uint32_t kFormatVersion = 3;

// What a machine offers, or what an engine needs.
struct Fingerprint {
  std::string device;                 // "cpu" (later "cuda")
  std::string arch;                   // "x86_64", "aarch64", …
  std::string cpu_name;               // brand string; informational, never compared
  std::vector<std::string> features;  // sorted ISA feature names: "avx2", "avx512f", "fma", …
  // Later for GPUs: sm, driver, CUDA/cuBLASLt/cuDNN versions.
  std::string to_string() const;  // "cpu x86_64 [avx, avx2, fma, …]"
};

// Per input: the min/opt/max shapes of one optimization profile.
struct ShapeRange {
  std::vector<int64_t> min, opt, max;
};

// Where one main-graph activation lives while a context runs under a profile.
struct TensorSlot {
  std::string value;       // value name in the main graph
  uint64_t offset = 0;     // bytes from the arena start (multiple of kArenaAlignment)
  uint64_t bytes = 0;      // capacity at the profile's max shapes
  std::string inplace_of;  // input value whose slot this output reuses ("" = own slot)
  bool dynamic = false;    // size unknown at build time: allocated when the layer runs
};

struct ProfilePlan {
  std::vector<std::pair<std::string, ShapeRange>> inputs;  // every graph input, in graph order
  uint64_t arena_bytes = 0;        // planned arena (what a context allocates)
  uint64_t naive_bytes = 0;        // sum of all planned activation bytes
  uint64_t lower_bound_bytes = 0;  // peak of simultaneously live bytes over the schedule
  std::vector<TensorSlot> slots;
};

// The builder's decision for one main-graph node.
struct Layer {
  std::string tactic;                   // kernel implementation, e.g. "cpu.reference"
  std::string precision;                // "fp32", "fp16", "int8", "mixed", …
  std::vector<std::string> fused_from;  // ONNX node names this layer computes
  std::vector<uint8_t> params;          // tactic-specific parameters (opaque to the format)
  // Main-graph uint8 initializers holding constants the tactic packed at build time (weights
  // in its blocked layout), handed to it in this order at load.
  std::vector<std::string> packed;
};

struct EngineData {
  uint32_t format_version = kFormatVersion;
  std::string kiln_version;
  std::string build_options;  // JSON object: the BuilderConfig as used
  Fingerprint built_on;       // the machine that built it (informational)
  Fingerprint target;         // what running it needs: device, arch, features of the tactics
  std::vector<Layer> layers;  // one per main-graph node, same order
  // Main-graph float32 initializers the file stores as float16 (their values must already be
  // float16-representable: the builder rounded them); read back as float32. Written only.
  std::set<std::string> half_initializers;
  std::vector<ProfilePlan> profiles;
};

inline constexpr uint64_t kArenaAlignment = 64;

}  // namespace kiln::engine
