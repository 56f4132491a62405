// Reference kernels of the convolution, pooling, matrix-product, quantization and resize
// families: what the ONNX backend data lacks. The im2col/col2im convolutions are checked against
// direct-loop oracles written here (groups, dilations, asymmetric pads, 1-D/3-D, the chunked
// scratch path); the rest against hand-computed values: revision differences, storage_order,
// ceil_mode, integer wrap-around, zero points, rounding, the legacy Upsample semantics, 16-bit
// floats, empty tensors, and the coded errors for bad shapes, attributes and indices.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "interp/interpreter.h"
#include "ir/graph.h"
#include "kernel_test_util.h"
#include "ops/kernel_util.h"

namespace kiln::conv_kernel_test {
namespace {

using namespace kiln::test;  // NOLINT(google-build-using-namespace): the shared harness

// ---- tensors --------------------------------------------------------------------------------

// Inputs here are computed in double (fill, the oracles), so the makers convert from double.
Tensor make(D dtype, Shape shape, const std::vector<double>& v) {
  return make_from_doubles(dtype, std::move(shape), v);
}
Tensor f32(Shape s, const std::vector<double>& v) {
  return make(D::kFloat32, std::move(s), v);
}

// Deterministic pseudo-random values in [-1, 1).
std::vector<double> fill(int64_t n, uint32_t seed) {
  std::vector<double> v(static_cast<size_t>(n));
  uint32_t x = seed * 2654435761u + 12345u;
  for (double& d : v) {
    x = x * 1664525u + 1013904223u;
    d = static_cast<double>(x >> 8) / static_cast<double>(1u << 23) - 1.0;
  }
  return v;
}
int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}
Tensor rand32(Shape s, uint32_t seed) {
  return f32(s, fill(numel(s), seed));
}

// ---- direct-loop oracles ---------------------------------------------------------------------

struct ConvCase {
  Shape x, w;  // Conv: w = [M, C/g, k...]; ConvTranspose: w = [C, M/g, k...]
  int64_t group = 1;
  Shape strides, dilations, pads;  // empty = defaults
  Shape output_padding;            // ConvTranspose only
};

Shape or_fill(const Shape& v, size_t n, int64_t fill_value) {
  return v.empty() ? Shape(n, fill_value) : v;
}

// Visits every coordinate of `dims` in row-major order.
template <typename F>
void for_coords(const Shape& dims, F&& f) {
  Shape c(dims.size(), 0);
  if (numel(dims) == 0) return;
  while (true) {
    f(c);
    size_t d = dims.size();
    while (d > 0 && ++c[d - 1] == dims[d - 1]) c[--d] = 0;
    if (d == 0) return;
  }
}
int64_t flat(const Shape& dims, const Shape& c) {
  int64_t i = 0;
  for (size_t d = 0; d < dims.size(); ++d) i = i * dims[d] + c[d];
  return i;
}

// y[n, m, o] = b[m] + sum_{c, k} x[n, g*C/g + c, o*s + k*d - pad] * w[m, c, k]
std::vector<double> direct_conv(const ConvCase& cc, const std::vector<double>& x,
                                const std::vector<double>& w, const std::vector<double>& b,
                                Shape& y_shape) {
  const size_t nd = cc.x.size() - 2;
  const Shape s = or_fill(cc.strides, nd, 1), dl = or_fill(cc.dilations, nd, 1);
  const Shape p = or_fill(cc.pads, 2 * nd, 0);
  const int64_t n_batch = cc.x[0], c_in = cc.x[1], m_out = cc.w[0], cg = cc.w[1];
  const Shape in(cc.x.begin() + 2, cc.x.end()), k(cc.w.begin() + 2, cc.w.end());
  Shape out(nd);
  for (size_t d = 0; d < nd; ++d)
    out[d] = (in[d] + p[d] + p[d + nd] - ((k[d] - 1) * dl[d] + 1)) / s[d] + 1;
  y_shape = {n_batch, m_out};
  y_shape.insert(y_shape.end(), out.begin(), out.end());
  std::vector<double> y(static_cast<size_t>(numel(y_shape)));
  const int64_t mg = m_out / cc.group;
  for (int64_t n = 0; n < n_batch; ++n)
    for (int64_t m = 0; m < m_out; ++m)
      for_coords(out, [&](const Shape& o) {
        double acc = b.empty() ? 0.0 : b[m];
        for (int64_t c = 0; c < cg; ++c)
          for_coords(k, [&](const Shape& kc) {
            Shape ic(nd);
            for (size_t d = 0; d < nd; ++d) {
              ic[d] = o[d] * s[d] + kc[d] * dl[d] - p[d];
              if (ic[d] < 0 || ic[d] >= in[d]) return;
            }
            const int64_t ch = (m / mg) * cg + c;
            acc += x[(n * c_in + ch) * numel(in) + flat(in, ic)] *
                   w[(m * cg + c) * numel(k) + flat(k, kc)];
          });
        y[(n * m_out + m) * numel(out) + flat(out, o)] = acc;
      });
  return y;
}

// Scatters every x[n, c, i] * w[c, m, k] to y[n, g*M/g + m, i*s + k*d - pad_begin].
std::vector<double> direct_conv_transpose(const ConvCase& cc, const std::vector<double>& x,
                                          const std::vector<double>& w,
                                          const std::vector<double>& b, Shape& y_shape) {
  const size_t nd = cc.x.size() - 2;
  const Shape s = or_fill(cc.strides, nd, 1), dl = or_fill(cc.dilations, nd, 1);
  const Shape p = or_fill(cc.pads, 2 * nd, 0), op = or_fill(cc.output_padding, nd, 0);
  const int64_t n_batch = cc.x[0], c_in = cc.x[1], mg = cc.w[1], m_out = mg * cc.group;
  const int64_t cg = c_in / cc.group;
  const Shape in(cc.x.begin() + 2, cc.x.end()), k(cc.w.begin() + 2, cc.w.end());
  Shape out(nd);
  for (size_t d = 0; d < nd; ++d)
    out[d] = s[d] * (in[d] - 1) + op[d] + (k[d] - 1) * dl[d] + 1 - p[d] - p[d + nd];
  y_shape = {n_batch, m_out};
  y_shape.insert(y_shape.end(), out.begin(), out.end());
  std::vector<double> y(static_cast<size_t>(numel(y_shape)));
  for (int64_t n = 0; n < n_batch; ++n)
    for (int64_t m = 0; m < m_out; ++m)
      for_coords(out, [&](const Shape& o) {
        y[(n * m_out + m) * numel(out) + flat(out, o)] = b.empty() ? 0.0 : b[m];
      });
  for (int64_t n = 0; n < n_batch; ++n)
    for (int64_t c = 0; c < c_in; ++c)
      for_coords(in, [&](const Shape& i) {
        const double xv = x[(n * c_in + c) * numel(in) + flat(in, i)];
        for (int64_t m = 0; m < mg; ++m)
          for_coords(k, [&](const Shape& kc) {
            Shape oc(nd);
            for (size_t d = 0; d < nd; ++d) {
              oc[d] = i[d] * s[d] + kc[d] * dl[d] - p[d];
              if (oc[d] < 0 || oc[d] >= out[d]) return;
            }
            const int64_t mo = (c / cg) * mg + m;
            y[(n * m_out + mo) * numel(out) + flat(out, oc)] +=
                xv * w[(c * mg + m) * numel(k) + flat(k, kc)];
          });
      });
  return y;
}

Attrs conv_attrs(const ConvCase& cc) {
  Attrs a;
  a.list.push_back(ir::Attribute::make_int("group", cc.group));
  const std::pair<const char*, const Shape*> lists[] = {{"strides", &cc.strides},
                                                        {"dilations", &cc.dilations},
                                                        {"pads", &cc.pads},
                                                        {"output_padding", &cc.output_padding}};
  for (const auto& [name, v] : lists)
    if (!v->empty()) a.list.push_back(ir::Attribute::make_ints(name, *v));
  return a;
}

// ---- Conv ------------------------------------------------------------------------------------

TEST(ConvKernels, MatchesDirectConvolution) {
  const std::vector<ConvCase> cases = {
      {{2, 3, 7, 6}, {4, 3, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, {}},
      {{1, 4, 9, 8}, {6, 2, 3, 2}, 2, {2, 1}, {1, 2}, {0, 2, 1, 0}, {}},  // groups, asymmetric
      {{1, 6, 8, 8}, {6, 1, 3, 3}, 6, {1, 2}, {2, 2}, {2, 2, 2, 2}, {}},  // depthwise, dilated
      {{2, 8, 5, 5}, {3, 8, 1, 1}, 1, {}, {}, {}, {}},                    // pointwise GEMM path
      {{1, 4, 6, 6}, {4, 2, 1, 1}, 2, {2, 2}, {}, {}, {}},                // strided 1x1
      {{2, 3, 11}, {5, 3, 4}, 1, {3}, {2}, {3, 1}, {}},                   // 1-D
      {{1, 2, 4, 5, 6}, {3, 2, 2, 3, 2}, 1, {2, 1, 2}, {}, {1, 0, 1, 0, 1, 1}, {}},  // 3-D
      {{1, 64, 64, 64}, {4, 64, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, {}},  // chunked im2col
  };
  uint32_t seed = 1;
  for (const ConvCase& cc : cases) {
    const std::vector<double> x = fill(numel(cc.x), seed++), w = fill(numel(cc.w), seed++);
    const std::vector<double> b = fill(cc.w[0], seed++);
    Shape y_shape;
    const std::vector<double> want = direct_conv(cc, x, w, b, y_shape);
    Tensor y = run1("Conv", 11, {f32(cc.x, x), f32(cc.w, w), f32({cc.w[0]}, b)}, conv_attrs(cc));
    EXPECT_EQ(y.shape(), y_shape) << Dims::of(cc.x).to_string();
    expect_near_all_loose(values(y), want, 1e-4);
  }
}

TEST(ConvKernels, SixteenAndSixtyFourBitFloats) {
  const ConvCase cc{{1, 2, 5, 5}, {3, 2, 3, 3}, 1, {2, 2}, {}, {1, 1, 1, 1}, {}};
  const std::vector<double> x = fill(50, 7), w = fill(54, 8);
  Shape y_shape;
  const std::vector<double> want = direct_conv(cc, x, w, {}, y_shape);
  Tensor h =
      run1("Conv", 11, {make(D::kFloat16, cc.x, x), make(D::kFloat16, cc.w, w)}, conv_attrs(cc));
  EXPECT_EQ(h.dtype(), D::kFloat16);
  expect_near_all_loose(values(h), want, 1e-2);
  Tensor d = run1("Conv", 1 + 10, {make(D::kFloat64, cc.x, x), make(D::kFloat64, cc.w, w)},
                  conv_attrs(cc));
  EXPECT_EQ(d.dtype(), D::kFloat64);
  expect_near_all_loose(values(d), want, 1e-12);
}

TEST(ConvKernels, SameUpperAndLowerPutTheOddPadOnOppositeSides) {
  // 1-D, input 4, kernel 2, stride 1: output 4 needs one pad element.
  Tensor x = f32({1, 1, 4}, {1, 2, 3, 4});
  Tensor w = f32({1, 1, 2}, {1, 10});
  expect_near_all_loose(values(run1("Conv", 11, {x, w}, Attrs().s("auto_pad", "SAME_UPPER"))),
                        {21, 32, 43, 4});  // pad at the end
  expect_near_all_loose(values(run1("Conv", 11, {x, w}, Attrs().s("auto_pad", "SAME_LOWER"))),
                        {10, 21, 32, 43});  // pad at the start
  Tensor v = run1("Conv", 11, {x, w}, Attrs().s("auto_pad", "VALID").ints("pads", {5, 5}));
  expect_near_all_loose(values(v), {21, 32, 43});  // VALID ignores pads
  // Stride 2 with SAME: output ceil(5 / 2) = 3.
  Tensor s = run1("Conv", 11, {f32({1, 1, 5}, {1, 2, 3, 4, 5}), f32({1, 1, 3}, {1, 1, 1})},
                  Attrs().s("auto_pad", "SAME_UPPER").ints("strides", {2}));
  EXPECT_EQ(s.shape(), (Shape{1, 1, 3}));
  expect_near_all_loose(values(s), {3, 9, 9});
}

TEST(ConvKernels, EmptyBatchAndEmptyChannels) {
  Tensor y = run1("Conv", 11, {f32({0, 2, 4, 4}, {}), rand32({3, 2, 3, 3}, 1)});
  EXPECT_EQ(y.shape(), (Shape{0, 3, 2, 2}));
  Tensor z = run1("Conv", 11, {rand32({1, 2, 4, 4}, 2), f32({0, 2, 3, 3}, {})});
  EXPECT_EQ(z.shape(), (Shape{1, 0, 2, 2}));
}

TEST(ConvKernels, ShapeErrorsNameTheShapes) {
  std::string m =
      expect_error(run_op("Conv", 11, {rand32({1, 3, 5, 5}, 1), rand32({2, 2, 3, 3}, 2)}),
                   Code::kIncompatibleShapes);
  EXPECT_HAS(m, "[1,3,5,5]");
  EXPECT_HAS(m, "[2,2,3,3]");
  m = expect_error(
      run_op("Conv", 11, {rand32({1, 4, 5, 5}, 1), rand32({3, 2, 3, 3}, 2)}, Attrs().i("group", 2)),
      Code::kIncompatibleShapes);
  EXPECT_HAS(m, "not divisible by group 2");
  m = expect_error(run_op("Conv", 11, {rand32({1, 2, 5, 5}, 1), rand32({3, 2, 3}, 2)}),
                   Code::kIncompatibleShapes);
  EXPECT_HAS(m, "rank");
  m = expect_error(run_op("Conv", 11, {rand32({1, 2, 2, 2}, 1), rand32({3, 2, 3, 3}, 2)}),
                   Code::kIncompatibleShapes);
  EXPECT_HAS(m, "kernel extent 3");
  m = expect_error(run_op("Conv", 11, {rand32({1, 2, 5, 5}, 1), rand32({3, 2, 3, 3}, 2)},
                          Attrs().ints("kernel_shape", {2, 2})),
                   Code::kIncompatibleShapes);
  EXPECT_HAS(m, "kernel_shape [2,2]");
  m = expect_error(
      run_op("Conv", 11, {rand32({1, 2, 5, 5}, 1), rand32({3, 2, 3, 3}, 2), rand32({2}, 3)}),
      Code::kIncompatibleShapes);
  EXPECT_HAS(m, "bias B must have shape [3]");
  m = expect_error(run_op("Conv", 11, {rand32({2, 5}, 1), rand32({3, 2}, 2)}),
                   Code::kInvalidArgument);
  EXPECT_HAS(m, "rank >= 3");
}

TEST(ConvKernels, AttributeErrors) {
  Tensor x = rand32({1, 2, 5, 5}, 1), w = rand32({3, 2, 3, 3}, 2);
  std::string m = expect_error(run_op("Conv", 11, {x, w}, Attrs().ints("pads", {1, -1, 1, 1})),
                               Code::kInvalidArgument);
  EXPECT_HAS(m, "[1,-1,1,1]");
  m = expect_error(run_op("Conv", 11, {x, w}, Attrs().ints("strides", {1})),
                   Code::kInvalidArgument);
  EXPECT_HAS(m, "must have 2 values");
  m = expect_error(run_op("Conv", 11, {x, w}, Attrs().ints("dilations", {0, 1})),
                   Code::kInvalidArgument);
  EXPECT_HAS(m, "positive");
  m = expect_error(run_op("Conv", 11, {x, w}, Attrs().i("group", 0)), Code::kInvalidArgument);
  EXPECT_HAS(m, "group must be >= 1, got 0");
}

// ---- ConvTranspose ---------------------------------------------------------------------------

TEST(ConvTransposeKernels, MatchesDirectScatter) {
  const std::vector<ConvCase> cases = {
      {{2, 3, 4, 5}, {3, 2, 3, 3}, 1, {2, 2}, {}, {1, 0, 1, 2}, {}},
      {{1, 4, 3, 4}, {4, 3, 3, 2}, 2, {2, 3}, {1, 2}, {}, {1, 2}},        // groups, output_padding
      {{1, 4, 5, 5}, {4, 1, 3, 3}, 4, {2, 2}, {}, {1, 1, 1, 1}, {1, 1}},  // depthwise
      {{1, 2, 7}, {2, 3, 4}, 1, {3}, {2}, {2, 1}, {}},                    // 1-D
      {{1, 2, 3, 2, 3}, {2, 2, 2, 2, 2}, 1, {2, 1, 2}, {}, {}, {}},       // 3-D
      {{1, 3, 4, 4}, {3, 2, 1, 1}, 1, {}, {}, {}, {}},                    // 1x1
      {{1, 32, 96, 96}, {32, 2, 2, 2}, 1, {2, 2}, {}, {}, {}},            // chunked col2im
  };
  uint32_t seed = 40;
  for (const ConvCase& cc : cases) {
    const int64_t m_out = cc.w[1] * cc.group;
    const std::vector<double> x = fill(numel(cc.x), seed++), w = fill(numel(cc.w), seed++);
    const std::vector<double> b = fill(m_out, seed++);
    Shape y_shape;
    const std::vector<double> want = direct_conv_transpose(cc, x, w, b, y_shape);
    Tensor y =
        run1("ConvTranspose", 11, {f32(cc.x, x), f32(cc.w, w), f32({m_out}, b)}, conv_attrs(cc));
    EXPECT_EQ(y.shape(), y_shape) << Dims::of(cc.x).to_string();
    expect_near_all_loose(values(y), want, 1e-4);
  }
}

TEST(ConvTransposeKernels, OutputShapeSplitsOddPaddingPerRevision) {
  // 1-D: x = [1, 2], w = [1, 1, 1], stride 1 -> full output [1, 3, 3, 2]; output_shape 3 crops
  // one element. Revision 1 keeps the smaller half (0) at the begin, revision 11 at the end.
  Tensor x = f32({1, 1, 2}, {1, 2}), w = f32({1, 1, 3}, {1, 1, 1});
  expect_near_all_loose(values(run1("ConvTranspose", 7, {x, w}, Attrs().ints("output_shape", {3}))),
                        {1, 3, 3});
  expect_near_all_loose(
      values(run1("ConvTranspose", 11, {x, w}, Attrs().ints("output_shape", {3}))), {3, 3, 2});
  // SAME_*: output = input * stride; kernel 2 gives full output [1, 3, 2] and one pad element.
  // Revision 11's SAME_UPPER keeps the smaller half (0) at the begin, revision 1's at the end.
  Tensor w2 = f32({1, 1, 2}, {1, 1});
  auto same = [](const char* mode) { return Attrs().s("auto_pad", mode); };
  expect_near_all_loose(values(run1("ConvTranspose", 11, {x, w2}, same("SAME_UPPER"))), {1, 3});
  expect_near_all_loose(values(run1("ConvTranspose", 11, {x, w2}, same("SAME_LOWER"))), {3, 2});
  expect_near_all_loose(values(run1("ConvTranspose", 10, {x, w2}, same("SAME_UPPER"))), {3, 2});
  expect_near_all_loose(values(run1("ConvTranspose", 10, {x, w2}, same("SAME_LOWER"))), {1, 3});
  // A full N-d output_shape is accepted too; a larger one pads with zeros (plus bias).
  Tensor big =
      run1("ConvTranspose", 11, {x, w, f32({1}, {0.5})}, Attrs().ints("output_shape", {1, 1, 5}));
  expect_near_all_loose(values(big), {1.5, 3.5, 3.5, 2.5, 0.5});
}

TEST(ConvTransposeKernels, HalfPrecisionAndErrors) {
  const ConvCase cc{{1, 2, 3, 3}, {2, 2, 2, 2}, 1, {2, 2}, {}, {}, {}};
  const std::vector<double> x = fill(18, 3), w = fill(16, 4);
  Shape y_shape;
  const std::vector<double> want = direct_conv_transpose(cc, x, w, {}, y_shape);
  Tensor h = run1("ConvTranspose", 11, {make(D::kFloat16, cc.x, x), make(D::kFloat16, cc.w, w)},
                  conv_attrs(cc));
  EXPECT_EQ(h.dtype(), D::kFloat16);
  expect_near_all_loose(values(h), want, 1e-2);

  std::string m =
      expect_error(run_op("ConvTranspose", 11, {rand32({1, 3, 4, 4}, 1), rand32({2, 2, 3, 3}, 2)}),
                   Code::kIncompatibleShapes);
  EXPECT_HAS(m, "[1,3,4,4]");
  m = expect_error(run_op("ConvTranspose", 11, {rand32({1, 2, 2, 2}, 1), rand32({2, 1, 3, 3}, 2)},
                          Attrs().ints("pads", {3, 3, 3, 3})),
                   Code::kIncompatibleShapes);
  EXPECT_HAS(m, "would be -2");
  m = expect_error(run_op("ConvTranspose", 11, {rand32({1, 2, 2, 2}, 1), rand32({2, 1, 3, 3}, 2)},
                          Attrs().ints("output_padding", {1})),
                   Code::kInvalidArgument);
  EXPECT_HAS(m, "output_padding [1]");
}

// ---- pools -----------------------------------------------------------------------------------

TEST(PoolKernels, MaxPoolIndicesRowAndColumnMajor) {
  // Two planes (N = 1, C = 2) of 3 x 4; kernel 2x2, stride 2, pads 1 at the begin.
  std::vector<double> xv = {1,  9,  2,  3,   //
                            4,  5,  8,  6,   //
                            7,  0,  1,  11,  //
                            -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12};
  Tensor x = f32({1, 2, 3, 4}, xv);
  auto attrs = [] {
    return Attrs().ints("kernel_shape", {2, 2}).ints("strides", {2, 2}).ints("pads", {1, 1, 0, 0});
  };
  auto r = run_op("MaxPool", 12, {x}, attrs(), 2);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 2, 2, 2}));
  expect_near_all_loose(values((*r)[0]), {1, 9, 7, 8, -1, -2, -5, -6});
  EXPECT_EQ(values((*r)[1]), (std::vector<double>{0, 1, 8, 6, 12, 13, 16, 17}));
  // Column-major: index = h + w * H within the plane, plus the plane offset.
  auto c = run_op("MaxPool", 12, {x}, attrs().i("storage_order", 1), 2);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(values((*c)[1]), (std::vector<double>{0, 3, 2, 7, 12, 15, 13, 16}));
}

