// Activation memory planning: assigns every activation of a schedule an offset in one arena so
// that buffers live at the same time never overlap, reusing memory by liveness.
//
// The planner works on an abstract schedule (steps 0..n-1, one per layer) so it is testable
// without graphs; plan_graph_memory() derives that schedule from an ir::Graph.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::builder {

// One buffer of the schedule. Its lifetime is [def, last_use] inclusive: it is written at step
// `def` and read for the last time at step `last_use` (>= def). Two buffers whose lifetimes
// intersect never overlap in memory, except a planned in-place pair.
struct BufferRequest {
  uint64_t bytes = 0;
  int64_t def = 0;
  int64_t last_use = 0;
  // Buffers this one may reuse in place (same memory), when the candidate's last use is this
  // buffer's def step, the candidate is defined at an earlier step, the candidate is not already
  // reused, and candidate bytes >= bytes (zero-byte buffers never pair). The first candidate that
  // qualifies wins; buffers claim candidates in (def, index) order. Indices into the request
  // list; invalid ones are ignored.
  std::vector<int64_t> inplace_candidates;
};

struct BufferPlacement {
  uint64_t offset = 0;
  int64_t inplace_of = -1;  // request index whose memory this buffer shares, or -1
};

struct MemoryPlan {
  std::vector<BufferPlacement> placements;  // one per request
  uint64_t arena_bytes = 0;                 // end of the highest placed buffer, aligned
  uint64_t naive_bytes = 0;                 // sum of all buffer sizes (aligned), no reuse at all
  uint64_t lower_bound_bytes = 0;  // max over steps of the (aligned) bytes live at that step,
                                   // counting an in-place chain once (its largest member live
                                   // at that step)
  std::string strategy;  // placement order that won: "greedy_by_size" / "greedy_by_breadth"
};

// Plans offsets (multiples of `alignment`, a power of two; 0 reads as 1). Deterministic. A
// last_use before def reads as def. Sizes must be small enough that their aligned sum fits in
// 64 bits (callers size tensors with checked arithmetic).
MemoryPlan plan_memory(const std::vector<BufferRequest>& requests, uint64_t alignment = 64);

// Graph front end. The schedule is graph.nodes() in order (step i = node i). Planned buffers are
// the outputs of main-graph nodes that are not graph outputs, that `bytes_of` sizes (nullopt =
// size unknown at build time: left out of the plan and reported as dynamic). A value's last use
// counts every consumer, including nodes whose subgraphs read it from the outer scope
// (ir::Node::dependencies()). `allows_inplace(node, input_index)` says whether the node's kernel
// may write output 0 over input `input_index` (the planner checks sizes and lifetimes).
struct GraphMemoryPlan {
  struct Slot {
    const ir::Value* value = nullptr;
    uint64_t offset = 0;
    uint64_t bytes = 0;
    const ir::Value* inplace_of = nullptr;
  };
  std::vector<Slot> slots;                // in definition order
  std::vector<const ir::Value*> dynamic;  // activations whose size was unknown
  uint64_t arena_bytes = 0, naive_bytes = 0, lower_bound_bytes = 0;
  std::string strategy;
};

GraphMemoryPlan plan_graph_memory(
    const ir::Graph& graph,
    const std::function<std::optional<uint64_t>(const ir::Value&)>& bytes_of,
    const std::function<bool(const ir::Node&, size_t input_index)>& allows_inplace,
    uint64_t alignment = 64);

}  // namespace kiln::builder
