// A loaded engine ready to run: its graph, its layers bound to prepared kernels, and the value
// table with each activation's planned slot per profile. Immutable after load and shared by
// every execution context of the engine.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/backend.h"
#include "engine/engine_data.h"
#include "engine/engine_file.h"
#include "ir/graph.h"
#include "kiln/engine.h"

namespace kiln::runtime {

enum class ValueRole : uint8_t { kInput, kWeight, kActivation };

struct ValueInfo {
  const ir::Value* value = nullptr;
  ValueRole role = ValueRole::kActivation;
  int io_index = -1;       // graph input/output position in Program::io (outputs too)
  bool is_output = false;  // a graph output (also an activation or input or weight)
  int64_t last_step = -1;  // last layer reading it (graph outputs: never released)
};

// Where an activation lives under one profile.
struct Slot {
  bool planned = false;  // false: allocated when produced (size unknown at build)
  uint64_t offset = 0;
  uint64_t bytes = 0;
  int inplace_of = -1;  // value id whose slot this one reuses
};

struct Step {
  const ir::Node* node = nullptr;
  const ops::OpSchema* schema = nullptr;
  std::unique_ptr<backends::Kernel> kernel;
  std::string tactic;        // with its variant, e.g. "cpu.dnnl.conv brg:avx512_core"
  std::vector<int> inputs;   // value ids, -1 for omitted optional inputs
  std::vector<int> outputs;  // value ids, -1 for omitted optional outputs
  std::vector<int> release;  // values whose last reader is this step
};

struct ProfileInfo {
  std::vector<engine::ShapeRange> ranges;  // per graph input, in Program::inputs order
  uint64_t arena_bytes = 0;
  std::vector<Slot> slots;  // per value id
};

struct Program {
  // Keeps the engine bytes alive: weights are views into them.
  std::shared_ptr<const engine::MappedFile> mapping;
  Tensor owned_storage;  // engines deserialized from memory (64-byte aligned copy)
  engine::ByteSpan bytes;

  engine::EngineData data;
  std::unique_ptr<ir::Model> model;
  backends::Device* device = nullptr;
  std::atomic<int> threads{0};  // intra-op threads per run (0 = device default)

  std::vector<ValueInfo> values;
  std::unordered_map<const ir::Value*, int> id_of;
  std::vector<int> inputs;   // value ids of graph inputs the caller feeds (no initializer)
  std::vector<int> outputs;  // value ids of graph outputs
  std::vector<TensorInfo> io;  // inputs then outputs
  std::vector<Step> steps;
  std::vector<ProfileInfo> profiles;

  int value_id(const ir::Value* v) const {
    auto it = id_of.find(v);
    return it == id_of.end() ? -1 : it->second;
  }
};

// Builds the program from validated engine bytes (already in `p.bytes`).
Status load_program(Program& p, Logger* logger);

// Coded errors shared by Engine and ExecutionContext.
Status check_profile_index(const Program& p, int profile);
Status unknown_name(const Program& p, const std::string& name, TensorIOMode wanted);

}  // namespace kiln::runtime
