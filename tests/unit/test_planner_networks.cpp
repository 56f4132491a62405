// Acceptance test of the memory planner's quality on realistic schedules: ResNet-50, BERT-base
// and a U-Net built as ir::Graphs with the activation sizes of the real networks (fp32, node order
// as exported by PyTorch with batch norm folded into the convolutions). The arena must stay
// within 10% of the lower bound (max bytes live at one step), with and without in-place reuse.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "builder/memory_planner.h"

namespace kiln::builder {
namespace {

using ir::Graph;
using ir::Node;
using ir::Value;

// Builds a graph node by node; each op's output size is given in elements.
class Net {
 public:
  Value* input(const std::string& name) {
    ir::ValueType t;
    t.dtype = DataType::kFloat32;
    Result<Value*> v = graph.add_input(name, t);
    EXPECT_TRUE(v.ok());
    return v.ok() ? *v : nullptr;
  }
  Value* op(const std::string& op_type, std::vector<Value*> inputs, uint64_t elements,
            uint64_t element_bytes = 4) {
    const std::string name = op_type + "_" + std::to_string(graph.num_nodes());
    Result<Value*> out = graph.add_value(name);
    EXPECT_TRUE(out.ok());
    graph.add_node(op_type, "", name, std::move(inputs), {*out});
    bytes[*out] = elements * element_bytes;
    return *out;
  }
  std::optional<uint64_t> bytes_of(const Value& v) const {
    auto it = bytes.find(&v);
    return it == bytes.end() ? std::nullopt : std::optional<uint64_t>(it->second);
  }

