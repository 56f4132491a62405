// Reference kernels of the data-movement ops: Reshape, Flatten, Squeeze, Unsqueeze, Transpose,
// Concat, Split, Slice, Gather*, Scatter*, Expand, Tile, Pad, Shape, Size, ConstantOfShape,
// Constant, Identity, Range, DepthToSpace, SpaceToDepth and Dropout. Covers what the ONNX
// backend data lacks: revision differences (attributes vs inputs), string/bool/16-bit/int
// elements, empty and scalar tensors, negative axes and indices, and the coded errors for bad
// shapes, indices and absurd output sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "interp/interpreter.h"
#include "ir/graph.h"
#include "kernel_test_util.h"
#include "ops/kernel_util.h"

namespace kiln::shape_kernel_test {
namespace {

using namespace kiln::test;  // NOLINT(google-build-using-namespace): the shared harness

using V = std::vector<double>;
using S = std::vector<std::string>;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

// ---- Reshape, Flatten, Squeeze, Unsqueeze ------------------------------------------------------

TEST(ShapeKernels, ReshapeZeroCopiesAndMinusOneInfers) {
  Tensor y = run1("Reshape", 13, {iota_f32({2, 3, 4}), i64({3}, {0, -1, 2})});
  EXPECT_EQ(y.shape(), (Shape{2, 6, 2}));
  EXPECT_EQ(values(y)[23], 23.0);
}

TEST(ShapeKernels, ReshapeAllowzeroMakesEmptyDims) {
  Tensor y = run1("Reshape", 14, {f32({0, 3}, {}), i64({3}, {3, 0, 5})}, Attrs().i("allowzero", 1));
  EXPECT_EQ(y.shape(), (Shape{3, 0, 5}));
  // Without allowzero the 0 copies the input's dim 1 (3): 0 elements cannot fill [3,3,5].
  expect_error(run_op("Reshape", 14, {f32({0, 3}, {}), i64({3}, {3, 0, 5})}),
               Code::kIncompatibleShapes);
  const std::string m = expect_error(
      run_op("Reshape", 14, {f32({0, 3}, {}), i64({2}, {0, -1})}, Attrs().i("allowzero", 1)),
      Code::kInvalidArgument);
  EXPECT_NE(m.find("ambiguous"), std::string::npos) << m;
}

TEST(ShapeKernels, ReshapeErrorsNameShapes) {
  std::string m = expect_error(run_op("Reshape", 13, {iota_f32({2, 3}), i64({2}, {4, 2})}),
                               Code::kIncompatibleShapes);
  EXPECT_NE(m.find("[2,3]"), std::string::npos) << m;
  EXPECT_NE(m.find("[4,2]"), std::string::npos) << m;
  m = expect_error(run_op("Reshape", 13, {iota_f32({2, 3}), i64({2}, {-1, -1})}),
                   Code::kInvalidArgument);
  EXPECT_NE(m.find("more than one -1"), std::string::npos) << m;
  m = expect_error(run_op("Reshape", 13, {iota_f32({2, 3}), i64({2}, {-2, 3})}),
                   Code::kInvalidArgument);
  EXPECT_NE(m.find("-2"), std::string::npos) << m;
  // A 0 past the input's rank has nothing to copy.
  expect_error(run_op("Reshape", 13, {iota_f32({6}), i64({2}, {6, 0})}), Code::kIncompatibleShapes);
  // An absurd target fails on the count, it does not allocate.
  expect_error(
      run_op("Reshape", 13, {iota_f32({6}), i64({3}, {int64_t{1} << 40, int64_t{1} << 40, 6})}),
      Code::kIncompatibleShapes);
}

TEST(ShapeKernels, ReshapeStringsAndScalars) {
  Tensor y = run1("Reshape", 21, {strings({2, 2}, {"a", "b", "c", "d"}), i64({1}, {-1})});
  EXPECT_EQ(y.shape(), (Shape{4}));
  EXPECT_EQ(string_values(y), (S{"a", "b", "c", "d"}));
  Tensor s = run1("Reshape", 13, {i64({1, 1}, {7}), i64({0}, {})});
  EXPECT_EQ(s.shape(), (Shape{}));
  EXPECT_EQ(values(s), (V{7}));
}

TEST(ShapeKernels, FlattenAxes) {
  EXPECT_EQ(run1("Flatten", 13, {iota_f32({2, 3, 4})}).shape(), (Shape{2, 12}));
  EXPECT_EQ(run1("Flatten", 13, {iota_f32({2, 3, 4})}, Attrs().i("axis", 0)).shape(),
            (Shape{1, 24}));
  EXPECT_EQ(run1("Flatten", 13, {iota_f32({2, 3, 4})}, Attrs().i("axis", 3)).shape(),
            (Shape{24, 1}));
  EXPECT_EQ(run1("Flatten", 11, {iota_f32({2, 3, 4})}, Attrs().i("axis", -1)).shape(),
            (Shape{6, 4}));
  EXPECT_EQ(run1("Flatten", 13, {f32({2, 0, 4}, {})}, Attrs().i("axis", 2)).shape(), (Shape{0, 4}));
  const std::string m = expect_error(
      run_op("Flatten", 13, {iota_f32({2, 3})}, Attrs().i("axis", 3)), Code::kInvalidArgument);
  EXPECT_NE(m.find("axis 3"), std::string::npos) << m;
}

TEST(ShapeKernels, SqueezeAttributeVsInput) {
  EXPECT_EQ(run1("Squeeze", 11, {iota_f32({1, 3, 1})}, Attrs().ints("axes", {-1})).shape(),
            (Shape{1, 3}));
  EXPECT_EQ(run1("Squeeze", 13, {iota_f32({1, 3, 1}), i64({1}, {0})}).shape(), (Shape{3, 1}));
  EXPECT_EQ(run1("Squeeze", 13, {iota_f32({1, 3, 1})}).shape(), (Shape{3}));  // all size-1
  EXPECT_EQ(run1("Squeeze", 7, {iota_f32({1, 1})}).shape(), (Shape{}));
  std::string m = expect_error(run_op("Squeeze", 13, {iota_f32({1, 3}), i64({1}, {1})}),
                               Code::kInvalidArgument);
  EXPECT_NE(m.find("size 3"), std::string::npos) << m;
  m = expect_error(run_op("Squeeze", 13, {iota_f32({1, 3}), i64({2}, {0, -2})}),
                   Code::kInvalidArgument);
  EXPECT_NE(m.find("twice"), std::string::npos) << m;
  expect_error(run_op("Squeeze", 13, {iota_f32({1, 3}), i64({1}, {2})}), Code::kInvalidArgument);
}

TEST(ShapeKernels, UnsqueezeAttributeVsInput) {
  EXPECT_EQ(run1("Unsqueeze", 11, {iota_f32({3, 4})}, Attrs().ints("axes", {0, -1})).shape(),
            (Shape{1, 3, 4, 1}));
  Tensor y = run1("Unsqueeze", 13, {iota_f32({3, 4}), i64({2}, {3, 1})});
  EXPECT_EQ(y.shape(), (Shape{3, 1, 4, 1}));
  EXPECT_EQ(values(y)[5], 5.0);
  EXPECT_EQ(run1("Unsqueeze", 21, {boolean({}, {true}), i64({1}, {0})}).shape(), (Shape{1}));
  expect_error(run_op("Unsqueeze", 13, {iota_f32({3}), i64({1}, {2})}), Code::kInvalidArgument);
  expect_error(run_op("Unsqueeze", 13, {iota_f32({3}), i64({2}, {0, 0})}), Code::kInvalidArgument);
}

// ---- Transpose ---------------------------------------------------------------------------------

TEST(ShapeKernels, TransposeDefaultReversesAxes) {
  Tensor y = run1("Transpose", 13, {iota_f32({2, 3, 4})});
  EXPECT_EQ(y.shape(), (Shape{4, 3, 2}));
  // y[k][j][i] = x[i][j][k] = 12i + 4j + k.
  EXPECT_EQ(values(y)[1], 12.0);         // y[0][0][1]
  EXPECT_EQ(values(y)[2 * 3 + 0], 1.0);  // y[1][0][0]
}

TEST(ShapeKernels, TransposePermOnStringsAndHalf) {
  Tensor y = run1("Transpose", 13, {strings({2, 3}, {"a", "b", "c", "d", "e", "f"})},
                  Attrs().ints("perm", {1, 0}));
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(string_values(y), (S{"a", "d", "b", "e", "c", "f"}));
  Tensor h = run1("Transpose", 13, {f16({2, 2}, {1.5f, 2.5f, 3.5f, 4.5f})});
  EXPECT_EQ(h.dtype(), D::kFloat16);
  EXPECT_EQ(values(h), (V{1.5, 3.5, 2.5, 4.5}));
  EXPECT_EQ(run1("Transpose", 13, {f32({0, 3}, {})}).shape(), (Shape{3, 0}));
  const std::string m =
      expect_error(run_op("Transpose", 13, {iota_f32({2, 3})}, Attrs().ints("perm", {0, 0})),
                   Code::kInvalidArgument);
  EXPECT_NE(m.find("[0,0]"), std::string::npos) << m;
}

// ---- Concat, Split ------------------------------------------------------------------------------

TEST(ShapeKernels, ConcatNegativeAxisEmptyAndStrings) {
  Tensor y = run1("Concat", 13, {iota_f32({2, 1}), f32({2, 0}, {}), f32({2, 2}, {9, 8, 7, 6})},
                  Attrs().i("axis", -1));
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values(y), (V{0, 9, 8, 1, 7, 6}));
  Tensor s =
      run1("Concat", 7, {strings({1}, {"x"}), strings({2}, {"y", "z"})}, Attrs().i("axis", 0));
  EXPECT_EQ(string_values(s), (S{"x", "y", "z"}));
}

TEST(ShapeKernels, ConcatErrors) {
  std::string m =
      expect_error(run_op("Concat", 13, {iota_f32({2, 3}), iota_f32({3, 3})}, Attrs().i("axis", 1)),
                   Code::kIncompatibleShapes);
  EXPECT_NE(m.find("[3,3]"), std::string::npos) << m;
  expect_error(run_op("Concat", 13, {iota_f32({2}), i64({1}, {1})}, Attrs().i("axis", 0)),
               Code::kInvalidArgument);
  expect_error(run_op("Concat", 13, {f32({}, {1}), f32({}, {2})}, Attrs().i("axis", 0)),
               Code::kInvalidArgument);
  expect_error(run_op("Concat", 13, {iota_f32({2})}, Attrs().i("axis", 1)), Code::kInvalidArgument);
}

TEST(ShapeKernels, SplitAttributeInputAndEqualParts) {
  auto r = run_op("Split", 11, {iota_f32({2, 5})}, Attrs().i("axis", -1).ints("split", {2, 3}), 2);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(values((*r)[1]), (V{2, 3, 4, 7, 8, 9}));
  r = run_op("Split", 13, {iota_f32({4}), i64({3}, {1, 0, 3})}, {}, 3);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[1].shape(), (Shape{0}));
  EXPECT_EQ(values((*r)[2]), (V{1, 2, 3}));
  r = run_op("Split", 13, {strings({4}, {"a", "b", "c", "d"})}, {}, 2);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(string_values((*r)[1]), (S{"c", "d"}));
}