TEST(PoolKernels, MaxPoolIntegersTiesAndDilations) {
  Tensor x8 = make(D::kInt8, {1, 1, 2, 3}, {-128, 5, 5, 127, -3, 5});
  auto r = run_op("MaxPool", 12, {x8}, Attrs().ints("kernel_shape", {2, 2}), 2);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].dtype(), D::kInt8);
  EXPECT_EQ(values((*r)[0]), (std::vector<double>{127, 5}));
  EXPECT_EQ(values((*r)[1]), (std::vector<double>{3, 1}));  // the tie keeps the first 5
  Tensor u8 = make(D::kUInt8, {1, 1, 1, 5}, {200, 3, 255, 0, 7});
  Tensor y =
      run1("MaxPool", 12, {u8}, Attrs().ints("kernel_shape", {1, 2}).ints("dilations", {1, 3}));
  EXPECT_EQ(values(y), (std::vector<double>{200, 7}));  // taps (0, 3) and (1, 4)
}

TEST(PoolKernels, CeilModeLastWindowMustStartInside) {
  // Length 5, kernel 2, stride 2: floor gives 2 windows, ceil 3 (the last covers only x[4]).
  Tensor x = f32({1, 1, 5}, {1, 2, 3, 4, 5});
  auto a = [] { return Attrs().ints("kernel_shape", {2}).ints("strides", {2}); };
  expect_near_all_loose(values(run1("MaxPool", 10, {x}, a())), {2, 4});
  expect_near_all_loose(values(run1("MaxPool", 10, {x}, a().i("ceil_mode", 1))), {2, 4, 5});
  expect_near_all_loose(values(run1("AveragePool", 10, {x}, a().i("ceil_mode", 1))), {1.5, 3.5, 5});
  // Length 4, pads 1+1, kernel 2, stride 2: ceil would give 4 windows but the 4th starts in the
  // trailing pad, so there are 3.
  Tensor y = run1("MaxPool", 10, {f32({1, 1, 4}, {1, 2, 3, 4})},
                  a().i("ceil_mode", 1).ints("pads", {1, 1}));
  EXPECT_EQ(y.shape(), (Shape{1, 1, 3}));
  expect_near_all_loose(values(y), {1, 3, 4});
}

