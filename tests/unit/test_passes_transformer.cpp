// layer_norm_fusion, gelu_fusion, attention_fusion: golden IR (fires / does not fire: a value
// read outside the block, float64), numeric equality with the unfused graph through the
// reference interpreter, and the kiln::Attention kernel on cases computed by hand.
#include <limits>

#include "ops/op_schema.h"
#include "unit/pass_test_util.h"

namespace kiln::test {
namespace {

// Replaces every "float32" in a graph text (the wrong-dtype variants).
std::string as_float64(std::string text) {
  for (size_t at = text.find("float32"); at != std::string::npos; at = text.find("float32", at))
    text.replace(at, 7, "float64");
  return text;
}

// `text` with the first `from` replaced by `to` (which must be there).
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The graph output list gains `extra`.
std::string with_output(const std::string& text, const std::string& first,
                        const std::string& extra) {
  return replaced(text, "-> (" + first + ")", "-> (" + first + ", " + extra + ")");
}

// A node appended before the graph's closing brace.
std::string with_node(std::string text, const std::string& node) {
  text.replace(text.rfind('}'), 1, "  " + node + "\n}");
  return text;
}

void set_scalar(ir::Graph& g, const std::string& name, DataType dt, double v) {
  Tensor t = Tensor::allocate(dt, {}).value();
  (void)ops::dispatch_float(dt, "scalar", [&]<typename T>() -> Status {
    t.data_as<T>()[0] = static_cast<T>(static_cast<ops::compute_t<T>>(v));
    return Status::Ok();
  });
  g.set_initializer(g.find(name), std::move(t));
}

DataType dtype_of(const ir::Graph& g, const std::string& name) {
  return g.find(name)->type.dtype;
}

// ---- layer_norm_fusion ------------------------------------------------------------------------

constexpr const char* kLayerNorm = R"(
graph main (%x: float32[2,5,8]) -> (%y: float32[2,5,8]) {
  init %two: float32[]
  init %eps: float32[]
  init %gamma: float32[8]
  init %beta: float32[8]
  %mean = ReduceMean(%x) {axes=[-1]} #0 "mean"
  %d = Sub(%x, %mean) #1 "sub"
  %sq = Pow(%d, %two) #2 "pow"
  %var = ReduceMean(%sq) {axes=[-1]} #3 "var"
  %ve = Add(%var, %eps) #4 "add_eps"
  %std = Sqrt(%ve) #5 "sqrt"
  %n = Div(%d, %std) #6 "div"
  %g = Mul(%n, %gamma) #7 "mul"
  %y = Add(%beta, %g) #8 "add"
}
)";

std::unique_ptr<ir::Model> layer_norm(const std::string& text, int64_t opset = 15) {
  return model_from_text(text, opset, 7, [](ir::Graph& g) {
    const DataType dt = dtype_of(g, "x");
    set_scalar(g, "two", dt, 2.0);
    set_scalar(g, "eps", dt, 1e-5);
  });
}

TEST(PassLayerNormFusion, FusesTheDecomposedFormIntoLayerNormalization) {
  auto m = layer_norm(kLayerNorm);
  ASSERT_TRUE(m);
  auto report = run_passes(*m, {"layer_norm_fusion"});
  EXPECT_EQ(ir::print(*m->graph), canonical(R"(
graph main (%x: float32[2,5,8]) -> (%y: float32[2,5,8]) {
  init %two: float32[]
  init %eps: float32[]
  init %gamma: float32[8]
  init %beta: float32[8]
  %y = LayerNormalization(%x, %gamma, %beta) {axis=2, epsilon=1e-05} #8 "add"
}
)"));
  EXPECT_EQ(report.counts["layer_norm_fusion"]["LayerNormalization"], 1);
  EXPECT_EQ(m->graph->nodes()[0]->opset(), 17);  // the node's own opset; the model imports 15
  // fused_from names every node of the decomposition.
  EXPECT_EQ(m->graph->nodes()[0]->origins().size(), 9u);
  expect_same_outputs([] { return layer_norm(kLayerNorm); }, {"layer_norm_fusion"});
}

// Mul(d, d) for the square, axes as an input (opset 18), Reciprocal instead of Div, no beta.
constexpr const char* kLayerNormVariant = R"(
graph main (%x: float32[3,4,6]) -> (%y: float32[3,4,6]) {
  init %axes: int64[1]
  init %eps: float32[]
  init %gamma: float32[6]
  %mean = ReduceMean(%x, %axes) #0 "mean"
  %d = Sub(%x, %mean) #1 "sub"
  %sq = Mul(%d, %d) #2 "square"
  %var = ReduceMean(%sq, %axes) #3 "var"
  %ve = Add(%eps, %var) #4 "add_eps"
  %std = Sqrt(%ve) #5 "sqrt"
  %r = Reciprocal(%std) #6 "recip"
  %n = Mul(%r, %d) #7 "norm"
  %y = Mul(%gamma, %n) #8 "scale"
}
)";

std::unique_ptr<ir::Model> layer_norm_variant() {
  return model_from_text(kLayerNormVariant, 18, 7, [](ir::Graph& g) {
    set_init<int64_t>(g, "axes", DataType::kInt64, {1}, {2});
    set_scalar(g, "eps", DataType::kFloat32, 1e-6);
  });
}

TEST(PassLayerNormFusion, FusesSquareByMulAxesInputReciprocalAndNoBias) {
  auto m = layer_norm_variant();
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, {"layer_norm_fusion"}), canonical(R"(
graph main (%x: float32[3,4,6]) -> (%y: float32[3,4,6]) {
  init %axes: int64[1]
  init %eps: float32[]
  init %gamma: float32[6]
  %y = LayerNormalization(%x, %gamma, _) {axis=2, epsilon=1e-06} #8 "scale"
}
)"));
  expect_same_outputs(layer_norm_variant, {"layer_norm_fusion"});
}

