// transpose_into_matmul and matmul_add_fusion: golden IR (fires / does not fire) and numeric
// equality with the original graph (the reference interpreter runs Transpose/MatMul/Add
// themselves, so kiln.FusedMatMul's transA/transB/alpha/Bias handling is checked against them).
#include "unit/pass_test_util.h"

namespace kiln::test {
namespace {

const std::vector<std::string> kTranspose = {"transpose_into_matmul"};
const std::vector<std::string> kLinear = {"matmul_add_fusion"};

// Attention-style Q·Kᵀ (K transposed on its last two dims) and a transposed A.
constexpr const char* kTransposed = R"(
graph main (%q: float32[2,3,5,4], %k: float32[2,3,6,4], %a: float32[2,4,5]) -> (%s: float32[2,3,5,6], %t: float32[2,5,6]) {
  init %w: float32[4,6]
  %kt = Transpose(%k) {perm=[0,1,3,2]} #0 "kt"
  %s = MatMul(%q, %kt) #1 "scores"
  %at = Transpose(%a) {perm=[0,2,1]} #2 "at"
  %t = MatMul(%at, %w) #3 "mm"
}
)";

TEST(PassTransposeIntoMatMul, AbsorbsLastTwoDimTransposes) {
  auto make = [] { return model_from_text(kTransposed); };
  auto m = make();
  EXPECT_EQ(optimized_text(*m, kTranspose), canonical(R"(
graph main (%q: float32[2,3,5,4], %k: float32[2,3,6,4], %a: float32[2,4,5]) -> (%s: float32[2,3,5,6], %t: float32[2,5,6]) {
  init %w: float32[4,6]
  %s = kiln::FusedMatMul(%q, %k) {transB=1} #1 "scores"
  %t = kiln::FusedMatMul(%a, %w) {transA=1} #3 "mm"
}
)"));
  expect_same_outputs(make, kTranspose);
}

// A transposed constant weight is transposed once at build time; its data is replaced in place
// (only the Transpose read it), so the value keeps its name and gets the new shape. Gemm's
// transposed operand flips its transA.
TEST(PassTransposeIntoMatMul, FoldsConstantWeightsAndFlipsGemm) {
  constexpr const char* text = R"(
graph main (%x: float32[3,4], %y: float32[5,3]) -> (%p: float32[3,6], %g: float32[3,2]) {
  init %w: float32[6,4]
  init %v: float32[5,2]
  %wt = Transpose(%w) #0 "wt"
  %p = MatMul(%x, %wt) #1 "mm"
  %yt = Transpose(%y) {perm=[1,0]} #2 "yt"
  %g = Gemm(%yt, %v) {alpha=2.0} #3 "gemm"
}
)";
  auto make = [&] { return model_from_text(text); };
  auto m = make();
  EXPECT_EQ(optimized_text(*m, kTranspose), canonical(R"(
graph main (%x: float32[3,4], %y: float32[5,3]) -> (%p: float32[3,6], %g: float32[3,2]) {
  init %w: float32[4,6]
  init %v: float32[5,2]
  %p = MatMul(%x, %w) #1 "mm"
  %g = Gemm(%y, %v) {alpha=2.0, transA=1} #3 "gemm"
}
)"));
  expect_same_outputs(make, kTranspose);
}

// A weight read elsewhere too keeps its data; the transposed copy is a new initializer.
TEST(PassTransposeIntoMatMul, SharedConstantGetsATransposedCopy) {
  constexpr const char* text = R"(
graph main (%x: float32[3,4], %z: float32[4,6]) -> (%p: float32[3,6], %q: float32[6,4]) {
  init %w: float32[6,4]
  %wt = Transpose(%w) #0 "wt"
  %p = MatMul(%x, %wt) #1 "mm"
  %r = Transpose(%z) #2 "zt"
  %q = Add(%w, %r) #3 "other"
}
)";
  auto make = [&] { return model_from_text(text); };
  auto m = make();
  EXPECT_EQ(optimized_text(*m, kTranspose), canonical(R"(
graph main (%x: float32[3,4], %z: float32[4,6]) -> (%p: float32[3,6], %q: float32[6,4]) {
  init %w: float32[6,4]
  init %w_transposed: float32[4,6]
  %p = MatMul(%x, %w_transposed) #1 "mm"
  %r = Transpose(%z) #2 "zt"
  %q = Add(%w, %r) #3 "other"
}
)"));
  expect_same_outputs(make, kTranspose);
}

TEST(PassTransposeIntoMatMul, KeepsOtherPermutationsSharedTransposesAndIntegers) {
  // perm [1,0,2] moves the batch dim: not a matrix transpose.
  constexpr const char* other_perm = R"(
graph main (%a: float32[4,2,5], %b: float32[5,3]) -> (%y: float32[2,4,3]) {
  %t = Transpose(%a) {perm=[1,0,2]} #0 "t"
  %y = MatMul(%t, %b) #1 "mm"
}
)";
  auto m = model_from_text(other_perm);
  EXPECT_EQ(optimized_text(*m, kTranspose), canonical(other_perm));

  // The transposed value is also read by a Relu.
  constexpr const char* shared = R"(
graph main (%a: float32[5,2], %b: float32[5,3]) -> (%y: float32[2,3], %r: float32[2,5]) {
  %t = Transpose(%a) #0 "t"
  %y = MatMul(%t, %b) #1 "mm"
  %r = Relu(%t) #2 "relu"
}
)";
  m = model_from_text(shared);
  EXPECT_EQ(optimized_text(*m, kTranspose), canonical(shared));