TEST(PoolKernels, AverageCountsPadsButNotCeilOverhang) {
  Tensor x = f32({1, 1, 5}, {1, 2, 3, 4, 5});
  auto a = [] {
    return Attrs()
        .ints("kernel_shape", {3})
        .ints("strides", {2})
        .ints("pads", {1, 0})
        .i("ceil_mode", 1);
  };
  // Windows [-1, 1], [1, 3] and, from ceil_mode, [3, 5], which overhangs the input by one.
  expect_near_all_loose(values(run1("AveragePool", 19, {x}, a())), {1.5, 3, 4.5});
  expect_near_all_loose(values(run1("AveragePool", 19, {x}, a().i("count_include_pad", 1))),
                        {1, 3, 4.5});  // the pad counts, the overhang beyond the pads does not
  x = f32({1, 1, 4}, {1, 2, 3, 4});
  // Dilations (19): taps 0, 2 and 1, 3.
  expect_near_all_loose(values(run1("AveragePool", 19, {x},
                                    Attrs().ints("kernel_shape", {2}).ints("dilations", {2}))),
                        {2, 3});
}

TEST(PoolKernels, LpPoolNorms) {
  Tensor x = f32({1, 1, 4}, {3, -4, 1, 2});
  expect_near_all_loose(
      values(run1("LpPool", 11, {x}, Attrs().ints("kernel_shape", {2}).ints("strides", {2}))),
      {5, std::sqrt(5.0)});
  expect_near_all_loose(
      values(run1("LpPool", 11, {x},
                  Attrs().ints("kernel_shape", {2}).ints("strides", {2}).i("p", 1))),
      {7, 3});
  expect_near_all_loose(
      values(run1("LpPool", 18, {x}, Attrs().ints("kernel_shape", {4}).i("p", 3))),
      {std::cbrt(27.0 + 64 + 1 + 8)});
  expect_near_all_loose(values(run1("GlobalLpPool", 2 + 5, {f32({1, 2, 2}, {3, 4, 1, 0})})),
                        {5, 1});
}