TEST(PassLayerNormFusion, KeepsBlocksWhoseIntermediatesAreReadElsewhere) {
  // x - mean(x) is also a graph output.
  const std::string text = with_output(kLayerNorm, "%y: float32[2,5,8]", "%d: float32[2,5,8]");
  auto m = layer_norm(text);
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, {"layer_norm_fusion"}), canonical(text));
  // The normalized value read by another node.
  const std::string text2 =
      with_node(with_output(kLayerNorm, "%y: float32[2,5,8]", "%z: float32[2,5,8]"),
                "%z = Neg(%n) #9 \"other_reader\"");
  auto m2 = layer_norm(text2);
  ASSERT_TRUE(m2);
  EXPECT_EQ(optimized_text(*m2, {"layer_norm_fusion"}), canonical(text2));
}

TEST(PassLayerNormFusion, KeepsFloat64AndNonTrailingAxesAndOtherExponents) {
  const std::string f64 = as_float64(kLayerNorm);
  auto m = layer_norm(f64);
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, {"layer_norm_fusion"}), canonical(f64));

  std::string axis1 = kLayerNorm;
  for (size_t at = axis1.find("axes=[-1]"); at != std::string::npos; at = axis1.find("axes=[-1]"))
    axis1.replace(at, 9, "axes=[1]");
  auto m2 = layer_norm(axis1);
  ASSERT_TRUE(m2);
  EXPECT_EQ(optimized_text(*m2, {"layer_norm_fusion"}), canonical(axis1));

  auto m3 = model_from_text(kLayerNorm, 15, 7, [](ir::Graph& g) {
    set_scalar(g, "two", DataType::kFloat32, 3.0);
    set_scalar(g, "eps", DataType::kFloat32, 1e-5);
  });
  ASSERT_TRUE(m3);
  EXPECT_EQ(optimized_text(*m3, {"layer_norm_fusion"}), canonical(kLayerNorm));
}

// ---- gelu_fusion ------------------------------------------------------------------------------

// BERT's order: (x * (1 + Erf(x / sqrt2))) * 0.5.
constexpr const char* kGeluErf = R"(
graph main (%x: float32[2,6]) -> (%y: float32[2,6]) {
  init %sqrt2: float32[]
  init %one: float32[]
  init %half: float32[]
  %d = Div(%x, %sqrt2) #0 "div"
  %e = Erf(%d) #1 "erf"
  %a = Add(%e, %one) #2 "add"
  %m = Mul(%x, %a) #3 "mul"
  %y = Mul(%m, %half) #4 "mul_half"
}
)";

// 0.5 first, Mul by 1/sqrt2, operands swapped.
constexpr const char* kGeluErfSwapped = R"(
graph main (%x: float32[2,6]) -> (%y: float32[2,6]) {
  init %inv_sqrt2: float32[]
  init %one: float32[]
  init %half: float32[]
  %h = Mul(%half, %x) #0 "half_x"
  %d = Mul(%inv_sqrt2, %x) #1 "mul_inv_sqrt2"
  %e = Erf(%d) #2 "erf"
  %a = Add(%one, %e) #3 "add"
  %y = Mul(%a, %h) #4 "mul"
}
)";