  // kiln.FusedMatMul holds float types only.
  constexpr const char* ints = R"(
graph main (%a: int32[5,2], %b: int32[5,3]) -> (%y: int32[2,3]) {
  %t = Transpose(%a) #0 "t"
  %y = MatMul(%t, %b) #1 "mm"
}
)";
  m = model_from_text(ints);
  EXPECT_EQ(optimized_text(*m, kTranspose), canonical(ints));
}

// ---- matmul_add_fusion
// ---------------------------------------------------------------------------

TEST(PassMatMulAdd, BatchedLinearBecomesFusedMatMul) {
  constexpr const char* text = R"(
graph main (%x: float32[2,5,4]) -> (%y: float32[2,5,3]) {
  init %w: float32[4,3]
  init %b: float32[3]
  %p = MatMul(%x, %w) #0 "mm"
  %y = Add(%b, %p) #1 "bias"
}
)";
  auto make = [&] { return model_from_text(text); };
  auto m = make();
  EXPECT_EQ(optimized_text(*m, kLinear), canonical(R"(
graph main (%x: float32[2,5,4]) -> (%y: float32[2,5,3]) {
  init %w: float32[4,3]
  init %b: float32[3]
  %y = kiln::FusedMatMul(%x, %w, %b) #1 "bias"
}
)"));
  expect_same_outputs(make, kLinear);
}

TEST(PassMatMulAdd, MatrixLinearBecomesGemm) {
  constexpr const char* text = R"(
graph main (%x: float32[5,4]) -> (%y: float32[5,3]) {
  init %w: float32[4,3]
  init %b: float32[1,3]
  %p = MatMul(%x, %w) #0 "mm"
  %y = Add(%p, %b) #1 "bias"
}
)";
  auto make = [&] { return model_from_text(text); };
  auto m = make();
  EXPECT_EQ(optimized_text(*m, kLinear), canonical(R"(
graph main (%x: float32[5,4]) -> (%y: float32[5,3]) {
  init %w: float32[4,3]
  init %b: float32[1,3]
  %y = Gemm(%x, %w, %b) #1 "bias"
}
)"));
  expect_same_outputs(make, kLinear);
}