TEST(PoolKernels, GlobalPoolsKeepRankAndRejectEmptyMax) {
  Tensor g = run1("GlobalAveragePool", 7, {rand32({2, 3, 2, 2, 2}, 1)});
  EXPECT_EQ(g.shape(), (Shape{2, 3, 1, 1, 1}));
  Tensor m = run1("GlobalMaxPool", 7, {f32({1, 2, 3}, {1, 5, 2, -1, -7, -2})});
  EXPECT_EQ(m.shape(), (Shape{1, 2, 1}));
  expect_near_all_loose(values(m), {5, -1});
  Tensor h = run1("GlobalAveragePool", 7, {make(D::kFloat16, {1, 1, 4}, {1, 2, 3, 4.5})});
  EXPECT_EQ(h.dtype(), D::kFloat16);
  expect_near_all_loose(values(h), {2.625});
  std::string e =
      expect_error(run_op("GlobalMaxPool", 7, {f32({1, 2, 0}, {})}), Code::kInvalidArgument);
  EXPECT_HAS(e, "[1,2,0]");
}

TEST(PoolKernels, WindowErrors) {
  Tensor x = rand32({1, 1, 4, 4}, 1);
  std::string m = expect_error(run_op("MaxPool", 12, {x}, Attrs().ints("kernel_shape", {2})),
                               Code::kIncompatibleShapes);
  EXPECT_HAS(m, "kernel_shape [2]");
  m = expect_error(run_op("AveragePool", 11, {x},
                          Attrs().ints("kernel_shape", {2, 2}).ints("pads", {2, 0, 0, 0})),
                   Code::kInvalidArgument);
  EXPECT_HAS(m, "smaller than the kernel extent 2");
  m = expect_error(run_op("MaxPool", 12, {x}, Attrs().ints("kernel_shape", {5, 5})),
                   Code::kIncompatibleShapes);
  EXPECT_HAS(m, "size 4");
  m = expect_error(run_op("MaxPool", 12, {x}, Attrs().ints("kernel_shape", {int64_t{1} << 40, 2})),
                   Code::kInvalidArgument);
  EXPECT_HAS(m, "out of range");
  m = expect_error(run_op("LpPool", 11, {x}, Attrs().ints("kernel_shape", {2, 2}).i("p", 0)),
                   Code::kInvalidArgument);
  EXPECT_HAS(m, "p must be >= 1, got 0");
}

TEST(PoolKernels, MaxUnpoolRoundTripAndPadding) {
  Tensor x = f32({1, 1, 2, 2}, {5, 6, 7, 8});
  Tensor idx = make(D::kInt64, {1, 1, 2, 2}, {0, 3, 9, 15});
  auto k = [] { return Attrs().ints("kernel_shape", {2, 2}).ints("strides", {2, 2}); };
  Tensor y = run1("MaxUnpool", 11, {x, idx}, k());
  EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 4}));
  expect_near_all_loose(values(y), {5, 0, 0, 6, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 8});
  // output_shape 5x5: the 4x4 result is padded at the end of each dim.
  Tensor p = run1("MaxUnpool", 11, {x, idx, make(D::kInt64, {4}, {1, 1, 5, 5})}, k());
  EXPECT_EQ(p.shape(), (Shape{1, 1, 5, 5}));
  std::vector<double> want(25, 0.0);
  want[0] = 5, want[3] = 6, want[11] = 7, want[18] = 8;
  expect_near_all_loose(values(p), want);
  std::string m =
      expect_error(run_op("MaxUnpool", 11, {x, make(D::kInt64, {1, 1, 2, 2}, {0, 3, 16, 1})}, k()),
                   Code::kIndexOutOfRange);
  EXPECT_HAS(m, "index 16");
  EXPECT_HAS(m, "0..15");
  m = expect_error(run_op("MaxUnpool", 11, {x, idx, make(D::kInt64, {4}, {1, 1, 3, 5})}, k()),
                   Code::kIncompatibleShapes);
  EXPECT_HAS(m, "[1,1,3,5]");
}

// ---- MatMul / Gemm ---------------------------------------------------------------------------

// Naive batched product of [B, M, K] x [B, K, N] with the batch index of each operand given.
std::vector<double> naive_matmul(const std::vector<double>& a, const std::vector<double>& b,
                                 int64_t m, int64_t k, int64_t n, const std::vector<int64_t>& ai,
                                 const std::vector<int64_t>& bi) {
  std::vector<double> y;
  for (size_t t = 0; t < ai.size(); ++t)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p)
          acc += a[(ai[t] * m + i) * k + p] * b[(bi[t] * k + p) * n + j];
        y.push_back(acc);
      }
  return y;
}

