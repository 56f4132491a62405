// INT8 convolution and linear layers (cpu.dnnl.conv.int8, cpu.dnnl.matmul.int8) against an
// oracle computed independently: the FP32 reference kernel run on fake-quantized operands
// (x -> round(x / x_scale) * x_scale saturated to the uint8/int8 range, each output channel's
// weights -> round(w / s_c) * s_c with s_c = max|w_c| / 127). INT8 arithmetic with s32
// accumulation equals that up to float rounding, so the tolerance is tight; a second check
// bounds the distance to the true FP32 result (quantization error, not garbage).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "backends/cpu/cpu_tactics.h"
#include "unit/cpu_test_data.h"

namespace kiln::test {
namespace {

// uint8 with a zero point zp: x_q = round(x / scale) + zp in [0, 255], read as x_q - zp.
Tensor fake_quant_input(const Tensor& x, float scale, bool is_unsigned, int zp = 0) {
  Tensor out = Tensor::allocate(DataType::kFloat32, x.shape()).value();
  const float lo = is_unsigned ? 0.f - zp : -128.f, hi = is_unsigned ? 255.f - zp : 127.f;
  const float inv = 1.f / scale;
  for (int64_t i = 0; i < x.numel(); ++i)
    out.data_as<float>()[i] =
        std::clamp(std::nearbyint(x.data_as<float>()[i] * inv), lo, hi) * scale;
  return out;
}

// Channels along `axis` of w.
Tensor fake_quant_weights(const Tensor& w, size_t axis) {
  Tensor out = Tensor::allocate(DataType::kFloat32, w.shape()).value();
  size_t outer = 1, inner = 1;
  for (size_t i = 0; i < axis; ++i) outer *= w.shape()[i];
  for (size_t i = axis + 1; i < w.shape().size(); ++i) inner *= w.shape()[i];
  const size_t ch = w.shape()[axis];
  auto at = [&](size_t o, size_t c, size_t i) { return (o * ch + c) * inner + i; };
  for (size_t c = 0; c < ch; ++c) {
    float amax = 0;
    for (size_t o = 0; o < outer; ++o)
      for (size_t i = 0; i < inner; ++i)
        amax = std::max(amax, std::fabs(w.data_as<float>()[at(o, c, i)]));
    const float s = amax > 0 ? amax / 127.f : 1.f;
    for (size_t o = 0; o < outer; ++o)
      for (size_t i = 0; i < inner; ++i)
        out.data_as<float>()[at(o, c, i)] =
            std::clamp(std::nearbyint(w.data_as<float>()[at(o, c, i)] / s), -127.f, 127.f) * s;
  }
  return out;
}

// Attributes are move-only; cases keep copyable descriptions and make them per node.
struct A {
  enum Kind { kInt, kInts, kString, kFloats } kind;
  std::string name;
  int64_t i = 0;
  std::vector<int64_t> ints;
  std::string str;
  static A make_int(std::string n, int64_t v) { return {kInt, std::move(n), v, {}, {}}; }
  static A make_ints(std::string n, std::vector<int64_t> v) {
    return {kInts, std::move(n), 0, std::move(v), {}};
  }
  static A make_string(std::string n, std::string v) { return {kString, std::move(n), 0, {}, v}; }
  static A make_floats(std::string n, std::vector<int64_t> v) {  // small integral values
    return {kFloats, std::move(n), 0, std::move(v), {}};
  }
  ir::Attribute make() const {
    switch (kind) {
      case kInt:
        return ir::Attribute::make_int(name, i);
      case kInts:
        return ir::Attribute::make_ints(name, ints);
      case kFloats:
        return ir::Attribute::make_floats(name, std::vector<float>(ints.begin(), ints.end()));
      case kString:
        break;
    }
    return ir::Attribute::make_string(name, str);
  }
};

struct Int8Case {
  std::string op;          // FusedConv, FusedMatMul or FusedGemm
  std::vector<Tensor> in;  // X/A, W/B, bias (may be empty), Z (conv residual, optional)
  std::vector<A> attrs;
  float x_scale;
  bool is_unsigned;
  size_t w_axis;       // output-channel axis of the weights
  int zero_point = 0;  // uint8 inputs only (an explicitly quantized model's)
};

NodeCase node_of(const Int8Case& c, std::vector<Tensor> in, bool annotate) {
  NodeCase n{c.op, "kiln", 1};
  n.inputs = std::move(in);
  n.constants = {1};
  if (!n.inputs[2].empty()) n.constants.push_back(2);
  for (const A& a : c.attrs) n.attrs.push_back(a.make());
  if (annotate) {
    n.attrs.push_back(ir::Attribute::make_float("int8_x_scale", c.x_scale));
    n.attrs.push_back(ir::Attribute::make_int("int8_x_unsigned", c.is_unsigned ? 1 : 0));
    if (c.zero_point != 0)
      n.attrs.push_back(ir::Attribute::make_int("int8_x_zero_point", c.zero_point));
  }
  return n;
}

void expect_int8_matches(const backends::Tactic& t, const Int8Case& c, int threads = 1) {
  TacticHarness h(node_of(c, copies(c.in), true));
  ASSERT_TRUE(h.supports(t)) << t.name() << " declines " << c.op;
  std::vector<Tensor> fq = copies(c.in);
  fq[0] = fake_quant_input(c.in[0], c.x_scale, c.is_unsigned, c.zero_point);
  fq[1] = fake_quant_weights(c.in[1], c.w_axis);
  TacticHarness oracle(node_of(c, std::move(fq), false));
  Result<std::vector<Tensor>> want = oracle.run_reference();
  Result<std::vector<Tensor>> exact = h.run_reference();
  ASSERT_TRUE(want.ok() && exact.ok());
  for (const backends::Tactic::Variant& v : t.variants(h.node(), h.schema())) {
    SCOPED_TRACE("variant '" + v.label + "'");
    Result<std::vector<Tensor>> got = h.run_tactic(t, {threads, -1, v.params});
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    // Equal up to float rounding on almost every output. Large layers show a few outputs off
    // by about one input step times a weight (at most 0.3% of them, mean error < 1e-5, the same
    // with every oneDNN implementation and with uint8 inputs): consistent with a few inputs
    // that oneDNN's quantizing reorder rounds to the neighbouring step. A wrong kernel (oneDNN
    // 2.6's s8 NHWC bug was 2-10% off everywhere) fails all three bounds.
    const float* g = (*got)[0].data_as<float>();
    const float* w = (*want)[0].data_as<float>();
    const int64_t n = (*got)[0].numel();
    int64_t off = 0;
    double sum = 0, worst = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double d = std::fabs(static_cast<double>(g[i]) - w[i]);
      off += d > 1e-4 * std::max(1.0, std::fabs(static_cast<double>(w[i]))) ? 1 : 0;
      sum += d;
      worst = std::max(worst, d);
    }
    EXPECT_LE(off, std::max<int64_t>(0, n / 100)) << off << " of " << n << " outputs off";
    EXPECT_LT(sum / static_cast<double>(n), 2e-5) << "mean abs error vs fake-quantized reference";
    EXPECT_LT(worst, 0.05) << "max abs error vs fake-quantized reference";
    // Against FP32: the quantization error (with 1-2% of the inputs saturated), well under a
    // tenth of the output's range.
    expect_near_but_not_fp32(*got, *exact, 0.1, "INT8");
  }
}

Int8Case conv_case(std::vector<int64_t> xs, std::vector<int64_t> ws, bool bias, bool residual,
                   const char* act, bool is_unsigned, std::vector<A> attrs, uint64_t seed) {
  Int8Case c;
  c.op = "FusedConv";
  const float lo = is_unsigned ? 0.f : -1.f;
  c.in.push_back(rand_f32(xs, lo, 1.f, seed));
  c.in.push_back(rand_f32(ws, -0.5f, 0.5f, seed + 1));
  c.in.push_back(bias ? rand_f32({ws[0]}, -1, 1, seed + 2) : Tensor());
  c.attrs = std::move(attrs);
  c.attrs.push_back(A::make_string("activation", act));
  // A range a little below the data's, so a few values saturate as in real calibrations.
  c.x_scale = 0.98f / (is_unsigned ? 255.f : 127.f);
  c.is_unsigned = is_unsigned;
  c.w_axis = 0;
  if (residual) {
    TacticHarness shape_of(node_of(c, copies(c.in), false));
    const std::vector<int64_t> ys = shape_of.run_reference().value()[0].shape();
    c.in.push_back(rand_f32(ys, -1, 1, seed + 3));
  }
  return c;
}

TEST(CpuInt8, ConvMatchesFakeQuantizedReferenceOverShapesGroupsStridesAndEpilogues) {
  const backends::Tactic& t = backends::cpu_dnnl_conv_int8_tactic();
  const std::vector<int64_t> p1 = {1, 1, 1, 1};
  struct Shape {
    std::vector<int64_t> x, w;
    std::vector<A> attrs;
  };
  std::vector<Shape> shapes;
  shapes.push_back({{1, 16, 13, 13}, {32, 16, 3, 3}, {A::make_ints("pads", p1)}});
  shapes.push_back({{2, 7, 9, 11}, {13, 7, 1, 1}, {}});
  shapes.push_back({{1, 32, 15, 15},
                    {64, 32, 3, 3},
                    {A::make_ints("pads", p1), A::make_ints("strides", {2, 2})}});
  shapes.push_back(
      {{1, 24, 14, 14}, {24, 1, 3, 3}, {A::make_ints("pads", p1), A::make_int("group", 24)}});
  shapes.push_back({{1, 16, 12, 12},
                    {32, 4, 3, 3},
                    {A::make_ints("pads", {2, 2, 2, 2}), A::make_int("group", 4),
                     A::make_ints("dilations", {2, 2})}});
  shapes.push_back({{1, 127, 7, 7}, {1, 127, 1, 1}, {}});
  uint64_t seed = 100;
  for (const Shape& s : shapes)
    for (bool is_unsigned : {true, false})
      for (int epi = 0; epi < 3; ++epi) {
        SCOPED_TRACE("X " + Dims::of(s.x).to_string() + " W " + Dims::of(s.w).to_string() +
                     (is_unsigned ? " u8" : " s8") + " epilogue " + std::to_string(epi));
        const bool bias = epi != 1, residual = epi == 2;
        const char* act = epi == 0 ? "" : "Relu";
        expect_int8_matches(
            t, conv_case(s.x, s.w, bias, residual, act, is_unsigned, s.attrs, seed += 10),
            epi == 2 ? 2 : 1);
      }
}

TEST(CpuInt8, ConvInChannelsLastLayout) {
  const backends::Tactic& t = backends::cpu_dnnl_conv_int8_tactic();
  // channels_last: X, Z and Y are NHWC; W stays OIHW.
  Int8Case c =
      conv_case({1, 16, 10, 10}, {32, 16, 3, 3}, true, false, "Relu", true,
                {A::make_ints("pads", {1, 1, 1, 1}), A::make_int("channels_last", 1)}, 500);
  c.in[0] = rand_f32({1, 10, 10, 16}, 0, 1, 501);
  c.in.push_back(rand_f32({1, 10, 10, 32}, -1, 1, 502));
  expect_int8_matches(t, c, 2);
}

// Depthwise and 1x1 layers in NHWC with ReLU6 (Clip), as in MobileNet. Signed (s8) inputs in
// NHWC were 2-10% off the oracle in oneDNN 2.6 (PP-OCR rec): the INT8 tactic reads them shifted
// into uint8 with the shift taken back in the bias, as it does an explicit uint8 zero point;
// padded layers quantize into a buffer pre-padded with the shift.
TEST(CpuInt8, ChannelsLastDepthwiseAndPointwiseSignedOrZeroPointShifted) {
  const backends::Tactic& t = backends::cpu_dnnl_conv_int8_tactic();
  const A clip = A::make_floats("activation_params", {0, 6});
  for (bool bias : {true, false}) {
    SCOPED_TRACE(bias ? "s8 1x1 with bias" : "s8 1x1 without bias");
    Int8Case s8 = conv_case({1, 48, 6, 20}, {96, 48, 1, 1}, bias, false, "HardSwish", false,
                            {A::make_int("channels_last", 1)}, 630);
    s8.in[0] = rand_f32({1, 6, 20, 48}, -1, 1, 631);
    expect_int8_matches(t, s8, 2);
  }
  {
    // An asymmetric range: x in [-0.4, 2], zero point 43 (as ONNX Runtime's quantizer writes).
    Int8Case zp = conv_case({1, 48, 6, 20}, {96, 48, 1, 1}, true, true, "", true, {}, 635);
    zp.in[0] = rand_f32({1, 48, 6, 20}, -0.4f, 2.f, 636);
    zp.x_scale = 2.4f / 255.f;
    zp.zero_point = 43;
    expect_int8_matches(t, zp, 2);
  }
  {
    Int8Case s8 = conv_case({1, 48, 12, 40}, {48, 1, 3, 3}, true, false, "", false,
                            {A::make_ints("pads", {1, 1, 1, 1}), A::make_int("group", 48),
                             A::make_int("channels_last", 1)},
                            637);
    s8.in[0] = rand_f32({1, 12, 40, 48}, -1, 1, 639);
    SCOPED_TRACE("padded depthwise, s8");
    expect_int8_matches(t, s8, 2);
    // Asymmetric pads, a zero point of 77.
    Int8Case zp =
        conv_case({1, 16, 6, 20}, {24, 16, 3, 3}, true, false, "Relu", true,
                  {A::make_ints("pads", {1, 2, 0, 1}), A::make_int("channels_last", 1)}, 638);
    zp.in[0] = rand_f32({1, 6, 20, 16}, -0.6f, 1.2f, 640);
    zp.x_scale = 1.8f / 255.f;
    zp.zero_point = 77;
    SCOPED_TRACE("padded 3x3 with a zero point");
    expect_int8_matches(t, zp, 2);
    // The same in NCHW (oneDNN's quantizing reorder into the padded buffer's interior got this
    // wrong; kiln quantizes it itself).
    Int8Case nchw = conv_case({1, 16, 6, 20}, {24, 16, 3, 3}, true, false, "", true,
                              {A::make_ints("pads", {1, 1, 1, 1})}, 642);
    nchw.in[0] = rand_f32({1, 16, 6, 20}, -0.6f, 1.2f, 643);
    nchw.x_scale = 1.8f / 255.f;
    nchw.zero_point = 77;
    SCOPED_TRACE("padded NCHW 3x3 with a zero point");
    expect_int8_matches(t, nchw, 2);
  }
  // A first layer: few, odd channel counts (an image's 3) of a signed input, padded. oneDNN's
  // reorder into the pre-padded interior computed every such layer wrong (cosine 0.78-0.98).
  for (int64_t c : {1, 3, 5}) {
    for (bool channels_last : {true, false}) {
      SCOPED_TRACE("signed padded first layer, " + std::to_string(c) + " channels" +
                   (channels_last ? ", channels-last" : ", NCHW zero point 128"));
      std::vector<A> attrs = {A::make_ints("pads", {1, 1, 1, 1})};
      if (channels_last) attrs.push_back(A::make_int("channels_last", 1));
      Int8Case f = conv_case({2, c, 12, 12}, {8, c, 3, 3}, false, false, "Relu", !channels_last,
                             attrs, 650 + c);
      if (channels_last) {
        f.in[0] = rand_f32({2, 12, 12, c}, -1, 1, 660 + c);
      } else {  // NCHW signed inputs run s8; an explicit zero point exercises the padding
        f.in[0] = rand_f32({2, c, 12, 12}, -1, 1, 660 + c);
        f.x_scale = 2.f / 255.f;
        f.zero_point = 128;
      }
      expect_int8_matches(t, f, 2);
    }
  }
  for (int64_t stride : {1, 2}) {
    SCOPED_TRACE("depthwise stride " + std::to_string(stride));
    Int8Case c = conv_case(
        {1, 48, 12, 40}, {48, 1, 3, 3}, true, false, "Clip", true,
        {A::make_ints("pads", {1, 1, 1, 1}), A::make_int("group", 48),
         A::make_ints("strides", {stride, stride}), A::make_int("channels_last", 1), clip},
        600 + stride);
    c.in[0] = rand_f32({1, 12, 40, 48}, 0, 1, 610 + stride);
    expect_int8_matches(t, c, 2);
  }
  Int8Case p = conv_case({1, 48, 6, 20}, {96, 48, 1, 1}, true, false, "Clip", true,
                         {A::make_int("channels_last", 1), clip}, 620);
  p.in[0] = rand_f32({1, 6, 20, 48}, 0, 1, 621);
  expect_int8_matches(t, p, 2);
}

// PP-OCR rec's convolutions at their sizes, channels-last with uint8 inputs, where oneDNN picks
// other implementations than for the small cases above.
TEST(CpuInt8, ChannelsLastAtPpocrRecSizes) {
  const backends::Tactic& t = backends::cpu_dnnl_conv_int8_tactic();
  struct S {
    std::vector<int64_t> x, w;  // NCHW / OIHW
    int64_t group, sh, sw, ph, pw;
  };
  const S shapes[] = {{{1, 240, 3, 80}, {240, 1, 5, 5}, 240, 1, 1, 2, 2},
                      {{1, 480, 3, 40}, {480, 1, 5, 5}, 480, 2, 1, 2, 2},
                      {{1, 480, 1, 40}, {480, 480, 1, 1}, 1, 1, 1, 0, 0},
                      {{1, 240, 3, 80}, {480, 240, 1, 1}, 1, 1, 1, 0, 0},
                      {{1, 480, 1, 40}, {60, 480, 1, 3}, 1, 1, 1, 0, 1},
                      {{1, 960, 1, 40}, {60, 960, 1, 3}, 1, 1, 1, 0, 1},
                      {{1, 16, 24, 160}, {16, 1, 3, 3}, 16, 1, 1, 1, 1}};
  uint64_t seed = 800;
  for (const S& sh : shapes) {
    SCOPED_TRACE("W " + Dims::of(sh.w).to_string() + " X " + Dims::of(sh.x).to_string());
    Int8Case c = conv_case(
        sh.x, sh.w, true, false, "HardSwish", true,
        {A::make_ints("pads", {sh.ph, sh.pw, sh.ph, sh.pw}), A::make_int("group", sh.group),
         A::make_ints("strides", {sh.sh, sh.sw}), A::make_int("channels_last", 1)},
        seed += 10);
    c.in[0] = rand_f32({sh.x[0], sh.x[2], sh.x[3], sh.x[1]}, 0, 1, seed + 5);
    expect_int8_matches(t, c, 2);
    // Signed (HardSwish outputs, as there), shifted into uint8.
    SCOPED_TRACE("s8");
    c = conv_case(
        sh.x, sh.w, true, false, "HardSwish", false,
        {A::make_ints("pads", {sh.ph, sh.pw, sh.ph, sh.pw}), A::make_int("group", sh.group),
         A::make_ints("strides", {sh.sh, sh.sw}), A::make_int("channels_last", 1)},
        seed + 6);
    c.in[0] = rand_f32({sh.x[0], sh.x[2], sh.x[3], sh.x[1]}, -0.4f, 1, seed + 7);
    expect_int8_matches(t, c, 2);
  }
}

Int8Case linear_case(std::vector<int64_t> as, int64_t n, bool trans_b, bool bias, const char* act,
                     bool is_unsigned, uint64_t seed) {
  Int8Case c;
  c.op = "FusedMatMul";
  const int64_t k = as.back();
  c.in.push_back(rand_f32(as, is_unsigned ? 0.f : -2.f, 2.f, seed));
  c.in.push_back(trans_b ? rand_f32({n, k}, -0.3f, 0.3f, seed + 1)
                         : rand_f32({k, n}, -0.3f, 0.3f, seed + 1));
  c.in.push_back(bias ? rand_f32({n}, -1, 1, seed + 2) : Tensor());
  c.attrs.push_back(A::make_int("transB", trans_b ? 1 : 0));
  c.attrs.push_back(A::make_string("activation", act));
  c.x_scale = 1.8f / (is_unsigned ? 255.f : 127.f);
  c.is_unsigned = is_unsigned;
  c.w_axis = trans_b ? 0 : 1;
  return c;
}

TEST(CpuInt8, LinearLayerMatchesFakeQuantizedReference) {
  const backends::Tactic& t = backends::cpu_dnnl_matmul_int8_tactic();
  uint64_t seed = 700;
  for (const std::vector<int64_t>& as :
       std::vector<std::vector<int64_t>>{{1, 64}, {2, 3, 7, 64}, {1, 13, 127}, {128, 96}})
    for (bool trans_b : {false, true})
      for (bool is_unsigned : {false, true}) {
        SCOPED_TRACE("A " + Dims::of(as).to_string() + (trans_b ? " transB" : "") +
                     (is_unsigned ? " u8" : " s8"));
        expect_int8_matches(t,
                            linear_case(as, 127, trans_b, true, "Gelu", is_unsigned, seed += 10));
        expect_int8_matches(t, linear_case(as, 33, trans_b, false, "", is_unsigned, seed += 10), 2);
      }
}

// A transposed A (transA: MatMul(Transpose(A), B) after transpose_into_matmul), as PP-OCR rec's
// final classifier reads its [N, C, T] features: A is [..., K, M].
TEST(CpuInt8, LinearLayerWithTransposedA) {
  const backends::Tactic& t = backends::cpu_dnnl_matmul_int8_tactic();
  uint64_t seed = 760;
  for (const std::vector<int64_t>& as :
       std::vector<std::vector<int64_t>>{{2, 64, 7}, {1, 120, 40}, {64, 5}})
    for (bool is_unsigned : {false, true}) {
      SCOPED_TRACE("A " + Dims::of(as).to_string() + " transA" + (is_unsigned ? " u8" : " s8"));
      // linear_case sizes B by A's last dim; with transA the reduced dim is the second last.
      std::vector<int64_t> logical = as;
      std::swap(logical[logical.size() - 1], logical[logical.size() - 2]);
      Int8Case c = linear_case(logical, 45, false, true, "", is_unsigned, seed += 10);
      c.in[0] = rand_f32(as, is_unsigned ? 0.f : -2.f, 2.f, seed + 5);
      c.attrs.push_back(A::make_int("transA", 1));
      expect_int8_matches(t, c, 2);
    }
}

// Only annotated layers are INT8 layers; the FP32 tactics ignore the annotation.
TEST(CpuInt8, OnlyAnnotatedLayersAreInt8AndFp32TacticsIgnoreTheAnnotation) {
  Int8Case c = conv_case({1, 8, 6, 6}, {8, 8, 3, 3}, true, false, "", false, {}, 900);
  {
    TacticHarness plain(node_of(c, copies(c.in), false));
    EXPECT_FALSE(plain.supports(backends::cpu_dnnl_conv_int8_tactic()));
  }
  expect_tactic_matches(backends::cpu_dnnl_conv_tactic(), node_of(c, copies(c.in), true), 2e-5);
  Int8Case l = linear_case({4, 32}, 16, false, true, "", false, 910);
  {
    TacticHarness plain(node_of(l, copies(l.in), false));
    EXPECT_FALSE(plain.supports(backends::cpu_dnnl_matmul_int8_tactic()));
    // A non-constant B cannot be quantized once: not an INT8 layer.
    NodeCase act = node_of(l, copies(l.in), true);
    act.constants = {2};
    TacticHarness h(std::move(act));
    EXPECT_FALSE(h.supports(backends::cpu_dnnl_matmul_int8_tactic()));
  }
  expect_tactic_matches(backends::cpu_dnnl_matmul_tactic(), node_of(l, copies(l.in), true), 2e-5);
}

// Weights packed at build time for the INT8 kernels are the int8 blocked weights.
// Pruned channels: PP-OCR rec's trained 1x1 convolutions have output channels whose weights
// are all ~1e-39. Their scale times the input's underflows to 0, which once turned the bias
// into inf and the whole output into NaN; such a channel now computes as zero weights + bias.
TEST(CpuInt8, ChannelsWithDenormalWeightsGiveTheirBias) {
  for (const bool is_unsigned : {true, false}) {
    SCOPED_TRACE(is_unsigned ? "u8" : "s8 (shifted)");
    Int8Case c = conv_case({1, 32, 5, 7}, {16, 32, 1, 1}, true, false, "HardSwish", is_unsigned,
                           {A::make_int("channels_last", 1)}, 900);
    c.in[0] = rand_f32({1, 5, 7, 32}, is_unsigned ? 0.f : -0.4f, 1, 901);
    float* w = c.in[1].data_as<float>();
    for (int64_t i = 0; i < 32; ++i) {
      w[3 * 32 + i] = (i % 3 - 1) * 3e-39f;  // channel 3: denormal
      w[9 * 32 + i] = 0.f;                   // channel 9: zero
    }
    // Its output scale, x_scale * 3e-39 / 127, is denormal.
    expect_int8_matches(backends::cpu_dnnl_conv_int8_tactic(), c, 1);
  }
  Int8Case l = linear_case({4, 64}, 24, true, true, "", false, 910);
  for (int64_t i = 0; i < 64; ++i) l.in[1].data_as<float>()[5 * 64 + i] = 2e-39f;
  expect_int8_matches(backends::cpu_dnnl_matmul_int8_tactic(), l, 1);
}

TEST(CpuInt8, PackedInt8WeightsAreAdoptedAndMatch) {
  const backends::Tactic& t = backends::cpu_dnnl_conv_int8_tactic();
  Int8Case c = conv_case({1, 16, 13, 13}, {32, 16, 3, 3}, true, false, "Relu", true,
                         {A::make_ints("pads", {1, 1, 1, 1})}, 1000);
  TacticHarness h(node_of(c, copies(c.in), true));
  auto packed = t.pack(h.node(), h.schema(), {});
  ASSERT_TRUE(packed.ok()) << packed.status().to_string();
  ASSERT_EQ(packed->size(), 1u);
  EXPECT_EQ((*packed)[0].tag, "weights_s8");
  Result<std::vector<Tensor>> unpacked = h.run_tactic(t, {1});
  Result<std::vector<Tensor>> with_blob = h.run_tactic(t, {1, -1, {}, {&(*packed)[0].data}});
  ASSERT_TRUE(unpacked.ok() && with_blob.ok());
  EXPECT_TRUE(compare_outputs(*with_blob, *unpacked, 0).ok);
}

}  // namespace
}  // namespace kiln::test