// The passes compose: a transposed constant, then the bias, then the activation.
TEST(PassMatMulAdd, ComposesWithTransposeAndActivation) {
  constexpr const char* text = R"(
graph main (%x: float32[2,5,4], %k: float32[2,3,4]) -> (%y: float32[2,5,3]) {
  init %b: float32[3]
  %kt = Transpose(%k) {perm=[0,2,1]} #0 "kt"
  %p = MatMul(%x, %kt) #1 "mm"
  %s = Add(%p, %b) #2 "bias"
  %y = Relu(%s) #3 "relu"
}
)";
  const std::vector<std::string> all = {"transpose_into_matmul", "matmul_add_fusion",
                                        "conv_activation_fusion"};
  auto make = [&] { return model_from_text(text); };
  auto m = make();
  // K is computed: its Transpose is absorbed, but the bias stays a separate Add (matmul_add_fusion
  // wants a constant weight) and so does the Relu (it follows the Add, not a product).
  EXPECT_EQ(optimized_text(*m, all), canonical(R"(
graph main (%x: float32[2,5,4], %k: float32[2,3,4]) -> (%y: float32[2,5,3]) {
  init %b: float32[3]
  %p = kiln::FusedMatMul(%x, %k) {transB=1} #1 "mm"
  %s = Add(%p, %b) #2 "bias"
  %y = Relu(%s) #3 "relu"
}
)"));
  expect_same_outputs(make, all);
  // With a constant K the whole chain fuses.
  constexpr const char* constant_k = R"(
graph main (%x: float32[2,5,4]) -> (%y: float32[2,5,3]) {
  init %k: float32[2,3,4]
  init %b: float32[3]
  %kt = Transpose(%k) {perm=[0,2,1]} #0 "kt"
  %p = MatMul(%x, %kt) #1 "mm"
  %s = Add(%p, %b) #2 "bias"
  %y = Relu(%s) #3 "relu"
}
)";
  auto make_k = [&] { return model_from_text(constant_k); };
  m = make_k();
  EXPECT_EQ(optimized_text(*m, all), canonical(R"(
graph main (%x: float32[2,5,4]) -> (%y: float32[2,5,3]) {
  init %k: float32[2,4,3]
  init %b: float32[3]
  %y = kiln::FusedMatMul(%x, %k, %b) {activation="Relu"} #3 "relu"
}
)"));
  expect_same_outputs(make_k, all);
}

TEST(PassMatMulAdd, KeepsNonLastDimBiasSharedProductsAndIntegers) {
  // [5,1] varies along the rows, not the last dim.
  constexpr const char* rows = R"(
graph main (%x: float32[5,4]) -> (%y: float32[5,3]) {
  init %w: float32[4,3]
  init %b: float32[5,1]
  %p = MatMul(%x, %w) #0 "mm"
  %y = Add(%p, %b) #1 "bias"
}
)";
  auto m = model_from_text(rows);
  EXPECT_EQ(optimized_text(*m, kLinear), canonical(rows));

  constexpr const char* shared = R"(
graph main (%x: float32[5,4]) -> (%y: float32[5,3], %z: float32[5,3]) {
  init %w: float32[4,3]
  init %b: float32[3]
  %p = MatMul(%x, %w) #0 "mm"
  %y = Add(%p, %b) #1 "bias"
  %z = Relu(%p) #2 "relu"
}
)";
  m = model_from_text(shared);
  EXPECT_EQ(optimized_text(*m, kLinear), canonical(shared));

  constexpr const char* ints = R"(
graph main (%x: int64[5,4]) -> (%y: int64[5,3]) {
  init %w: int64[4,3]
  init %b: int64[3]
  %p = MatMul(%x, %w) #0 "mm"
  %y = Add(%p, %b) #1 "bias"
}
)";
  m = model_from_text(ints);
  EXPECT_EQ(optimized_text(*m, kLinear), canonical(ints));
}

}  // namespace
}  // namespace kiln::test