TEST(MatMulKernels, BroadcastsBatchDimsAndPromotesVectors) {
  const std::vector<double> a = fill(2 * 3 * 4, 1), b = fill(5 * 4 * 2, 2);
  Tensor y = run1("MatMul", 13, {f32({2, 1, 3, 4}, a), f32({5, 4, 2}, b)});
  EXPECT_EQ(y.shape(), (Shape{2, 5, 3, 2}));
  expect_near_all_loose(values(y), naive_matmul(a, b, 3, 4, 2, {0, 0, 0, 0, 0, 1, 1, 1, 1, 1},
                                                {0, 1, 2, 3, 4, 0, 1, 2, 3, 4}));
  Tensor dot = run1("MatMul", 13, {f32({3}, {1, 2, 3}), f32({3}, {4, 5, 6})});
  EXPECT_EQ(dot.shape(), Shape{});
  expect_near_all_loose(values(dot), {32});
  Tensor vm =
      run1("MatMul", 13, {f32({2}, {1, 2}), f32({2, 2, 3}, {1, 2, 3, 4, 5, 6, 0, 1, 0, 1, 0, 1})});
  EXPECT_EQ(vm.shape(), (Shape{2, 3}));
  expect_near_all_loose(values(vm), {9, 12, 15, 2, 1, 2});
  Tensor mv = run1("MatMul", 9, {f32({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}), f32({2}, {1, -1})});
  EXPECT_EQ(mv.shape(), (Shape{2, 2}));
  expect_near_all_loose(values(mv), {-1, -1, -1, -1});
}

TEST(MatMulKernels, EmptyDimsAndIntegerWrapAround) {
  Tensor z = run1("MatMul", 13, {f32({2, 0}, {}), f32({0, 3}, {})});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  expect_near_all_loose(values(z), std::vector<double>(6, 0.0));
  EXPECT_EQ(run1("MatMul", 13, {f32({0, 4}, {}), rand32({4, 3}, 1)}).shape(), (Shape{0, 3}));
  // 2^16 * 2^16 + 2^16 * 2^16 = 2^33 wraps to 0 in int32 (two's complement, no UB).
  Tensor w =
      run1("MatMul", 13,
           {make(D::kInt32, {1, 2}, {65536, 65536}), make(D::kInt32, {2, 1}, {65536, 65536})});
  EXPECT_EQ(w.dtype(), D::kInt32);
  EXPECT_EQ(w.data_as<int32_t>()[0], 0);
  Tensor u =
      run1("MatMul", 13, {make(D::kUInt64, {1, 2}, {3, 4}), make(D::kUInt64, {2, 1}, {5, 6})});
  EXPECT_EQ(u.data_as<uint64_t>()[0], 39u);
  Tensor bf = run1("MatMul", 13,
                   {make(D::kBFloat16, {1, 2}, {1.5, 2}), make(D::kBFloat16, {2, 1}, {2, 0.25})});
  EXPECT_EQ(bf.dtype(), D::kBFloat16);
  expect_near_all_loose(values(bf), {3.5});
}

TEST(MatMulKernels, ShapeErrors) {
  std::string m = expect_error(run_op("MatMul", 13, {rand32({2, 3}, 1), rand32({4, 2}, 2)}),
                               Code::kIncompatibleShapes);
  EXPECT_HAS(m, "[2,3]");
  EXPECT_HAS(m, "[4,2]");
  m = expect_error(run_op("MatMul", 13, {rand32({2, 2, 3}, 1), rand32({3, 3, 2}, 2)}),
                   Code::kIncompatibleShapes);
  EXPECT_HAS(m, "broadcast");
  m = expect_error(run_op("MatMul", 13, {f32({}, {1}), rand32({1}, 2)}), Code::kInvalidArgument);
  EXPECT_HAS(m, "rank >= 1");
}

TEST(GemmKernels, TransposesScalesAndBroadcastsC) {
  // A^T with A = [[1, 2], [3, 4], [5, 6]] (3x2 -> 2x3), B^T with B = [[1, 0, 1], [0, 1, 1]].
  Tensor a = f32({3, 2}, {1, 2, 3, 4, 5, 6}), b = f32({2, 3}, {1, 0, 1, 0, 1, 1});
  // op(A) = [[1, 3, 5], [2, 4, 6]], op(B) = [[1, 0], [0, 1], [1, 1]] -> [[6, 8], [8, 10]].
  auto t = [] { return Attrs().i("transA", 1).i("transB", 1); };
  expect_near_all_loose(values(run1("Gemm", 13, {a, b}, t())), {6, 8, 8, 10});
  expect_near_all_loose(
      values(run1("Gemm", 13, {a, b, f32({2}, {1, 2})}, t().f("alpha", 0.5f).f("beta", 2))),
      {5, 8, 6, 9});
  expect_near_all_loose(values(run1("Gemm", 11, {a, b, f32({2, 1}, {1, 2})}, t())), {7, 9, 10, 12});
  expect_near_all_loose(values(run1("Gemm", 7, {a, b, f32({}, {1})}, t())), {7, 9, 9, 11});
  // beta = 0 ignores C entirely, NaN included.
  expect_near_all_loose(values(run1("Gemm", 13, {a, b, f32({1}, {NAN})}, t().f("beta", 0))),
                        {6, 8, 8, 10});
  Tensor i = run1("Gemm", 13,
                  {make(D::kInt64, {1, 2}, {3, 4}), make(D::kInt64, {2, 1}, {5, 6}),
                   make(D::kInt64, {1}, {-39})});
  EXPECT_EQ(i.data_as<int64_t>()[0], 0);
}

TEST(GemmKernels, Errors) {
  Tensor a = rand32({2, 3}, 1), b = rand32({3, 4}, 2);
  std::string m =
      expect_error(run_op("Gemm", 13, {a, b, rand32({3}, 3)}), Code::kIncompatibleShapes);
  EXPECT_HAS(m, "[2,4]");
  m = expect_error(run_op("Gemm", 13, {a, b}, Attrs().i("transB", 1)), Code::kIncompatibleShapes);
  EXPECT_HAS(m, "(transposed)");
  m = expect_error(run_op("Gemm", 9, {a, b}), Code::kInvalidArgument);
  EXPECT_HAS(m, "needs input C");
  m = expect_error(run_op("Gemm", 13, {rand32({2, 3, 1}, 1), b}), Code::kInvalidArgument);
  EXPECT_HAS(m, "matrices");
}

TEST(MatMulKernels, MatMulIntegerZeroPointsPerRowAndColumn) {
  // A - [1, 2] per row, B - [0, 10] per column.
  Tensor a = make(D::kUInt8, {2, 2}, {1, 3, 4, 2}), b = make(D::kUInt8, {2, 2}, {1, 12, 2, 11});
  Tensor y = run1("MatMulInteger", 10,
                  {a, b, make(D::kUInt8, {2}, {1, 2}), make(D::kUInt8, {2}, {0, 10})});
  EXPECT_EQ(y.dtype(), D::kInt32);
  // [[0, 2], [2, 0]] x [[1, 2], [2, 1]] = [[4, 2], [2, 4]]
  EXPECT_EQ(values(y), (std::vector<double>{4, 2, 2, 4}));
  Tensor s = run1("MatMulInteger", 10,
                  {make(D::kInt8, {1, 2}, {-128, 127}), make(D::kInt8, {2, 1}, {-128, -128}),
                   make(D::kInt8, {}, {-128}), none()});
  EXPECT_EQ(values(s), (std::vector<double>{255 * -128}));
  std::string m = expect_error(run_op("MatMulInteger", 10, {a, b, make(D::kUInt8, {3}, {1, 2, 3})}),
                               Code::kIncompatibleShapes);
  EXPECT_HAS(m, "a_zero_point [3]");
}