TEST(ShapeKernels, SplitNumOutputsUnevenLastChunk) {
  auto r = run_op("Split", 18, {iota_f32({7})}, Attrs().i("num_outputs", 3), 3);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values((*r)[0]), (V{0, 1, 2}));
  EXPECT_EQ(values((*r)[1]), (V{3, 4, 5}));
  EXPECT_EQ(values((*r)[2]), (V{6}));
  // Before 18 parts must be equal.
  std::string m = expect_error(run_op("Split", 13, {iota_f32({7})}, {}, 3), Code::kInvalidArgument);
  EXPECT_NE(m.find("size 7"), std::string::npos) << m;
  // 5 into 4 chunks of 2 leaves -1 for the last one.
  expect_error(run_op("Split", 18, {iota_f32({5})}, Attrs().i("num_outputs", 4), 4),
               Code::kInvalidArgument);
  m = expect_error(run_op("Split", 13, {iota_f32({4}), i64({2}, {1, 2})}, {}, 2),
                   Code::kInvalidArgument);
  EXPECT_NE(m.find("sum to 3"), std::string::npos) << m;
  expect_error(run_op("Split", 13, {iota_f32({4}), i64({2}, {-1, 5})}, {}, 2),
               Code::kInvalidArgument);
}

// ---- Slice -------------------------------------------------------------------------------------

