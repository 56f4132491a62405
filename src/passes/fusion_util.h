// What the subgraph fusions (layer norm, Gelu, attention) share beyond patterns.h: which
// nodes a fusion makes dead, the replacement itself, constants compared with a tolerance, and
// the element types they fuse.
#pragma once

#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "ir/graph.h"
#include "passes/rewrite.h"

namespace kiln::passes {

// The nodes that become unused once `root` is replaced by a node reading `keep`: `root`, then
// (repeatedly) every producer all of whose outputs are read only by nodes already in the set —
// never one whose output is a graph output or in `keep`, never one with subgraphs. Shape
// arithmetic that only fed the block (reshape targets, a scale computed from a shape) is
// absorbed with it; anything read elsewhere stays.
std::unordered_set<ir::Node*> dead_after_replacing(ir::Node* root,
                                                   const std::vector<ir::Value*>& keep);

// Replaces the block ending at `root` by one node reading `inputs` (omitted optional inputs as
// nullptr), provided every node of `matched` dies with it (else nullptr and `why` names the
// node whose result is read outside the block). The new node takes over root's outputs and
// the origins of everything removed.
ir::Node* fuse_block(Editor& edit, ir::Node& root, const std::vector<ir::Node*>& matched,
                     std::string op_type, std::string domain, std::vector<ir::Value*> inputs,
                     std::vector<ir::Attribute> attrs, int64_t opset, std::string* why);

// The node computing `v` (as its first output) when it is an ai.onnx `op_type`, else nullptr.
ir::Node* producer_of(const ir::Value* v, std::string_view op_type);

// Re-runs shape inference on a main graph after fusions: a fused node's InferFn can restore
// dims the exporter's own ops lost (GPT-2's causal Slice leaves the rest of the network with
// unknown sequence lengths until its attention is fused), so blocks further on can be proven.
// Graph outputs keep their types (a pass never changes the interface); subgraphs are skipped.
void refresh_types(ir::Graph& graph, PassContext& ctx);

// `v` itself, or — while it is computed by a Cast to the type it already has — the Cast's
// input (the casts are appended to `skipped`). Exporters sprinkle such casts into attention.
ir::Value* skip_noop_casts(ir::Value* v, std::vector<ir::Node*>* skipped = nullptr);

// The element types the transformer fusions rewrite: float32, float16 and bfloat16. float64
// graphs stay as exported (LayerNormalization would compute their statistics in float32,
// stash_type; kiln::Attention is not defined for float64).
bool fusable_float(const ir::Value* v);

// `value` equals `want` within the rounding of a constant stored as `dtype`: relative 1e-4, or
// the type's own unit roundoff when coarser (sqrt(2) is 1.4140625 in float16).
bool near(double value, double want, DataType dtype);
// A one-element constant near `want`.
bool constant_near(const ir::Value* v, double want);

// A dim whose size the shape system knows (static or a named symbol).
bool known_dim(const Dim& d);

}  // namespace kiln::passes