// GPT-2's NewGELU: 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))).
constexpr const char* kGeluTanh = R"(
graph main (%x: float32[2,6]) -> (%y: float32[2,6]) {
  init %half: float32[]
  init %three: float32[]
  init %c: float32[]
  init %k: float32[]
  init %one: float32[]
  %h = Mul(%x, %half) #0 "mul"
  %p = Pow(%x, %three) #1 "pow"
  %pc = Mul(%p, %c) #2 "mul_1"
  %s = Add(%x, %pc) #3 "add"
  %sk = Mul(%s, %k) #4 "mul_2"
  %t = Tanh(%sk) #5 "tanh"
  %a = Add(%t, %one) #6 "add_1"
  %y = Mul(%h, %a) #7 "mul_3"
}
)";

std::unique_ptr<ir::Model> gelu(const std::string& text) {
  return model_from_text(text, 17, 7, [](ir::Graph& g) {
    const DataType dt = dtype_of(g, "x");
    const std::pair<const char*, double> constants[] = {{"sqrt2", 1.4142135381698608},
                                                        {"inv_sqrt2", 0.7071067811865476},
                                                        {"one", 1.0},
                                                        {"half", 0.5},
                                                        {"three", 3.0},
                                                        {"c", 0.044714998453855515},
                                                        {"k", 0.7978845834732056}};
    for (const auto& [name, v] : constants)
      if (g.find(name) != nullptr) set_scalar(g, name, dt, v);
  });
}

TEST(PassGeluFusion, FusesTheErfFormInEitherOrder) {
  auto m = gelu(kGeluErf);
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, {"gelu_fusion"}), canonical(R"(
graph main (%x: float32[2,6]) -> (%y: float32[2,6]) {
  init %sqrt2: float32[]
  init %one: float32[]
  init %half: float32[]
  %y = Gelu(%x) {approximate="none"} #4 "mul_half"
}
)"));
  EXPECT_EQ(m->graph->nodes()[0]->opset(), 20);
  expect_same_outputs([] { return gelu(kGeluErf); }, {"gelu_fusion"});

  auto m2 = gelu(kGeluErfSwapped);
  ASSERT_TRUE(m2);
  EXPECT_EQ(optimized_text(*m2, {"gelu_fusion"}), canonical(R"(
graph main (%x: float32[2,6]) -> (%y: float32[2,6]) {
  init %inv_sqrt2: float32[]
  init %one: float32[]
  init %half: float32[]
  %y = Gelu(%x) {approximate="none"} #4 "mul"
}
)"));
  expect_same_outputs([] { return gelu(kGeluErfSwapped); }, {"gelu_fusion"});
}

TEST(PassGeluFusion, FusesTheTanhApproximation) {
  auto m = gelu(kGeluTanh);
  ASSERT_TRUE(m);
  auto report = run_passes(*m, {"gelu_fusion"});
  EXPECT_EQ(ir::print(*m->graph), canonical(R"(
graph main (%x: float32[2,6]) -> (%y: float32[2,6]) {
  init %half: float32[]
  init %three: float32[]
  init %c: float32[]
  init %k: float32[]
  init %one: float32[]
  %y = Gelu(%x) {approximate="tanh"} #7 "mul_3"
}
)"));
  EXPECT_EQ(report.counts["gelu_fusion"]["Gelu(tanh)"], 1);
  expect_same_outputs([] { return gelu(kGeluTanh); }, {"gelu_fusion"});
}

TEST(PassGeluFusion, KeepsBlocksWhoseIntermediatesAreReadElsewhere) {
  const std::string text = with_node(with_output(kGeluErf, "%y: float32[2,6]", "%z: float32[2,6]"),
                                     "%z = Neg(%e) #5 \"reads_erf\"");
  auto m = gelu(text);
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, {"gelu_fusion"}), canonical(text));
}

TEST(PassGeluFusion, KeepsFloat64AndWrongConstants) {
  const std::string f64 = as_float64(kGeluTanh);
  auto m = gelu(f64);
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, {"gelu_fusion"}), canonical(f64));
  // Divided by 1.5 instead of sqrt(2): not Gelu.
  auto m2 = model_from_text(kGeluErf, 17, 7, [](ir::Graph& g) {
    set_scalar(g, "sqrt2", DataType::kFloat32, 1.5);
    set_scalar(g, "one", DataType::kFloat32, 1.0);
    set_scalar(g, "half", DataType::kFloat32, 0.5);
  });
  ASSERT_TRUE(m2);
  EXPECT_EQ(optimized_text(*m2, {"gelu_fusion"}), canonical(kGeluErf));
}