TEST(MatMulKernels, QLinearMatMulRoundsHalfToEvenAndSaturates) {
  // acc = a * b with unit scales except y_scale: y = rint(acc / 2 + zp).
  Tensor y = run1("QLinearMatMul", 10,
                  {make(D::kUInt8, {1, 4}, {1, 3, 5, 200}), f32({}, {1}), make(D::kUInt8, {}, {0}),
                   make(D::kUInt8, {4, 4}, {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}),
                   f32({}, {1}), make(D::kUInt8, {}, {0}), f32({}, {2}), make(D::kUInt8, {}, {1})});
  // 1/2+1 = 1.5 -> 2, 3/2+1 = 2.5 -> 2, 5/2+1 = 3.5 -> 4, 200/2+1 = 101
  EXPECT_EQ(values(y), (std::vector<double>{2, 2, 4, 101}));
  Tensor s =
      run1("QLinearMatMul", 21,
           {make(D::kInt8, {2, 1}, {100, -100}), make(D::kFloat16, {2}, {1, 2}),
            make(D::kInt8, {}, {0}), make(D::kInt8, {1, 1}, {100}), make(D::kFloat16, {}, {1}),
            make(D::kInt8, {}, {0}), make(D::kFloat16, {}, {1}), make(D::kInt8, {}, {0})});
  EXPECT_EQ(s.dtype(), D::kInt8);
  EXPECT_EQ(values(s), (std::vector<double>{127, -128}));  // per-row scale, saturated
}

// ---- quantization ----------------------------------------------------------------------------

TEST(QuantizeKernels, RoundsHalfToEvenAndSaturates) {
  Tensor x = f32({7}, {0.5, 1.5, 2.5, -0.5, 300, -300, NAN});
  Tensor u = run1("QuantizeLinear", 13, {x, f32({}, {1}), make(D::kUInt8, {}, {10})});
  EXPECT_EQ(u.dtype(), D::kUInt8);
  EXPECT_EQ(values(u), (std::vector<double>{10, 12, 12, 10, 255, 0, 0}));
  Tensor s = run1("QuantizeLinear", 10, {x, f32({}, {2})});  // no zero point: uint8
  EXPECT_EQ(s.dtype(), D::kUInt8);
  EXPECT_EQ(values(s), (std::vector<double>{0, 1, 1, 0, 150, 0, 0}));
  Tensor i = run1("QuantizeLinear", 13, {x, f32({}, {1}), make(D::kInt8, {}, {-1})});
  EXPECT_EQ(values(i), (std::vector<double>{-1, 1, 1, -1, 127, -128, 0}));
}

TEST(QuantizeKernels, PerAxisBlockedAnd16BitOutputs) {
  Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor a = run1("QuantizeLinear", 13, {x, f32({3}, {1, 2, 4}), make(D::kInt8, {3}, {0, 1, 2})},
                  Attrs().i("axis", -1));
  EXPECT_EQ(values(a), (std::vector<double>{1, 2, 3, 4, 3, 4}));  // 2.5 -> 2, 1.25 -> 1, ...
  // Blocks of 2 along axis 1 (3 columns -> 2 blocks, the last one short).
  Tensor b = run1("QuantizeLinear", 21,
                  {x, f32({2, 2}, {1, 10, 2, 20}), make(D::kInt16, {2, 2}, {0, 100, 0, 200})},
                  Attrs().i("axis", 1).i("block_size", 2));
  EXPECT_EQ(b.dtype(), D::kInt16);
  EXPECT_EQ(values(b), (std::vector<double>{1, 2, 100, 2, 2, 200}));
  Tensor o = run1("QuantizeLinear", 21, {f32({2}, {70000, -1}), f32({}, {1})},
                  Attrs().i("output_dtype", static_cast<int64_t>(D::kUInt16)));
  EXPECT_EQ(o.dtype(), D::kUInt16);
  EXPECT_EQ(values(o), (std::vector<double>{65535, 0}));
  Tensor h =
      run1("QuantizeLinear", 19, {make(D::kFloat16, {2}, {3, -3}), make(D::kFloat16, {}, {2})});
  EXPECT_EQ(values(h), (std::vector<double>{2, 0}));
}

TEST(QuantizeKernels, ParameterShapeAndTypeErrors) {
  Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  std::string m =
      expect_error(run_op("QuantizeLinear", 13, {x, f32({2}, {1, 2})}), Code::kIncompatibleShapes);
  EXPECT_HAS(m, "must have shape [3]");
  m = expect_error(run_op("QuantizeLinear", 21, {x, f32({2, 1}, {1, 2})},
                          Attrs().i("axis", 1).i("block_size", 2)),
                   Code::kIncompatibleShapes);
  EXPECT_HAS(m, "[2,2]");
  m = expect_error(run_op("QuantizeLinear", 21, {x, f32({}, {1}), make(D::kInt8, {}, {0})},
                          Attrs().i("output_dtype", static_cast<int64_t>(D::kUInt8))),
                   Code::kInvalidArgument);
  EXPECT_HAS(m, "disagrees");
  // A scalar x has no axis to spread a per-axis scale over.
  m = expect_error(
      run_op("QuantizeLinear", 13, {f32({}, {1}), f32({2}, {1, 1})}, Attrs().i("axis", 0)),
      Code::kIncompatibleShapes);
  EXPECT_HAS(m, "scalar x");
  m = expect_error(run_op("QuantizeLinear", 13, {x, f32({3}, {1, 1, 1})}, Attrs().i("axis", 2)),
                   Code::kInvalidArgument);
  EXPECT_HAS(m, "axis 2");
  m = expect_error(run_op("DequantizeLinear", 13,
                          {make(D::kInt8, {2}, {1, 2}), f32({}, {1}), make(D::kUInt8, {}, {0})}),
                   Code::kInvalidArgument);
  EXPECT_HAS(m, "uint8");
}

TEST(QuantizeKernels, Dequantize) {
  Tensor d = run1("DequantizeLinear", 13,
                  {make(D::kUInt8, {2, 2}, {0, 255, 10, 20}), f32({2}, {0.5, 2}),
                   make(D::kUInt8, {2}, {10, 20})},
                  Attrs().i("axis", 0));
  EXPECT_EQ(d.dtype(), D::kFloat32);
  expect_near_all_loose(values(d), {-5, 122.5, -20, 0});
  Tensor i = run1("DequantizeLinear", 10, {make(D::kInt32, {2}, {-1000000, 7}), f32({}, {0.25})});
  expect_near_all_loose(values(i), {-250000, 1.75});
  Tensor h =
      run1("DequantizeLinear", 19, {make(D::kInt8, {2}, {-3, 4}), make(D::kFloat16, {}, {0.5})});
  EXPECT_EQ(h.dtype(), D::kFloat16);
  expect_near_all_loose(values(h), {-1.5, 2});
  Tensor b = run1("DequantizeLinear", 21,
                  {make(D::kInt16, {1, 3}, {100, 200, 300}), f32({1, 2}, {1, 0.5}),
                   make(D::kInt16, {1, 2}, {0, 100})},
                  Attrs().i("axis", 1).i("block_size", 2));
  expect_near_all_loose(values(b), {100, 200, 100});
}

TEST(QuantizeKernels, DynamicQuantizeLinear) {
  auto r = run_op("DynamicQuantizeLinear", 11, {f32({4}, {-1, 0, 1, 3})}, {}, 3);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  // range [-1, 3]: scale 4/255, zero point rint(255/4) = 64
  expect_near_all_loose(values((*r)[1]), {4.0 / 255});
  EXPECT_EQ(values((*r)[2]), (std::vector<double>{64}));
  EXPECT_EQ(values((*r)[0]), (std::vector<double>{0, 64, 128, 255}));
  auto z = run_op("DynamicQuantizeLinear", 11, {f32({2}, {0, 0})}, {}, 3);
  ASSERT_TRUE(z.ok()) << z.status().to_string();
  expect_near_all_loose(values((*z)[1]), {1});  // no range: scale 1 as in ONNX Runtime
  EXPECT_EQ(values((*z)[0]), (std::vector<double>{0, 0}));
  auto e = run_op("DynamicQuantizeLinear", 11, {f32({0}, {})}, {}, 3);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ((*e)[0].shape(), Shape{0});
}