TEST(ShapeKernels, SliceOpset1Attributes) {
  Tensor y = run1("Slice", 7, {iota_f32({3, 4})},
                  Attrs().ints("starts", {1, -3}).ints("ends", {1000, -1}));
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(values(y), (V{5, 6, 9, 10}));
  Tensor z = run1("Slice", 7, {iota_f32({3, 4})},
                  Attrs().ints("starts", {2}).ints("ends", {3}).ints("axes", {1}));
  EXPECT_EQ(values(z), (V{2, 6, 10}));
}

TEST(ShapeKernels, SliceNegativeStepsAndClamping) {
  // Reverse everything: start past the end clamps to dim-1, INT64_MIN end to -1.
  Tensor y =
      run1("Slice", 13,
           {iota_f32({5}), i64({1}, {kMax}), i64({1}, {kMin}), i64({1}, {0}), i64({1}, {-2})});
  EXPECT_EQ(values(y), (V{4, 2, 0}));
  Tensor z =
      run1("Slice", 13,
           {iota_f32({2, 5}), i32({1}, {-1}), i32({1}, {0}), i32({1}, {-1}), i32({1}, {-1})});
  EXPECT_EQ(z.shape(), (Shape{2, 4}));
  EXPECT_EQ(values(z), (V{4, 3, 2, 1, 9, 8, 7, 6}));
  // INT64_MIN as a step: a single element.
  Tensor w =
      run1("Slice", 13, {iota_f32({5}), i64({1}, {3}), i64({1}, {kMin}), none(), i64({1}, {kMin})});
  EXPECT_EQ(values(w), (V{3}));
}

TEST(ShapeKernels, SliceEmptyResults) {
  Tensor y = run1("Slice", 13, {iota_f32({5}), i64({1}, {3}), i64({1}, {1})});
  EXPECT_EQ(y.shape(), (Shape{0}));
  Tensor z =
      run1("Slice", 13,
           {f32({0, 2}, {}), i64({1}, {-1}), i64({1}, {kMin}), i64({1}, {0}), i64({1}, {-1})});
  EXPECT_EQ(z.shape(), (Shape{0, 2}));
  Tensor s = run1("Slice", 13, {strings({3}, {"a", "b", "c"}), i64({1}, {1}), i64({1}, {3})});
  EXPECT_EQ(string_values(s), (S{"b", "c"}));
}

TEST(ShapeKernels, SliceErrors) {
  std::string m = expect_error(
      run_op("Slice", 13, {iota_f32({5}), i64({1}, {0}), i64({1}, {5}), none(), i64({1}, {0})}),
      Code::kInvalidArgument);
  EXPECT_NE(m.find("step"), std::string::npos) << m;
  expect_error(run_op("Slice", 13, {iota_f32({5}), i64({2}, {0, 1}), i64({1}, {5})}),
               Code::kInvalidArgument);
  expect_error(run_op("Slice", 13,
                      {iota_f32({2, 2}), i64({2}, {0, 0}), i64({2}, {1, 1}), i64({2}, {1, -1})}),
               Code::kInvalidArgument);
  expect_error(run_op("Slice", 13, {iota_f32({5}), i64({1}, {0}), i64({1}, {5}), i64({1}, {1})}),
               Code::kInvalidArgument);
}

// ---- Gather, GatherElements, GatherND -----------------------------------------------------------