TEST(PassGeluFusion, MatchesFloat16ConstantsWithinTheirRounding) {
  // sqrt(2) is 1.4140625 in float16: 1.5e-4 away, beyond a plain 1e-4 tolerance.
  std::string f16 = kGeluErf;
  for (size_t at = f16.find("float32"); at != std::string::npos; at = f16.find("float32", at))
    f16.replace(at, 7, "float16");
  auto m = model_from_text(f16, 17, 7, [](ir::Graph& g) {
    for (const auto& [name, v] :
         {std::pair<const char*, float>{"sqrt2", 1.4142135f}, {"one", 1.0f}, {"half", 0.5f}}) {
      Tensor t = Tensor::allocate(DataType::kFloat16, {}).value();
      t.data_as<ops::Half>()[0] = ops::Half(v);
      g.set_initializer(g.find(name), std::move(t));
    }
  });
  ASSERT_TRUE(m);
  run_passes(*m, {"gelu_fusion"});
  EXPECT_EQ(count_ops(*m, "Gelu"), 1);
  EXPECT_EQ(count_ops(*m, "Erf"), 0);
}

// ---- attention_fusion -------------------------------------------------------------------------

// BertSelfAttention: separate projections, Reshape to [B, S, H, D] with a constant target,
// K transposed to [B, H, D, S] at once, Div by sqrt(D), the extended padding mask added.
constexpr const char* kBertAttention = R"(
graph main (%x: float32[2,3,8], %mask: float32[2,1,1,3]) -> (%y: float32[2,3,8]) {
  init %wq: float32[8,8]
  init %bq: float32[8]
  init %wk: float32[8,8]
  init %bk: float32[8]
  init %wv: float32[8,8]
  init %bv: float32[8]
  init %split: int64[4]
  init %merge: int64[3]
  init %sqrt_d: float32[]
  %qm = MatMul(%x, %wq) #0 "q_mm"
  %q = Add(%bq, %qm) #1 "q"
  %km = MatMul(%x, %wk) #2 "k_mm"
  %k = Add(%bk, %km) #3 "k"
  %vm = MatMul(%x, %wv) #4 "v_mm"
  %v = Add(%bv, %vm) #5 "v"
  %kr = Reshape(%k, %split) #6 "k_reshape"
  %vr = Reshape(%v, %split) #7 "v_reshape"
  %vt = Transpose(%vr) {perm=[0,2,1,3]} #8 "v_t"
  %qr = Reshape(%q, %split) #9 "q_reshape"
  %qt = Transpose(%qr) {perm=[0,2,1,3]} #10 "q_t"
  %kt = Transpose(%kr) {perm=[0,2,3,1]} #11 "k_t"
  %s = MatMul(%qt, %kt) #12 "scores"
  %ss = Div(%s, %sqrt_d) #13 "scale"
  %sm = Add(%ss, %mask) #14 "add_mask"
  %p = Softmax(%sm) {axis=-1} #15 "softmax"
  %c = MatMul(%p, %vt) #16 "context"
  %ct = Transpose(%c) {perm=[0,2,1,3]} #17 "context_t"
  %y = Reshape(%ct, %merge) #18 "merge"
}
)";

constexpr const char* kBertFused = R"(
graph main (%x: float32[2,3,8], %mask: float32[2,1,1,3]) -> (%y: float32[2,3,8]) {
  init %wq: float32[8,8]
  init %bq: float32[8]
  init %wk: float32[8,8]
  init %bk: float32[8]
  init %wv: float32[8,8]
  init %bv: float32[8]
  init %split: int64[4]
  init %merge: int64[3]
  init %sqrt_d: float32[]
  %qm = MatMul(%x, %wq) #0 "q_mm"
  %q = Add(%bq, %qm) #1 "q"
  %km = MatMul(%x, %wk) #2 "k_mm"
  %k = Add(%bk, %km) #3 "k"
  %vm = MatMul(%x, %wv) #4 "v_mm"
  %v = Add(%bv, %vm) #5 "v"
  %y = kiln::Attention(%q, %k, %v, %mask) {num_heads=2, scale=0.5} #18 "merge"
}
)";

std::unique_ptr<ir::Model> bert_attention(const std::string& text) {
  return model_from_text(text, 17, 7, [](ir::Graph& g) {
    set_init<int64_t>(g, "split", DataType::kInt64, {4}, {0, 0, 2, 4});
    set_init<int64_t>(g, "merge", DataType::kInt64, {3}, {0, 0, 8});
    set_scalar(g, "sqrt_d", dtype_of(g, "x"), 2.0);
  });
}

