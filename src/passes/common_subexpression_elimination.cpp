// Computes each distinct expression once: two nodes with the same op, domain and opset, the
// same inputs (the same values, in order) and equal attributes (every field; tensors by bytes)
// produce the same outputs, so the readers of one read the other's. Exporters repeat Shape(x)
// and identical constants per use (BERT takes Shape of the same tensor twice per Reshape).
// Identical initializers (same dtype, shape and bytes) are merged the same way.
//
// Never merged: random ops and Dropout in training (two draws differ), nodes with subgraphs,
// a node whose outputs are graph outputs when the other's are too (names are interface).
#include <cstring>
#include <functional>
#include <string>
#include <unordered_map>

#include "passes/patterns.h"
#include "passes/rewrite.h"

namespace kiln::passes {
namespace {

bool same_bits(float a, float b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

bool same_floats(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!same_bits(a[i], b[i])) return false;
  return true;
}

// Same dtype, shape and contents. Header-only tensors (no data) are never equal: their
// contents are unknown.
bool same_tensor(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  if (a.dtype() == DataType::kString) return a.string_data() == b.string_data();
  if (a.nbytes() != b.nbytes()) return false;
  if (a.nbytes() == 0) return true;
  if (a.data() == nullptr || b.data() == nullptr) return false;
  return a.data() == b.data() || std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

bool same_attr(const ir::Attribute& a, const ir::Attribute& b) {
  if (a.name != b.name || a.type != b.type) return false;
  switch (a.type) {
    case ir::AttrType::kFloat:
      return same_bits(a.f, b.f);
    case ir::AttrType::kInt:
      return a.i == b.i;
    case ir::AttrType::kString:
      return a.s == b.s;
    case ir::AttrType::kTensor:
      return same_tensor(a.t, b.t);
    case ir::AttrType::kFloats:
      return same_floats(a.floats, b.floats);
    case ir::AttrType::kInts:
      return a.ints == b.ints;
    case ir::AttrType::kStrings:
      return a.strings == b.strings;
    case ir::AttrType::kTensors:
      if (a.tensors.size() != b.tensors.size()) return false;
      for (size_t i = 0; i < a.tensors.size(); ++i)
        if (!same_tensor(a.tensors[i], b.tensors[i])) return false;
      return true;
    default:
      return false;  // graphs, sparse tensors, type protos: not compared
  }
}

bool same_node(const ir::Node& a, const ir::Node& b) {
  if (a.op_type() != b.op_type() || a.domain() != b.domain() || a.opset() != b.opset() ||
      a.inputs() != b.inputs() || a.outputs().size() != b.outputs().size() ||
      a.attributes().size() != b.attributes().size())
    return false;
  for (const ir::Attribute& x : a.attributes()) {
    const ir::Attribute* y = b.attr(x.name);
    if (y == nullptr || !same_attr(x, *y)) return false;
  }
  return true;
}

bool mergeable(const ir::Node& n, PassContext& ctx) {
  const std::string& op = n.op_type();
  if (n.outputs().empty() || !n.subgraphs().empty()) return false;
  if (op.rfind("Random", 0) == 0 || op == "Bernoulli" || op == "Multinomial") {
    ctx.explain(n, "random op: two draws differ");
    return false;
  }
  if (op == "Dropout" && n.domain().empty() && n.input(2) != nullptr) {
    const std::optional<double> training = scalar_constant(n.input(2));
    if (!training || *training != 0) return false;
  }
  return true;
}

// Bucket key: everything compared except attribute contents beyond their names and types.
std::string key_of(const ir::Node& n) {
  std::string k = n.domain() + "::" + n.op_type() + "@" + std::to_string(n.opset()) + "(";
  for (const ir::Value* v : n.inputs()) k += std::to_string(reinterpret_cast<uintptr_t>(v)) + ",";
  k += ")";
  for (const ir::Attribute& a : n.attributes())
    k += a.name + ":" + std::to_string(static_cast<int>(a.type)) + ";";
  return k;
}

bool has_graph_output(const ir::Node& n) {
  for (const ir::Value* v : n.outputs())
    if (v != nullptr && v->is_graph_output()) return true;
  return false;
}

// `drop`'s readers can all read `keep`'s outputs instead.
bool covers(const ir::Node& keep, const ir::Node& drop) {
  for (size_t i = 0; i < drop.outputs().size(); ++i) {
    const ir::Value* d = drop.output(i);
    if (d != nullptr && !d->consumers().empty() && keep.output(i) == nullptr) return false;
  }
  return !has_graph_output(drop);
}

class CommonSubexpressionElimination final : public Pass {
 public:
  std::string_view name() const override { return "common_subexpression_elimination"; }

  Status run(ir::Graph& graph, PassContext& ctx, bool* changed) override {
    Editor edit(graph, ctx);
    merge_initializers(graph, ctx, changed);
    std::unordered_map<std::string, std::vector<ir::Node*>> seen;
    for (ir::Node* n : graph.nodes()) {
      if (!mergeable(*n, ctx)) continue;
      std::vector<ir::Node*>& bucket = seen[key_of(*n)];
      bool merged = false;
      for (ir::Node*& first : bucket) {
        if (!same_node(*first, *n)) continue;
        // The one whose outputs are graph outputs stays (their names are the interface).
        ir::Node* keep = first;
        ir::Node* drop = n;
        if (!covers(*keep, *drop)) std::swap(keep, drop);
        if (!covers(*keep, *drop)) {
          ctx.explain(*n, "both it and its twin produce graph outputs");
          break;
        }
        for (size_t i = 0; i < drop->outputs().size(); ++i)
          if (drop->output(i) != nullptr) edit.redirect(drop->output(i), keep->output(i));
        edit.remove(drop);
        first = keep;
        ctx.count("node");
        *changed = merged = true;
        break;
      }
      if (!merged) bucket.push_back(n);
    }
    return Status::Ok();
  }

 private:
  static void merge_initializers(ir::Graph& graph, PassContext& ctx, bool* changed) {
    // Bucketed by dtype, shape and the first bytes, so only likely twins are compared whole.
    std::unordered_map<std::string, std::vector<ir::Value*>> buckets;
    const std::vector<ir::Value*> inits = graph.initializers();
    for (ir::Value* v : inits) {
      if (v->is_graph_input() || v->is_graph_output()) continue;
      const Tensor& t = *v->initializer();
      if (t.dtype() == DataType::kString || (t.data() == nullptr && t.nbytes() > 0)) continue;
      std::string key = std::to_string(static_cast<int>(t.dtype()));
      for (int64_t d : t.shape()) key += "," + std::to_string(d);
      const size_t head = std::min<size_t>(t.nbytes(), 256);
      key += "#" + std::to_string(std::hash<std::string_view>{}(
                       std::string_view(static_cast<const char*>(t.data()), head)));
      std::vector<ir::Value*>& bucket = buckets[key];
      ir::Value* twin = nullptr;
      for (ir::Value* u : bucket)
        if (same_tensor(*u->initializer(), t)) {
          twin = u;
          break;
        }
      if (twin == nullptr) {
        bucket.push_back(v);
        continue;
      }
      graph.replace_all_uses(v, twin);
      graph.remove_unused_initializer(v);
      ctx.count("initializer");
      *changed = true;
    }
  }
};

}  // namespace

std::unique_ptr<Pass> make_common_subexpression_elimination() {
  return std::make_unique<CommonSubexpressionElimination>();
}

}  // namespace kiln::passes