TEST(ShapeKernels, GatherAxisAndNegativeIndices) {
  Tensor y = run1("Gather", 13, {iota_f32({3, 2}), i64({2, 2}, {0, -1, 2, 1})});
  EXPECT_EQ(y.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(values(y), (V{0, 1, 4, 5, 4, 5, 2, 3}));
  Tensor z = run1("Gather", 11, {iota_f32({2, 3}), i32({}, {-1})}, Attrs().i("axis", 1));
  EXPECT_EQ(z.shape(), (Shape{2}));
  EXPECT_EQ(values(z), (V{2, 5}));
  Tensor s = run1("Gather", 13, {strings({3}, {"a", "b", "c"}), i64({2}, {2, 0})});
  EXPECT_EQ(string_values(s), (S{"c", "a"}));
  EXPECT_EQ(run1("Gather", 13, {iota_f32({3, 2}), i64({0}, {})}).shape(), (Shape{0, 2}));
}

TEST(ShapeKernels, GatherIndexOutOfRange) {
  const std::string m =
      expect_error(run_op("Gather", 13, {iota_f32({3}), i64({2}, {0, 3})}), Code::kIndexOutOfRange);
  EXPECT_NE(m.find("index 3"), std::string::npos) << m;
  EXPECT_NE(m.find("-3..2"), std::string::npos) << m;
  expect_error(run_op("Gather", 13, {iota_f32({3}), i32({1}, {-4})}), Code::kIndexOutOfRange);
  expect_error(run_op("Gather", 13, {f32({0}, {}), i64({1}, {0})}), Code::kIndexOutOfRange);
}

TEST(ShapeKernels, GatherElementsAxisAndBounds) {
  Tensor y = run1("GatherElements", 13, {iota_f32({2, 3}), i64({2, 2}, {2, 0, -1, 1})},
                  Attrs().i("axis", 1));
  EXPECT_EQ(values(y), (V{2, 0, 5, 4}));
  Tensor z = run1("GatherElements", 13, {iota_f32({2, 3}), i32({1, 3}, {1, 0, 1})});
  EXPECT_EQ(values(z), (V{3, 1, 5}));
  std::string m = expect_error(run_op("GatherElements", 13, {iota_f32({2, 3}), i64({1, 1}, {2})}),
                               Code::kIndexOutOfRange);
  EXPECT_NE(m.find("index 2"), std::string::npos) << m;
  m = expect_error(run_op("GatherElements", 13, {iota_f32({2, 3}), i64({1, 4}, {0, 0, 0, 0})}),
                   Code::kIncompatibleShapes);
  EXPECT_NE(m.find("[1,4]"), std::string::npos) << m;
}

TEST(ShapeKernels, GatherNDWithBatchDims) {
  Tensor y = run1("GatherND", 13, {iota_f32({2, 2}), i64({2, 2}, {0, 0, 1, -1})});
  EXPECT_EQ(values(y), (V{0, 3}));
  Tensor rows = run1("GatherND", 11, {iota_f32({2, 2}), i64({2, 1}, {1, 0})});
  EXPECT_EQ(rows.shape(), (Shape{2, 2}));
  EXPECT_EQ(values(rows), (V{2, 3, 0, 1}));
  // batch_dims = 1: per batch b, data[b][idx].
  Tensor b =
      run1("GatherND", 12, {iota_f32({2, 2, 2}), i64({2, 1}, {1, 0})}, Attrs().i("batch_dims", 1));
  EXPECT_EQ(b.shape(), (Shape{2, 2}));
  EXPECT_EQ(values(b), (V{2, 3, 4, 5}));
  std::string m = expect_error(run_op("GatherND", 13, {iota_f32({2, 2}), i64({1, 2}, {0, 2})}),
                               Code::kIndexOutOfRange);
  EXPECT_NE(m.find("index 2"), std::string::npos) << m;
  expect_error(run_op("GatherND", 13, {iota_f32({2, 2}), i64({1, 3}, {0, 0, 0})}),
               Code::kIncompatibleShapes);
  expect_error(run_op("GatherND", 12, {iota_f32({2, 2}), i64({3, 1}, {0, 0, 0})},
                      Attrs().i("batch_dims", 1)),
               Code::kIncompatibleShapes);
}

// ---- ScatterElements, ScatterND -----------------------------------------------------------------

TEST(ShapeKernels, ScatterElementsReductions) {
  auto data = [] { return f32({1, 4}, {1, 2, 3, 4}); };
  auto idx = [] { return i64({1, 3}, {1, -1, 1}); };
  auto upd = [] { return f32({1, 3}, {10, 5, 3}); };
  EXPECT_EQ(values(run1("ScatterElements", 13, {data(), idx(), upd()}, Attrs().i("axis", 1))),
            (V{1, 3, 3, 5}));  // duplicates: the last write wins
  EXPECT_EQ(values(run1("ScatterElements", 16, {data(), idx(), upd()},
                        Attrs().i("axis", 1).s("reduction", "add"))),
            (V{1, 15, 3, 9}));
  EXPECT_EQ(values(run1("ScatterElements", 16, {data(), idx(), upd()},
                        Attrs().i("axis", 1).s("reduction", "mul"))),
            (V{1, 60, 3, 20}));
  EXPECT_EQ(values(run1("ScatterElements", 18, {data(), idx(), upd()},
                        Attrs().i("axis", 1).s("reduction", "max"))),
            (V{1, 10, 3, 5}));
  EXPECT_EQ(values(run1("ScatterElements", 18, {data(), idx(), upd()},
                        Attrs().i("axis", 1).s("reduction", "min"))),
            (V{1, 2, 3, 4}));
  // max/min only exist from 18.
  expect_error(run_op("ScatterElements", 16, {data(), idx(), upd()},
                      Attrs().i("axis", 1).s("reduction", "max")),
               Code::kInvalidArgument);
}

TEST(ShapeKernels, ScatterElementsTypesAndErrors) {
  Tensor h =
      run1("ScatterElements", 18, {f16({3}, {1, 2, 3}), i32({2}, {0, 0}), f16({2}, {0.5f, 0.25f})},
           Attrs().s("reduction", "add"));
  EXPECT_EQ(h.dtype(), D::kFloat16);
  EXPECT_EQ(values(h), (V{1.75, 2, 3}));
  Tensor s = run1("ScatterElements", 13,
                  {strings({3}, {"a", "b", "c"}), i64({1}, {1}), strings({1}, {"z"})});
  EXPECT_EQ(string_values(s), (S{"a", "z", "c"}));
  std::string m =
      expect_error(run_op("ScatterElements", 13, {iota_f32({3}), i64({1}, {3}), f32({1}, {0})}),
                   Code::kIndexOutOfRange);
  EXPECT_NE(m.find("index 3"), std::string::npos) << m;
  expect_error(run_op("ScatterElements", 13, {iota_f32({3}), i64({2}, {0, 1}), f32({1}, {0})}),
               Code::kIncompatibleShapes);
  // Reductions need numbers.
  expect_error(
      run_op("ScatterElements", 16, {strings({1}, {"a"}), i64({1}, {0}), strings({1}, {"b"})},
             Attrs().s("reduction", "add")),
      Code::kTypeUnsupported);
}

TEST(ShapeKernels, ScatterNDReductionsAndBounds) {
  auto data = [] { return i32({2, 2}, {1, 2, 3, 4}); };
  auto idx = [] { return i64({2, 1}, {1, -1}); };
  auto upd = [] { return i32({2, 2}, {10, 20, 30, 40}); };
  EXPECT_EQ(values(run1("ScatterND", 13, {data(), idx(), upd()})), (V{1, 2, 30, 40}));
  EXPECT_EQ(values(run1("ScatterND", 16, {data(), idx(), upd()}, Attrs().s("reduction", "add"))),
            (V{1, 2, 43, 64}));
  EXPECT_EQ(values(run1("ScatterND", 16, {data(), idx(), upd()}, Attrs().s("reduction", "mul"))),
            (V{1, 2, 900, 3200}));
  EXPECT_EQ(values(run1("ScatterND", 18, {data(), idx(), upd()}, Attrs().s("reduction", "max"))),
            (V{1, 2, 30, 40}));
  EXPECT_EQ(values(run1("ScatterND", 18, {data(), idx(), upd()}, Attrs().s("reduction", "min"))),
            (V{1, 2, 3, 4}));
  Tensor elem = run1("ScatterND", 13, {data(), i64({1, 2}, {0, 1}), i32({1}, {-7})});
  EXPECT_EQ(values(elem), (V{1, -7, 3, 4}));
  std::string m =
      expect_error(run_op("ScatterND", 13, {data(), i64({1, 1}, {2}), i32({1, 2}, {0, 0})}),
                   Code::kIndexOutOfRange);
  EXPECT_NE(m.find("-2..1"), std::string::npos) << m;
  m = expect_error(run_op("ScatterND", 13, {data(), idx(), i32({2, 3}, {0, 0, 0, 0, 0, 0})}),
                   Code::kIncompatibleShapes);
  EXPECT_NE(m.find("[2,3]"), std::string::npos) << m;
}

// ---- Expand, Tile -------------------------------------------------------------------------------

TEST(ShapeKernels, ExpandBroadcastsBothWays) {
  Tensor y = run1("Expand", 13, {f32({3, 1}, {1, 2, 3}), i64({3}, {2, 1, 2})});
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(values(y), (V{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}));
  Tensor b = run1("Expand", 8, {boolean({}, {true}), i64({1}, {3})});
  EXPECT_EQ(values(b), (V{1, 1, 1}));
  EXPECT_EQ(run1("Expand", 13, {iota_f32({1, 2}), i64({2}, {0, 1})}).shape(), (Shape{0, 2}));
  std::string m =
      expect_error(run_op("Expand", 13, {iota_f32({3}), i64({1}, {2})}), Code::kIncompatibleShapes);
  EXPECT_NE(m.find("[3]"), std::string::npos) << m;
  expect_error(run_op("Expand", 13, {iota_f32({3}), i64({1}, {-3})}), Code::kInvalidArgument);
  m = expect_error(
      run_op("Expand", 13, {iota_f32({1}), i64({2}, {int64_t{1} << 20, int64_t{1} << 20})}),
      Code::kInvalidArgument);
  EXPECT_NE(m.find("2^33"), std::string::npos) << m;
}

TEST(ShapeKernels, TileRepeatsAndLimits) {
  Tensor y = run1("Tile", 13, {f32({2, 2}, {1, 2, 3, 4}), i64({2}, {2, 1})});
  EXPECT_EQ(values(y), (V{1, 2, 3, 4, 1, 2, 3, 4}));
  Tensor z = run1("Tile", 13, {u8({2}, {7, 8}), i64({1}, {3})});
  EXPECT_EQ(values(z), (V{7, 8, 7, 8, 7, 8}));
  EXPECT_EQ(run1("Tile", 13, {iota_f32({2}), i64({1}, {0})}).shape(), (Shape{0}));
  expect_error(run_op("Tile", 13, {iota_f32({2}), i64({2}, {1, 1})}), Code::kInvalidArgument);
  expect_error(run_op("Tile", 13, {iota_f32({2}), i64({1}, {-1})}), Code::kInvalidArgument);
  expect_error(run_op("Tile", 13, {iota_f32({2, 2}), i64({2}, {int64_t{1} << 32, 4})}),
               Code::kInvalidArgument);
}

// ---- Pad ---------------------------------------------------------------------------------------

TEST(ShapeKernels, PadModes) {
  auto x = [] { return f32({3}, {1, 2, 3}); };
  EXPECT_EQ(values(run1("Pad", 13, {x(), i64({2}, {2, 1}), f32({}, {9})})), (V{9, 9, 1, 2, 3, 9}));
  EXPECT_EQ(values(run1("Pad", 13, {x(), i64({2}, {2, 1})}, Attrs().s("mode", "reflect"))),
            (V{3, 2, 1, 2, 3, 2}));
  EXPECT_EQ(values(run1("Pad", 13, {x(), i64({2}, {2, 1})}, Attrs().s("mode", "edge"))),
            (V{1, 1, 1, 2, 3, 3}));
  EXPECT_EQ(values(run1("Pad", 19, {x(), i64({2}, {2, 1})}, Attrs().s("mode", "wrap"))),
            (V{2, 3, 1, 2, 3, 1}));
  // Reflection wider than the input repeats, as numpy.pad does.
  EXPECT_EQ(values(run1("Pad", 13, {x(), i64({2}, {5, 0})}, Attrs().s("mode", "reflect"))),
            (V{2, 1, 2, 3, 2, 1, 2, 3}));
  const std::string m =
      expect_error(run_op("Pad", 18, {x(), i64({2}, {1, 1})}, Attrs().s("mode", "wrap")),
                   Code::kInvalidArgument);
  EXPECT_NE(m.find("wrap"), std::string::npos) << m;
}

TEST(ShapeKernels, PadAttributeRevision2) {
  Tensor y =
      run1("Pad", 7, {f32({1, 2}, {1, 2})}, Attrs().ints("pads", {0, 1, 1, 0}).f("value", -1.0f));
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values(y), (V{-1, 1, 2, -1, -1, -1}));
  Tensor h = run1("Pad", 7, {f16({2}, {1, 2})}, Attrs().ints("pads", {1, 0}).s("mode", "edge"));
  EXPECT_EQ(values(h), (V{1, 1, 2}));
}