TEST(PassAttentionFusion, FusesBertSelfAttention) {
  auto m = bert_attention(kBertAttention);
  ASSERT_TRUE(m);
  auto report = run_passes(*m, {"attention_fusion"});
  EXPECT_EQ(ir::print(*m->graph), canonical(kBertFused));
  EXPECT_EQ(report.counts["attention_fusion"]["Attention"], 1);
  EXPECT_EQ(m->opsets.at(std::string(ops::kKilnDomain)), ops::kKilnOpset);
  expect_same_outputs([] { return bert_attention(kBertAttention); }, {"attention_fusion"});
}

TEST(PassAttentionFusion, FusesFloat16AndMatchesItsRounding) {
  std::string f16 = kBertAttention;
  for (size_t at = f16.find("float32"); at != std::string::npos; at = f16.find("float32", at))
    f16.replace(at, 7, "float16");
  auto m = bert_attention(f16);
  ASSERT_TRUE(m);
  run_passes(*m, {"attention_fusion"});
  EXPECT_EQ(count_ops(*m, "Attention"), 1);
  // The kernel rounds to float16 wherever the unfused graph does: it agrees as closely as in
  // float32 (these inputs give identical results).
  expect_same_outputs([f16] { return bert_attention(f16); }, {"attention_fusion"});
}

TEST(PassAttentionFusion, FoldsScalesAppliedToQAndKSeparately) {
  // q * D^-1/4 and k^T * D^-1/4 instead of scores / sqrt(D); K transposed by two Transposes.
  std::string text = replaced(kBertAttention, "%kt = Transpose(%kr) {perm=[0,2,3,1]} #11 \"k_t\"",
                              "%kh = Transpose(%kr) {perm=[0,2,1,3]} #11 \"k_h\"\n"
                              "  %kt0 = Transpose(%kh) {perm=[0,1,3,2]} #19 \"k_t\"\n"
                              "  %kt = Mul(%kt0, %quarter) #20 \"k_scale\"");
  text = replaced(text, "%s = MatMul(%qt, %kt)",
                  "%qs = Mul(%qt, %quarter) #21 \"q_scale\"\n  %s = MatMul(%qs, %kt)");
  text = replaced(text, "  %ss = Div(%s, %sqrt_d) #13 \"scale\"\n", "");
  text = replaced(text, "Add(%ss, %mask)", "Add(%mask, %s)");
  text = replaced(text, "init %sqrt_d: float32[]", "init %quarter: float32[]");
  auto make = [text] {
    return model_from_text(text, 17, 7, [](ir::Graph& g) {
      set_init<int64_t>(g, "split", DataType::kInt64, {4}, {0, 0, 2, 4});
      set_init<int64_t>(g, "merge", DataType::kInt64, {3}, {0, 0, 8});
      set_scalar(g, "quarter", DataType::kFloat32, 1 / std::sqrt(2.0));
    });
  };
  auto m = make();
  ASSERT_TRUE(m);
  run_passes(*m, {"attention_fusion"});
  ASSERT_EQ(count_ops(*m, "Attention"), 1) << ir::print(*m->graph);
  const ir::Node* fused = m->graph->nodes().back();
  EXPECT_FLOAT_EQ(fused->attr("scale")->f, 0.5f);
  EXPECT_EQ(count_ops(*m, "Transpose"), 0);
  expect_same_outputs(make, {"attention_fusion"});
}

TEST(PassAttentionFusion, KeepsBlocksWhoseScoresOrProbabilitiesAreReadElsewhere) {
  const std::string scores_out =
      with_output(kBertAttention, "%y: float32[2,3,8]", "%s: float32[2,2,3,3]");
  auto m = bert_attention(scores_out);
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, {"attention_fusion"}), canonical(scores_out));

  const std::string probs_read =
      with_node(with_output(kBertAttention, "%y: float32[2,3,8]", "%z: float32[2,2,3,3]"),
                "%z = Neg(%p) #19 \"reads_probs\"");
  auto m2 = bert_attention(probs_read);
  ASSERT_TRUE(m2);
  EXPECT_EQ(optimized_text(*m2, {"attention_fusion"}), canonical(probs_read));
}

TEST(PassAttentionFusion, KeepsFloat64AndMasksAddedBeforeTheScale) {
  const std::string f64 = as_float64(kBertAttention);
  auto m = bert_attention(f64);
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, {"attention_fusion"}), canonical(f64));
  // (s + mask) / sqrt(D) scales the mask too: not what kiln::Attention computes.
  std::string early = replaced(kBertAttention, "%ss = Div(%s, %sqrt_d)", "%ss = Add(%s, %mask)");
  early = replaced(early, "%sm = Add(%ss, %mask)", "%sm = Div(%ss, %sqrt_d)");
  auto m2 = bert_attention(early);
  ASSERT_TRUE(m2);
  EXPECT_EQ(optimized_text(*m2, {"attention_fusion"}), canonical(early));
}