TEST(QuantizeKernels, ConvIntegerPadsWithTheZeroPoint) {
  // x - 3 with a zero pad: padding contributes (x_zp - x_zp) = 0.
  const ConvCase cc{{1, 2, 3, 3}, {2, 2, 2, 2}, 1, {}, {}, {1, 1, 0, 0}, {}};
  std::vector<double> xq = {3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<double> wq = {1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 1, 2, 2, 2, 2};
  std::vector<double> xs, ws;
  for (double v : xq) xs.push_back(v - 3);
  for (size_t i = 0; i < wq.size(); ++i) ws.push_back(wq[i] - (i < 8 ? 1 : 2));
  Shape y_shape;
  const std::vector<double> want = direct_conv(cc, xs, ws, {}, y_shape);
  Tensor y = run1("ConvInteger", 10,
                  {make(D::kUInt8, cc.x, xq), make(D::kUInt8, cc.w, wq), make(D::kUInt8, {}, {3}),
                   make(D::kUInt8, {2}, {1, 2})},
                  conv_attrs(cc));
  EXPECT_EQ(y.dtype(), D::kInt32);
  EXPECT_EQ(y.shape(), y_shape);
  EXPECT_EQ(values(y), want);
}

TEST(QuantizeKernels, QLinearConvPerChannelScalesBiasAndSaturation) {
  // 1x1 kernels: y[m] = rint((x - 1) * w[m] * x_scale * w_scale[m] / y_scale + bias) + zp.
  Tensor y =
      run1("QLinearConv", 10,
           {make(D::kUInt8, {1, 1, 1, 3}, {1, 2, 101}), f32({}, {1}), make(D::kUInt8, {}, {1}),
            make(D::kInt8, {2, 1, 1, 1}, {1, -1}), f32({2}, {1, 0.5}), make(D::kInt8, {2}, {0, 0}),
            f32({}, {1}), make(D::kInt8, {}, {2}), make(D::kInt32, {2}, {0, 3})});
  EXPECT_EQ(y.dtype(), D::kInt8);
  // m = 0: (0, 1, 100) + 2; m = 1: ((0, -1, -100) + 3) * 0.5 = (1.5, 1, -48.5) -> 2, 1, -48 (+2)
  EXPECT_EQ(values(y), (std::vector<double>{2, 3, 102, 4, 3, -46}));
  std::string m = expect_error(
      run_op("QLinearConv", 10,
             {make(D::kUInt8, {1, 1, 1, 3}, {1, 2, 3}), f32({}, {1}), make(D::kUInt8, {}, {1}),
              make(D::kInt8, {2, 1, 1, 1}, {1, -1}), f32({3}, {1, 1, 1}), make(D::kInt8, {}, {0}),
              f32({}, {1}), make(D::kInt8, {}, {0})}),
      Code::kIncompatibleShapes);
  EXPECT_HAS(m, "w_scale");
}

// ---- Resize / Upsample ------------------------------------------------------------------------

Tensor resize_scales(const Tensor& x, std::vector<double> scales, Attrs attrs, int64_t opset = 19) {
  const int64_t n = static_cast<int64_t>(scales.size());
  return run1("Resize", opset, {x, none(), f32({n}, scales)}, std::move(attrs));
}

TEST(ResizeKernels, NearestModes) {
  // asymmetric, scale 4: x_ori = 0, 0.25, 0.5, ..., 1.75 (exact in binary, so ties are ties)
  Tensor x = f32({1, 2}, {10, 20});
  auto near = [&](const char* mode) {
    return values(resize_scales(
        x, {1, 4},
        Attrs().s("coordinate_transformation_mode", "asymmetric").s("nearest_mode", mode)));
  };
  EXPECT_EQ(near("round_prefer_floor"), (std::vector<double>{10, 10, 10, 20, 20, 20, 20, 20}));
  EXPECT_EQ(near("round_prefer_ceil"), (std::vector<double>{10, 10, 20, 20, 20, 20, 20, 20}));
  EXPECT_EQ(near("floor"), (std::vector<double>{10, 10, 10, 10, 20, 20, 20, 20}));
  EXPECT_EQ(near("ceil"), (std::vector<double>{10, 20, 20, 20, 20, 20, 20, 20}));
  // ONNX's reference computes x_ori in double: 2 / 0.8f = 2.49999996 rounds down even with
  // round_prefer_ceil.
  EXPECT_EQ(values(resize_scales(f32({1, 4}, {10, 20, 30, 40}), {1, 0.8},
                                 Attrs()
                                     .s("coordinate_transformation_mode", "asymmetric")
                                     .s("nearest_mode", "round_prefer_ceil"))),
            (std::vector<double>{10, 20, 30}));
  // Large int64 values move exactly (no trip through double).
  const int64_t big = (int64_t{1} << 60) + 1;
  Tensor i = Tensor::allocate(D::kInt64, {1, 2}).value();
  i.data_as<int64_t>()[0] = big;
  i.data_as<int64_t>()[1] = -big;
  Tensor r = resize_scales(i, {1, 2}, Attrs());
  EXPECT_EQ(r.data_as<int64_t>()[0], big);
  EXPECT_EQ(r.data_as<int64_t>()[3], -big);
  Tensor b = make(D::kBool, {1, 2}, {1, 0});
  EXPECT_EQ(values(resize_scales(b, {1, 1.5}, Attrs())), (std::vector<double>{1, 1, 0}));
}

TEST(ResizeKernels, LinearAndCubicCoordinateModes) {
  Tensor x = f32({1, 2}, {1, 2});
  expect_near_all_loose(values(resize_scales(x, {1, 2}, Attrs().s("mode", "linear"))),
                        {1, 1.25, 1.75, 2});
  expect_near_all_loose(
      values(resize_scales(
          x, {1, 2},
          Attrs().s("mode", "linear").s("coordinate_transformation_mode", "align_corners"))),
      {1, 4.0 / 3, 5.0 / 3, 2});
  expect_near_all_loose(
      values(resize_scales(
          x, {1, 2},
          Attrs().s("mode", "linear").s("coordinate_transformation_mode", "asymmetric"))),
      {1, 1.5, 2, 2});
  // Cubic at x_ori(3) = 1.25 on the ramp 0..3: A = -0.5 reproduces the ramp, the default
  // A = -0.75 gives 0.87890625 + 2 * 0.26171875 - 3 * 0.03515625 = 1.296875.
  Tensor ramp = f32({1, 4}, {0, 1, 2, 3});
  Tensor c = resize_scales(ramp, {1, 2}, Attrs().s("mode", "cubic"));
  EXPECT_NEAR(values(c)[3], 1.296875, 1e-6);
  Tensor c5 = resize_scales(ramp, {1, 2}, Attrs().s("mode", "cubic").f("cubic_coeff_a", -0.5f));
  EXPECT_NEAR(values(c5)[3], 1.25, 1e-6);
  // exclude_outside renormalises the weights near the border.
  Tensor e = resize_scales(ramp, {1, 2}, Attrs().s("mode", "cubic").i("exclude_outside", 1));
  EXPECT_GT(std::fabs(values(e)[0] - values(c)[0]), 1e-4);
}

TEST(ResizeKernels, CropAndResizeExtrapolates) {
  Tensor x = f32({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor roi = f32({8}, {0, 0, 0, 0, 1, 1, 1, 2});
  Tensor y = run1("Resize", 13, {x, roi, none(), make(D::kInt64, {4}, {1, 1, 2, 3})},
                  Attrs()
                      .s("mode", "linear")
                      .s("coordinate_transformation_mode", "tf_crop_and_resize")
                      .f("extrapolation_value", -9));
  // columns: x_ori = 0, 1, 2 (2 > 1 extrapolates)
  expect_near_all_loose(values(y), {1, 2, -9, 3, 4, -9});
  // An absurd or NaN roi only extrapolates.
  const double inf = std::numeric_limits<double>::infinity();
  Tensor far =
      run1("Resize", 13,
           {x, f32({8}, {0, 0, -1e30, NAN, 1, 1, 1e30, inf}), none(),
            make(D::kInt64, {4}, {1, 1, 2, 2})},
           Attrs().s("mode", "cubic").s("coordinate_transformation_mode", "tf_crop_and_resize"));
  expect_near_all_loose(values(far), {0, 0, 0, 0});
  std::string m =
      expect_error(run_op("Resize", 13, {x, none(), none(), make(D::kInt64, {4}, {1, 1, 2, 3})},
                          Attrs().s("coordinate_transformation_mode", "tf_crop_and_resize")),
                   Code::kInvalidArgument);
  EXPECT_HAS(m, "roi");
}

TEST(ResizeKernels, SizesAxesAndAspectRatio) {
  Tensor x = rand32({1, 1, 4, 6}, 1);
  Tensor l = run1("Resize", 18, {x, none(), none(), make(D::kInt64, {2}, {3, 3})},
                  Attrs().ints("axes", {2, 3}).s("keep_aspect_ratio_policy", "not_larger"));
  EXPECT_EQ(l.shape(), (Shape{1, 1, 2, 3}));  // scale min(0.75, 0.5) = 0.5
  Tensor s = run1("Resize", 18, {x, none(), none(), make(D::kInt64, {2}, {3, 3})},
                  Attrs().ints("axes", {-1, 2}).s("keep_aspect_ratio_policy", "not_smaller"));
  EXPECT_EQ(s.shape(), (Shape{1, 1, 3, 5}));  // scale max(0.5, 0.75) = 0.75, round(4.5) = 5
  Tensor a = run1("Resize", 18, {x, none(), f32({1}, {2})}, Attrs().ints("axes", {-2}));
  EXPECT_EQ(a.shape(), (Shape{1, 1, 8, 6}));
  // A float32 scale of 1.4 takes 5 to 7 (the float product rounds to 7.0).
  EXPECT_EQ(resize_scales(rand32({1, 5}, 2), {1, 1.4}, Attrs()).shape(), (Shape{1, 7}));
}

TEST(ResizeKernels, IntegersRoundHalfToEvenAndAntialias) {
  // Linear half_pixel 2x on [0, 1]: 0, 0.25, 0.75, 1 times 2 -> 0, 0.5, 1.5, 2 -> 0, 0, 2, 2.
  Tensor u = resize_scales(make(D::kUInt8, {1, 2}, {0, 2}), {1, 2}, Attrs().s("mode", "linear"));
  EXPECT_EQ(u.dtype(), D::kUInt8);
  EXPECT_EQ(values(u), (std::vector<double>{0, 0, 2, 2}));
  // Cubic overshoot saturates instead of wrapping.
  Tensor c =
      resize_scales(make(D::kUInt8, {1, 4}, {0, 0, 255, 255}), {1, 2}, Attrs().s("mode", "cubic"));
  for (double v : values(c)) EXPECT_TRUE(v >= 0 && v <= 255);
  EXPECT_EQ(values(c)[0], 0);
  // Antialiased linear 2x downsampling: triangle weights over 4 taps (support stretched to 2).
  Tensor x = f32({1, 4}, {0, 4, 8, 12});
  Tensor plain = resize_scales(x, {1, 0.5}, Attrs().s("mode", "linear"));
  Tensor aa = resize_scales(x, {1, 0.5}, Attrs().s("mode", "linear").i("antialias", 1));
  expect_near_all_loose(values(plain), {2, 10});
  // x_ori = 0.5, 2.5; taps at -1..2 weighted 0.25, 0.75, 0.75, 0.25 (edge-clamped) / 2.
  expect_near_all_loose(values(aa), {(0 * 0.25 + 0 * 0.75 + 4 * 0.75 + 8 * 0.25) / 2,
                                     (4 * 0.25 + 8 * 0.75 + 12 * 0.75 + 12 * 0.25) / 2});
}

TEST(ResizeKernels, LegacyUpsampleAndResize10) {
  Tensor x = f32({1, 3}, {1, 2, 3});
  // Nearest floors when upsampling: x_ori = j / 2.
  Tensor up = run1("Upsample", 7, {x}, Attrs().floats("scales", {1, 2}));
  expect_near_all_loose(values(up), {1, 1, 2, 2, 3, 3});
  Tensor up9 = run1("Upsample", 9, {x, f32({2}, {1, 2})}, Attrs().s("mode", "linear"));
  expect_near_all_loose(values(up9), {1, 1.5, 2, 2.5, 3, 3});  // asymmetric coordinates
  // Resize-10 downsampling rounds the source up: scale 0.5 -> x_ori 0, 2 -> sources 0, 2.
  Tensor down = run1("Resize", 10, {f32({1, 4}, {1, 2, 3, 4}), f32({2}, {1, 0.5})});
  expect_near_all_loose(values(down), {1, 3});
  Tensor d3 = run1("Resize", 10, {f32({1, 5}, {1, 2, 3, 4, 5}), f32({2}, {1, 0.6})});
  expect_near_all_loose(values(d3), {1, 3, 5});  // x_ori 0, 1.67, 3.33 -> ceil 0, 2, 4
  std::string m =
      expect_error(run_op("Upsample", 9, {x, f32({2}, {1, 0.5})}), Code::kInvalidArgument);
  EXPECT_HAS(m, ">= 1");
}

TEST(ResizeKernels, InputErrors) {
  Tensor x = rand32({1, 4}, 1);
  std::string m = expect_error(
      run_op("Resize", 13, {x, none(), f32({2}, {1, 2}), make(D::kInt64, {2}, {1, 8})}),
      Code::kInvalidArgument);
  EXPECT_HAS(m, "both were given");
  m = expect_error(run_op("Resize", 13, {x, none(), none(), none()}), Code::kInvalidArgument);
  EXPECT_HAS(m, "neither was given");
  m = expect_error(run_op("Resize", 13, {x, none(), f32({3}, {1, 2, 2})}), Code::kInvalidArgument);
  EXPECT_HAS(m, "must have 2 values");
  m = expect_error(run_op("Resize", 13, {x, none(), f32({2}, {1, 0})}), Code::kInvalidArgument);
  EXPECT_HAS(m, "positive");
  m = expect_error(
      run_op("Resize", 13, {f32({1, 0}, {}), none(), none(), make(D::kInt64, {2}, {1, 3})}),
      Code::kIncompatibleShapes);
  EXPECT_HAS(m, "empty axis 1");
  // An absurd scale is refused before allocating.
  m = expect_error(run_op("Resize", 13, {x, none(), f32({2}, {1e6, 1e6})}), Code::kInvalidArgument);
  EXPECT_HAS(m, "exceeds");
  m = expect_error(
      run_op("Resize", 13, {x, none(), f32({2}, {1, std::numeric_limits<double>::infinity()})}),
      Code::kInvalidArgument);
  EXPECT_HAS(m, "exceeds");
  m = expect_error(run_op("Resize", 13, {make(D::kBool, {1, 2}, {1, 0}), none(), f32({2}, {1, 2})},
                          Attrs().s("mode", "linear")),
                   Code::kTypeUnsupported);
  EXPECT_HAS(m, "bool");
  m = expect_error(
      run_op("Resize", 18, {f32({}, {1}), none(), f32({1}, {2})}, Attrs().ints("axes", {0})),
      Code::kInvalidArgument);
  EXPECT_HAS(m, "rank >= 1");
  Tensor e = run1("Resize", 13, {f32({1, 0}, {}), none(), f32({2}, {1, 2})});
  EXPECT_EQ(e.shape(), (Shape{1, 0}));
}

}  // namespace
}  // namespace kiln::conv_kernel_test