TEST(ShapeKernels, PadNegativePadsCrop) {
  Tensor y = run1("Pad", 13, {iota_f32({2, 4}), i64({4}, {0, -1, 1, -2})});
  EXPECT_EQ(y.shape(), (Shape{3, 1}));
  EXPECT_EQ(values(y), (V{1, 5, 0}));
  // Crop first, then reflect inside what is left ([1,2]).
  EXPECT_EQ(values(run1("Pad", 13, {f32({4}, {0, 1, 2, 3}), i64({2}, {-1, 1})},
                        Attrs().s("mode", "reflect"))),
            (V{1, 2, 3, 2}));
  expect_error(run_op("Pad", 13, {iota_f32({2}), i64({2}, {-2, -1})}), Code::kInvalidArgument);
  // Mixed signs on one axis, checked against ONNX Runtime 1.32: constant mode pads then crops
  // (a crop may eat the other side's fill), the other modes crop then pad.
  auto x = [] { return f32({4}, {0, 1, 2, 3}); };
  EXPECT_EQ(values(run1("Pad", 19, {x(), i64({2}, {-5, 2})})), (V{0}));
  EXPECT_EQ(values(run1("Pad", 19, {x(), i64({2}, {-3, 2})})), (V{3, 0, 0}));
  EXPECT_EQ(values(run1("Pad", 19, {x(), i64({2}, {-3, 2})}, Attrs().s("mode", "edge"))),
            (V{3, 3, 3}));
  EXPECT_EQ(values(run1("Pad", 19, {x(), i64({2}, {2, -3})}, Attrs().s("mode", "edge"))),
            (V{0, 0, 0}));
  EXPECT_EQ(values(run1("Pad", 19, {x(), i64({2}, {-2, 3})}, Attrs().s("mode", "wrap"))),
            (V{2, 3, 2, 3, 2}));
  EXPECT_EQ(values(run1("Pad", 19, {x(), i64({2}, {1, -2})}, Attrs().s("mode", "reflect"))),
            (V{1, 0, 1}));
  const std::string m =
      expect_error(run_op("Pad", 19, {x(), i64({2}, {-4, 1})}, Attrs().s("mode", "edge")),
                   Code::kInvalidArgument);
  EXPECT_NE(m.find("no input elements remain"), std::string::npos) << m;
}