TEST(PassAttentionFusion, SumsTwoAdditiveMasksIntoOneInput) {
  // A constant causal bias and the padding mask, added one after the other.
  std::string text = replaced(kBertAttention, "%sm = Add(%ss, %mask) #14 \"add_mask\"",
                              "%sb = Add(%ss, %bias) #19 \"add_bias\"\n"
                              "  %sm = Add(%mask, %sb) #14 \"add_mask\"");
  text = replaced(text, "init %sqrt_d: float32[]",
                  "init %sqrt_d: float32[]\n  init %bias: float32[3,3]");
  auto m = bert_attention(text);
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, {"attention_fusion"}),
            canonical(replaced(replaced(kBertFused, "init %sqrt_d: float32[]",
                                        "init %sqrt_d: float32[]\n  init %bias: float32[3,3]"),
                               "%y = kiln::Attention(%q, %k, %v, %mask)",
                               "%merge/mask = Add(%mask, %bias) \"add_mask\"\n"
                               "  %y = kiln::Attention(%q, %k, %v, %merge/mask)")));
  expect_same_outputs([text] { return bert_attention(text); }, {"attention_fusion"});
}

TEST(PassAttentionFusion, KeepsSoftmaxOverAnotherAxis) {
  const std::string text =
      replaced(kBertAttention, "Softmax(%sm) {axis=-1}", "Softmax(%sm) {axis=2}");
  auto m = bert_attention(text);
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, {"attention_fusion"}), canonical(text));
}

// GPT2Attention (transformers 4.46 eager): fused QKV projection split three ways, Reshape
// targets computed from shapes, scale = sqrt(Shape(v)[-1]) computed at run time, the causal
// band sliced out of a tril buffer by key_len - query_len, then the padding mask.
constexpr const char* kGpt2Attention = R"(
graph main (%x: float32[2,5,8], %pad: float32[2,1,1,5]) -> (%y: float32[2,5,8]) {
  init %w: float32[8,24]
  init %b: float32[24]
  init %sizes: int64[3]
  init %heads: int64[2]
  init %i0: int64[]
  init %i1: int64[]
  init %axes0: int64[1]
  init %last: int64[1]
  init %big: int64[1]
  init %m2: int64[1]
  init %axis2: int64[1]
  init %axis3: int64[1]
  init %half: float32[]
  init %tril: bool[1,1,7,7]
  init %lowest: float32[]
  init %merge: int64[3]
  %h = MatMul(%x, %w) #0 "c_attn_mm"
  %qkv = Add(%h, %b) #1 "c_attn"
  %q, %k, %v = Split(%qkv, %sizes) {axis=2} #2 "split"
  %qs = Shape(%q) #3
  %qb = Gather(%qs, %i0) {axis=0} #4
  %qn = Gather(%qs, %i1) {axis=0} #5
  %qbu = Unsqueeze(%qb, %axes0) #6
  %qnu = Unsqueeze(%qn, %axes0) #7
  %shape = Concat(%qbu, %qnu, %heads) {axis=0} #8
  %qr = Reshape(%q, %shape) #9 "q_reshape"
  %qt = Transpose(%qr) {perm=[0,2,1,3]} #10 "q_t"
  %kr = Reshape(%k, %shape) #11 "k_reshape"
  %kh = Transpose(%kr) {perm=[0,2,1,3]} #12 "k_heads"
  %kt = Transpose(%kr) {perm=[0,2,3,1]} #13 "k_t"
  %vr = Reshape(%v, %shape) #14 "v_reshape"
  %vt = Transpose(%vr) {perm=[0,2,1,3]} #15 "v_t"
  %s = MatMul(%qt, %kt) #16 "scores"
  %vs = Shape(%vt) #17
  %dsl = Slice(%vs, %last, %big, %axes0) #18
  %dsq = Squeeze(%dsl, %axes0) #19
  %df = Cast(%dsq) {to=1} #20
  %sqrt_d = Pow(%df, %half) #21
  %ss = Div(%s, %sqrt_d) #22 "scale"
  %ssc = Cast(%ss) {to=1} #23 "noop_cast"
  %khs = Shape(%kh) #24
  %kls = Slice(%khs, %m2, %last, %axes0) #25
  %kl = Squeeze(%kls, %axes0) #26
  %qts = Shape(%qt) #27
  %qls = Slice(%qts, %m2, %last, %axes0) #28
  %ql = Squeeze(%qls, %axes0) #29
  %off = Sub(%kl, %ql) #30
  %offu = Unsqueeze(%off, %axes0) #31
  %klu = Unsqueeze(%kl, %axes0) #32
  %rows = Slice(%tril, %offu, %klu, %axis2) #33
  %cond = Slice(%rows, %axes0, %klu, %axis3) #34
  %masked = Where(%cond, %ssc, %lowest) #35 "causal"
  %sm = Add(%masked, %pad) #36 "add_pad"
  %p = Softmax(%sm) {axis=-1} #37 "softmax"
  %c = MatMul(%p, %vt) #38 "context"
  %ct = Transpose(%c) {perm=[0,2,1,3]} #39 "context_t"
  %y = Reshape(%ct, %merge) #40 "merge"
}
)";