  Graph graph{"net"};
  std::unordered_map<const Value*, uint64_t> bytes;
};

// Elementwise kernels (and Reshape, a view) may write their output over an input.
bool elementwise_inplace(const Node& node, size_t) {
  static const std::set<std::string> ops = {"Relu", "Add", "Sub", "Mul", "Div", "Erf", "Reshape"};
  return ops.count(node.op_type()) > 0;
}

bool no_inplace(const Node&, size_t) {
  return false;
}

// torchvision resnet50 (v1.5: stride on the 3x3 conv), batch norm folded.
void build_resnet50(Net& net, uint64_t batch) {
  Value* t = net.input("input");
  t = net.op("Conv", {t}, batch * 64 * 112 * 112);
  t = net.op("Relu", {t}, batch * 64 * 112 * 112);
  t = net.op("MaxPool", {t}, batch * 64 * 56 * 56);
  uint64_t hw = 56;
  const int blocks[] = {3, 4, 6, 3};
  for (int stage = 0; stage < 4; ++stage) {
    const uint64_t width = 64u << stage;
    for (int b = 0; b < blocks[stage]; ++b) {
      const uint64_t stride = (b == 0 && stage > 0) ? 2 : 1;
      const uint64_t out_hw = hw / stride;
      Value* in = t;
      Value* a = net.op("Conv", {in}, batch * width * hw * hw);
      a = net.op("Relu", {a}, batch * width * hw * hw);
      a = net.op("Conv", {a}, batch * width * out_hw * out_hw);
      a = net.op("Relu", {a}, batch * width * out_hw * out_hw);
      a = net.op("Conv", {a}, batch * 4 * width * out_hw * out_hw);
      // The projection shortcut runs after the main path, as in torchvision's forward().
      Value* identity = b == 0 ? net.op("Conv", {in}, batch * 4 * width * out_hw * out_hw) : in;
      a = net.op("Add", {a, identity}, batch * 4 * width * out_hw * out_hw);
      t = net.op("Relu", {a}, batch * 4 * width * out_hw * out_hw);
      hw = out_hw;
    }
  }
  t = net.op("GlobalAveragePool", {t}, batch * 2048);
  t = net.op("Flatten", {t}, batch * 2048);
  t = net.op("Gemm", {t}, batch * 1000);
  net.graph.add_output(t);
}

// HuggingFace bert-base-uncased as exported to ONNX: 12 layers, hidden 768, 12 heads, FFN 3072,
// GELU as Div/Erf/Add/Mul/Mul, the attention mask computed once and read by every layer.
void build_bert_base(Net& net, uint64_t batch, uint64_t seq) {
  const uint64_t tokens = batch * seq, hidden = 768, heads = 12, ffn = 3072;
  Value* ids = net.input("input_ids");
  Value* mask_in = net.input("attention_mask");
  Value* m = net.op("Unsqueeze", {mask_in}, tokens, 8);
  m = net.op("Cast", {m}, tokens);
  m = net.op("Sub", {m}, tokens);
  m = net.op("Mul", {m}, tokens);
  Value* x = net.op("Gather", {ids}, tokens * hidden);
  x = net.op("Add", {x}, tokens * hidden);
  x = net.op("Add", {x}, tokens * hidden);
  x = net.op("LayerNormalization", {x}, tokens * hidden);
  for (int layer = 0; layer < 12; ++layer) {
    Value* heads_out[3];
    for (int i = 0; i < 3; ++i) {  // q, k, v projections
      Value* p = net.op("MatMul", {x}, tokens * hidden);
      p = net.op("Add", {p}, tokens * hidden);
      p = net.op("Reshape", {p}, tokens * hidden);
      heads_out[i] = net.op("Transpose", {p}, tokens * hidden);
    }
    Value* s = net.op("MatMul", {heads_out[0], heads_out[1]}, batch * heads * seq * seq);
    s = net.op("Div", {s}, batch * heads * seq * seq);
    s = net.op("Add", {s, m}, batch * heads * seq * seq);
    s = net.op("Softmax", {s}, batch * heads * seq * seq);
    Value* c = net.op("MatMul", {s, heads_out[2]}, tokens * hidden);
    c = net.op("Transpose", {c}, tokens * hidden);
    c = net.op("Reshape", {c}, tokens * hidden);
    c = net.op("MatMul", {c}, tokens * hidden);
    c = net.op("Add", {c}, tokens * hidden);
    c = net.op("Add", {c, x}, tokens * hidden);
    Value* x1 = net.op("LayerNormalization", {c}, tokens * hidden);
    Value* h = net.op("MatMul", {x1}, tokens * ffn);
    h = net.op("Add", {h}, tokens * ffn);
    Value* g = net.op("Div", {h}, tokens * ffn);
    g = net.op("Erf", {g}, tokens * ffn);
    g = net.op("Add", {g}, tokens * ffn);
    g = net.op("Mul", {h, g}, tokens * ffn);
    g = net.op("Mul", {g}, tokens * ffn);
    Value* f = net.op("MatMul", {g}, tokens * hidden);
    f = net.op("Add", {f}, tokens * hidden);
    f = net.op("Add", {f, x1}, tokens * hidden);
    x = net.op("LayerNormalization", {f}, tokens * hidden);
  }
  net.graph.add_output(x);
}

// U-Net (padded 3x3 convolutions, 256x256 input): the encoder's feature maps stay live across
// the whole bottleneck until the decoder concatenates them, so lifetimes nest instead of chaining.
void build_unet(Net& net, uint64_t batch) {
  Value* t = net.input("image");
  std::vector<Value*> skips;
  for (int level = 0; level < 5; ++level) {
    const uint64_t c = 64u << level, hw = 256u >> level;
    if (level > 0) t = net.op("MaxPool", {t}, batch * (c / 2) * hw * hw);
    for (int i = 0; i < 2; ++i) {
      t = net.op("Conv", {t}, batch * c * hw * hw);
      t = net.op("Relu", {t}, batch * c * hw * hw);
    }
    if (level < 4) skips.push_back(t);
  }
  for (int level = 3; level >= 0; --level) {
    const uint64_t c = 64u << level, hw = 256u >> level;
    Value* up = net.op("ConvTranspose", {t}, batch * c * hw * hw);
    t = net.op("Concat", {up, skips[level]}, batch * 2 * c * hw * hw);
    for (int i = 0; i < 2; ++i) {
      t = net.op("Conv", {t}, batch * c * hw * hw);
      t = net.op("Relu", {t}, batch * c * hw * hw);
    }
  }
  t = net.op("Conv", {t}, batch * 2 * 256 * 256);
  net.graph.add_output(t);
}

// Plans `net` and checks the acceptance ratio; prints the figures for the record.
void expect_near_bound(const Net& net, const std::string& label, bool inplace) {
  const auto bytes_of = [&](const Value& v) { return net.bytes_of(v); };
  const GraphMemoryPlan plan =
      plan_graph_memory(net.graph, bytes_of, inplace ? elementwise_inplace : no_inplace, 256);
  ASSERT_GT(plan.lower_bound_bytes, 0u);
  const double ratio =
      static_cast<double>(plan.arena_bytes) / static_cast<double>(plan.lower_bound_bytes);
  size_t pairs = 0;
  for (const auto& s : plan.slots) pairs += s.inplace_of != nullptr;
  std::printf(
      "%-28s %-10s buffers %4zu in-place %3zu naive %8.2f MiB  bound %7.2f MiB  arena %7.2f "
      "MiB  ratio %.4f (%s)\n",
      label.c_str(), inplace ? "in-place" : "no-inplace", plan.slots.size(), pairs,
      plan.naive_bytes / 1048576.0, plan.lower_bound_bytes / 1048576.0,
      plan.arena_bytes / 1048576.0, ratio, plan.strategy.c_str());
  EXPECT_LE(ratio, 1.10) << label;
  EXPECT_LE(plan.arena_bytes, plan.naive_bytes);
  // The elementwise rule must find pairs, or the in-place run proves little.
  EXPECT_EQ(pairs > 0, inplace);
  EXPECT_TRUE(plan.dynamic.empty());
}

TEST(PlannerNetworks, ResNet50) {
  for (uint64_t batch : {1u, 8u}) {
    Net net;
    build_resnet50(net, batch);
    // 53 convs + 49 relus + 16 adds + maxpool, pool, flatten (the Gemm is the graph output).
    EXPECT_EQ(net.graph.num_nodes(), 53u + 49u + 16u + 4u);
    for (bool inplace : {false, true})
      expect_near_bound(net, "resnet50 batch " + std::to_string(batch), inplace);
  }
}

TEST(PlannerNetworks, BertBase) {
  for (uint64_t seq : {128u, 384u}) {
    Net net;
    build_bert_base(net, 1, seq);
    for (bool inplace : {false, true})
      expect_near_bound(net, "bert-base seq " + std::to_string(seq), inplace);
  }
}

TEST(PlannerNetworks, UNet) {
  Net net;
  build_unet(net, 1);
  for (bool inplace : {false, true}) expect_near_bound(net, "unet 256x256 batch 1", inplace);
}

}  // namespace
}  // namespace kiln::builder