TEST(ShapeKernels, PadAxesInputAndTypes) {
  Tensor y =
      run1("Pad", 18, {i32({2, 2}, {1, 2, 3, 4}), i64({2}, {1, 0}), i32({}, {7}), i64({1}, {-1})});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values(y), (V{7, 1, 2, 7, 3, 4}));
  Tensor s = run1("Pad", 13, {strings({1}, {"a"}), i64({2}, {1, 1}), strings({}, {"_"})});
  EXPECT_EQ(string_values(s), (S{"_", "a", "_"}));
  Tensor e = run1("Pad", 13, {f32({0}, {}), i64({2}, {1, 1})});
  EXPECT_EQ(values(e), (V{0, 0}));
  std::string m = expect_error(
      run_op("Pad", 13, {f32({0}, {}), i64({2}, {1, 1})}, Attrs().s("mode", "reflect")),
      Code::kInvalidArgument);
  EXPECT_NE(m.find("axis 0"), std::string::npos) << m;
  m = expect_error(run_op("Pad", 13, {iota_f32({2, 2}), i64({2}, {1, 1})}), Code::kInvalidArgument);
  EXPECT_NE(m.find("must hold 4"), std::string::npos) << m;
  expect_error(run_op("Pad", 13, {iota_f32({2}), i64({2}, {int64_t{1} << 40, 0})}),
               Code::kInvalidArgument);
}

// ---- Shape, Size, ConstantOfShape, Constant, Identity, Range ------------------------------------