std::vector<uint8_t> tril(int64_t n) {
  std::vector<uint8_t> t(static_cast<size_t>(n * n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) t[static_cast<size_t>(i * n + j)] = 1;
  return t;
}

std::unique_ptr<ir::Model> gpt2_attention(const std::string& text, float fill,
                                          std::vector<uint8_t> buffer = tril(7)) {
  return model_from_text(text, 14, 7, [fill, buffer](ir::Graph& g) {
    set_init<int64_t>(g, "sizes", DataType::kInt64, {3}, {8, 8, 8});
    set_init<int64_t>(g, "heads", DataType::kInt64, {2}, {2, 4});
    set_init<int64_t>(g, "i0", DataType::kInt64, {}, {0});
    set_init<int64_t>(g, "i1", DataType::kInt64, {}, {1});
    set_init<int64_t>(g, "axes0", DataType::kInt64, {1}, {0});
    set_init<int64_t>(g, "last", DataType::kInt64, {1}, {-1});
    set_init<int64_t>(g, "big", DataType::kInt64, {1}, {std::numeric_limits<int64_t>::max()});
    set_init<int64_t>(g, "m2", DataType::kInt64, {1}, {-2});
    set_init<int64_t>(g, "axis2", DataType::kInt64, {1}, {2});
    set_init<int64_t>(g, "axis3", DataType::kInt64, {1}, {3});
    set_init<int64_t>(g, "merge", DataType::kInt64, {3}, {0, 0, 8});
    set_init<uint8_t>(g, "tril", DataType::kBool, {1, 1, 7, 7}, buffer);
    if (g.find("one") != nullptr) set_init<int64_t>(g, "one", DataType::kInt64, {1}, {1});
    set_scalar(g, "half", DataType::kFloat32, 0.5);
    set_scalar(g, "lowest", DataType::kFloat32, fill);
  });
}

TEST(PassAttentionFusion, FusesGpt2AttentionWithItsCausalMask) {
  const float lowest = std::numeric_limits<float>::lowest();
  auto m = gpt2_attention(kGpt2Attention, lowest);
  ASSERT_TRUE(m);
  auto report = run_passes(*m, {"attention_fusion"});
  EXPECT_EQ(ir::print(*m->graph), canonical(R"(
graph main (%x: float32[2,5,8], %pad: float32[2,1,1,5]) -> (%y: float32[2,5,8]) {
  init %w: float32[8,24]
  init %b: float32[24]
  init %sizes: int64[3]
  init %heads: int64[2]
  init %i0: int64[]
  init %i1: int64[]
  init %axes0: int64[1]
  init %last: int64[1]
  init %big: int64[1]
  init %m2: int64[1]
  init %axis2: int64[1]
  init %axis3: int64[1]
  init %half: float32[]
  init %tril: bool[1,1,7,7]
  init %lowest: float32[]
  init %merge: int64[3]
  %h = MatMul(%x, %w) #0 "c_attn_mm"
  %qkv = Add(%h, %b) #1 "c_attn"
  %q, %k, %v = Split(%qkv, %sizes) {axis=2} #2 "split"
  %y = kiln::Attention(%q, %k, %v, %pad) {num_heads=2, scale=0.5, causal=1} #40 "merge"
}
)"));
  EXPECT_EQ(report.counts["attention_fusion"]["Attention(causal)"], 1);
  expect_same_outputs([lowest] { return gpt2_attention(kGpt2Attention, lowest); },
                      {"attention_fusion"});
}

TEST(PassAttentionFusion, KeepsCausalMasksItCannotProve) {
  const float lowest = std::numeric_limits<float>::lowest();
  // Filled with -1e4 rather than the lowest float: a different result on fully masked rows.
  auto m = gpt2_attention(kGpt2Attention, -1e4f);
  ASSERT_TRUE(m);
  run_passes(*m, {"attention_fusion"});
  EXPECT_EQ(count_ops(*m, "Attention"), 0);
  // An upper-triangular buffer (anti-causal).
  std::vector<uint8_t> triu = tril(7);
  for (int i = 0; i < 7; ++i)
    for (int j = 0; j < 7; ++j) triu[static_cast<size_t>(i * 7 + j)] = j >= i;
  auto m2 = gpt2_attention(kGpt2Attention, lowest, triu);
  ASSERT_TRUE(m2);
  run_passes(*m2, {"attention_fusion"});
  EXPECT_EQ(count_ops(*m2, "Attention"), 0);
  // The band shifted by one row: rows [1, key_len + 1).
  std::string shifted = replaced(kGpt2Attention, "%rows = Slice(%tril, %offu, %klu, %axis2)",
                                 "%end = Add(%klu, %one) #41\n"
                                 "  %rows = Slice(%tril, %one, %end, %axis2)");
  shifted = replaced(shifted, "  init %merge: int64[3]\n",
                     "  init %merge: int64[3]\n  init %one: int64[1]\n");
  auto m3 = gpt2_attention(shifted, lowest);
  ASSERT_TRUE(m3);
  run_passes(*m3, {"attention_fusion"});
  EXPECT_EQ(count_ops(*m3, "Attention"), 0);
}

// ---- kiln::Attention's reference kernel on values worked out by hand --------------------------

Tensor floats(std::vector<int64_t> shape, std::vector<float> values) {
  Tensor t = Tensor::allocate(DataType::kFloat32, std::move(shape)).value();
  std::memcpy(t.data(), values.data(), values.size() * sizeof(float));
  return t;
}

TEST(FusedAttentionKernel, MatchesHandComputedAttention) {
  // One batch, two heads of size 1, three positions, causal. Head 0: q = 0, so every score is
  // 0; head 1: q = k = 1, so every score is 0.5. Equal scores among the visible keys: row i of
  // each head is the mean of V[0..i].
  auto m = model_from_text(R"(
graph main (%q: float32[1,3,2], %k: float32[1,3,2], %v: float32[1,3,2]) -> (%y: float32[1,3,2]) {
  %y = kiln::Attention(%q, %k, %v) {num_heads=2, scale=0.5, causal=1} #0 "attention"
}
)");
  ASSERT_TRUE(m);
  m->opsets[std::string(ops::kKilnDomain)] = ops::kKilnOpset;
  m->graph->nodes()[0]->set_opset(ops::kKilnOpset);
  interp::TensorMap in;
  in["q"] = floats({1, 3, 2}, {0, 1, 0, 1, 0, 1});
  in["k"] = floats({1, 3, 2}, {5, 1, -3, 1, 7, 1});
  in["v"] = floats({1, 3, 2}, {1, 2, 4, 8, 7, 32});
  auto out = interp::run(*m, in);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  const Tensor& y = out->at("y");
  ASSERT_EQ(y.shape(), (std::vector<int64_t>{1, 3, 2}));
  const float* d = y.data_as<float>();
  const float want[6] = {1, 2, 2.5f, 5, 4, 14};
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(d[i], want[i], 1e-5) << i;
}

TEST(FusedAttentionKernel, AddsTheMaskAndRejectsBadShapes) {
  // A mask of -inf on key 1 for every query: only key 0 counts.
  auto m = model_from_text(R"(
graph main (%q: float32[1,2,1], %k: float32[1,2,1], %v: float32[1,2,1], %mask: float32[1,1,1,2])
    -> (%y: float32[1,2,1]) {
  %y = kiln::Attention(%q, %k, %v, %mask) {num_heads=1} #0 "attention"
}
)");
  ASSERT_TRUE(m);
  m->opsets[std::string(ops::kKilnDomain)] = ops::kKilnOpset;
  m->graph->nodes()[0]->set_opset(ops::kKilnOpset);
  interp::TensorMap in;
  in["q"] = floats({1, 2, 1}, {1, 2});
  in["k"] = floats({1, 2, 1}, {3, 4});
  in["v"] = floats({1, 2, 1}, {10, 20});
  in["mask"] = floats({1, 1, 1, 2}, {0, -INFINITY});
  auto out = interp::run(*m, in);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_FLOAT_EQ(out->at("y").data_as<float>()[0], 10);
  EXPECT_FLOAT_EQ(out->at("y").data_as<float>()[1], 10);
  in["mask"] = floats({1, 1, 2, 3}, {0, 0, 0, 0, 0, 0});
  auto bad = interp::run(*m, in);
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace kiln::test