TEST(ShapeKernels, ShapeStartEnd) {
  auto x = [] { return f32({2, 3, 0, 5}, {}); };
  Tensor all = run1("Shape", 13, {x()});
  EXPECT_EQ(values(all), (V{2, 3, 0, 5}));
  EXPECT_EQ(values(run1("Shape", 15, {x()}, Attrs().i("start", -3).i("end", -1))), (V{3, 0}));
  EXPECT_EQ(values(run1("Shape", 15, {x()}, Attrs().i("start", -10).i("end", 100))),
            (V{2, 3, 0, 5}));
  EXPECT_EQ(run1("Shape", 15, {x()}, Attrs().i("start", 3).i("end", 1)).shape(), (Shape{0}));
  EXPECT_EQ(run1("Shape", 21, {strings({}, {"s"})}).shape(), (Shape{0}));
  Tensor n = run1("Size", 13, {strings({2, 3}, {"a", "b", "c", "d", "e", "f"})});
  EXPECT_EQ(n.shape(), (Shape{}));
  EXPECT_EQ(values(n), (V{6}));
}

TEST(ShapeKernels, ConstantOfShapeValues) {
  Tensor z = run1("ConstantOfShape", 9, {i64({2}, {2, 2})});
  EXPECT_EQ(z.dtype(), D::kFloat32);
  EXPECT_EQ(values(z), (V{0, 0, 0, 0}));
  Tensor v = run1("ConstantOfShape", 20, {i64({1}, {3})}, Attrs().tensor("value", i32({1}, {-4})));
  EXPECT_EQ(v.dtype(), D::kInt32);
  EXPECT_EQ(values(v), (V{-4, -4, -4}));
  Tensor s = run1("ConstantOfShape", 20, {i64({0}, {})}, Attrs().tensor("value", bf16({1}, {2})));
  EXPECT_EQ(s.shape(), (Shape{}));
  EXPECT_EQ(values(s), (V{2}));
  expect_error(run_op("ConstantOfShape", 9, {i64({2}, {2, -1})}), Code::kInvalidArgument);
  const std::string m = expect_error(
      run_op("ConstantOfShape", 9, {i64({3}, {int64_t{1} << 20, int64_t{1} << 20, 16})}),
      Code::kInvalidArgument);
  EXPECT_NE(m.find("2^33"), std::string::npos) << m;
}

TEST(ShapeKernels, ConstantEveryValueAttribute) {
  Tensor t = run1("Constant", 13, {}, Attrs().tensor("value", i16({2}, {3, 4})));
  EXPECT_EQ(t.dtype(), D::kInt16);
  EXPECT_EQ(values(t), (V{3, 4}));
  Tensor f = run1("Constant", 13, {}, Attrs().f("value_float", 1.5f));
  EXPECT_EQ(f.dtype(), D::kFloat32);
  EXPECT_EQ(f.shape(), (Shape{}));
  EXPECT_EQ(values(f), (V{1.5}));
  Tensor fs = run1("Constant", 13, {}, Attrs().floats("value_floats", {1, 2}));
  EXPECT_EQ(fs.shape(), (Shape{2}));
  EXPECT_EQ(values(fs), (V{1, 2}));
  Tensor i = run1("Constant", 13, {}, Attrs().i("value_int", -3));
  EXPECT_EQ(i.dtype(), D::kInt64);
  EXPECT_EQ(values(i), (V{-3}));
  Tensor is = run1("Constant", 13, {}, Attrs().ints("value_ints", {4, 5, 6}));
  EXPECT_EQ(is.shape(), (Shape{3}));
  EXPECT_EQ(values(is), (V{4, 5, 6}));
  Tensor s = run1("Constant", 13, {}, Attrs().s("value_string", "hi"));
  EXPECT_EQ(s.shape(), (Shape{}));
  EXPECT_EQ(string_values(s), (S{"hi"}));
  Tensor ss = run1("Constant", 13, {}, Attrs().strings("value_strings", {"a", "b"}));
  EXPECT_EQ(ss.shape(), (Shape{2}));
  EXPECT_EQ(string_values(ss), (S{"a", "b"}));
}

TEST(ShapeKernels, IdentitySharesOwnedStorage) {
  Tensor x = iota_f32({2, 2});
  const void* data = x.data();
  Tensor y = run1("Identity", 13, {std::move(x)});
  EXPECT_EQ(y.data(), data);  // zero-copy
  EXPECT_EQ(values(y), (V{0, 1, 2, 3}));
  Tensor s = run1("Identity", 21, {strings({2}, {"p", "q"})});
  EXPECT_EQ(string_values(s), (S{"p", "q"}));
}

TEST(ShapeKernels, RangeIntsAndFloats) {
  Tensor y = run1("Range", 11, {i32({}, {10}), i32({}, {4}), i32({}, {-3})});
  EXPECT_EQ(y.dtype(), D::kInt32);
  EXPECT_EQ(values(y), (V{10, 7}));
  Tensor f = run1("Range", 11, {f32({}, {1}), f32({}, {2}), f32({}, {0.25f})});
  EXPECT_EQ(values(f), (V{1, 1.25, 1.5, 1.75}));
  EXPECT_EQ(run1("Range", 11, {i64({}, {5}), i64({}, {1}), i64({}, {1})}).shape(), (Shape{0}));
  // The span overflows int64 but the count is small.
  Tensor big = run1("Range", 11, {i64({}, {kMin}), i64({}, {kMax}), i64({}, {int64_t{1} << 62})});
  ASSERT_EQ(big.numel(), 4);
  EXPECT_EQ(big.data_as<int64_t>()[3], int64_t{1} << 62);  // INT64_MIN + 3 * 2^62
  Tensor d = run1("Range", 11, {f64({}, {0}), f64({}, {-1}), f64({}, {-0.5})});
  EXPECT_EQ(values(d), (V{0, -0.5}));
  std::string m = expect_error(run_op("Range", 11, {i64({}, {0}), i64({}, {5}), i64({}, {0})}),
                               Code::kInvalidArgument);
  EXPECT_NE(m.find("delta is 0"), std::string::npos) << m;
  m = expect_error(run_op("Range", 11, {f32({}, {0}), f32({}, {1e12f}), f32({}, {1})}),
                   Code::kInvalidArgument);
  EXPECT_NE(m.find("2^33"), std::string::npos) << m;
  expect_error(run_op("Range", 11, {i64({2}, {0, 1}), i64({}, {5}), i64({}, {1})}),
               Code::kInvalidArgument);
}

// ---- DepthToSpace, SpaceToDepth -----------------------------------------------------------------

TEST(ShapeKernels, DepthToSpaceModes) {
  // 8 channels of 1x1, blocksize 2 → 2 channels of 2x2. Output (c, i, j) reads channel
  // i*4 + j*2 + c in DCR order and c*4 + i*2 + j in CRD order.
  Tensor dcr = run1("DepthToSpace", 13, {iota_f32({1, 8, 1, 1})}, Attrs().i("blocksize", 2));
  EXPECT_EQ(dcr.shape(), (Shape{1, 2, 2, 2}));
  EXPECT_EQ(values(dcr), (V{0, 2, 4, 6, 1, 3, 5, 7}));
  Tensor crd = run1("DepthToSpace", 13, {iota_f32({1, 8, 1, 1})},
                    Attrs().i("blocksize", 2).s("mode", "CRD"));
  EXPECT_EQ(values(crd), (V{0, 1, 2, 3, 4, 5, 6, 7}));
  // Revision 1 has no mode attribute: always DCR.
  EXPECT_EQ(values(run1("DepthToSpace", 7, {iota_f32({1, 8, 1, 1})}, Attrs().i("blocksize", 2))),
            values(dcr));
  std::string m =
      expect_error(run_op("DepthToSpace", 13, {iota_f32({1, 6, 1, 1})}, Attrs().i("blocksize", 2)),
                   Code::kIncompatibleShapes);
  EXPECT_NE(m.find("6 channels"), std::string::npos) << m;
  expect_error(run_op("DepthToSpace", 13, {iota_f32({4, 1, 1})}, Attrs().i("blocksize", 2)),
               Code::kInvalidArgument);
  expect_error(run_op("DepthToSpace", 13, {iota_f32({1, 4, 1, 1})}, Attrs().i("blocksize", 0)),
               Code::kInvalidArgument);
}

TEST(ShapeKernels, SpaceToDepthInvertsDepthToSpaceDCR) {
  Tensor x = iota_f32({1, 2, 4, 6});
  Tensor s = run1("SpaceToDepth", 13, {x}, Attrs().i("blocksize", 2));
  EXPECT_EQ(s.shape(), (Shape{1, 8, 2, 3}));
  Tensor back = run1("DepthToSpace", 13, {s}, Attrs().i("blocksize", 2));
  EXPECT_EQ(values(back), values(x));
  Tensor str = run1("SpaceToDepth", 13, {strings({1, 1, 2, 2}, {"a", "b", "c", "d"})},
                    Attrs().i("blocksize", 2));
  EXPECT_EQ(str.shape(), (Shape{1, 4, 1, 1}));
  EXPECT_EQ(string_values(str), (S{"a", "b", "c", "d"}));
  expect_error(run_op("SpaceToDepth", 13, {iota_f32({1, 1, 3, 2})}, Attrs().i("blocksize", 2)),
               Code::kIncompatibleShapes);
}

// ---- Dropout -----------------------------------------------------------------------------------

TEST(ShapeKernels, DropoutInferenceIsIdentityWithFullMask) {
  auto r = run_op("Dropout", 7, {f32({3}, {1, 2, 3})}, Attrs().f("ratio", 0.3f), 2);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values((*r)[0]), (V{1, 2, 3}));
  EXPECT_EQ((*r)[1].dtype(), D::kFloat32);  // Dropout-7's mask has data's type
  EXPECT_EQ(values((*r)[1]), (V{1, 1, 1}));
  r = run_op("Dropout", 12, {f32({2}, {4, 5}), f32({}, {0.9f}), boolean({}, {false})}, {}, 2);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values((*r)[0]), (V{4, 5}));
  EXPECT_EQ((*r)[1].dtype(), D::kBool);
  EXPECT_EQ(values((*r)[1]), (V{1, 1}));
  Tensor b = run1("Dropout", 13, {bf16({2}, {1.5f, -2})});
  EXPECT_EQ(b.dtype(), D::kBFloat16);
  EXPECT_EQ(values(b), (V{1.5, -2}));
}

TEST(ShapeKernels, DropoutTrainingModeRefused) {
  const std::string m =
      expect_error(run_op("Dropout", 13, {f32({2}, {1, 2}), f32({}, {0.5f}), boolean({}, {true})}),
                   Code::kInvalidArgument);
  EXPECT_NE(m.find("training_mode"), std::string::npos) << m;
  // With ratio 0 training drops nothing: still the identity.
  Tensor y = run1("Dropout", 13, {f32({2}, {1, 2}), f32({}, {0}), boolean({}, {true})});
  EXPECT_EQ(values(y), (V{1, 2}));
}

}  // namespace
}  // namespace kiln::shape_kernel_test
