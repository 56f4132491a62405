// Tests for kiln::Tensor: owning allocation, borrowed views, shared views, string tensors.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "core/errors.h"
#include "kiln/tensor.h"

// Under ASan an impossible allocation is a fatal report by default; the allocation-failure tests
// need aligned_alloc to return nullptr as it does in a normal build.
// gcc defines __SANITIZE_ADDRESS__; clang reports ASan through __has_feature.
#if defined(__SANITIZE_ADDRESS__)
#define KILN_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KILN_TEST_ASAN 1
#endif
#endif
#if defined(KILN_TEST_ASAN)
extern "C" const char* __asan_default_options() {
  return "allocator_may_return_null=1";
}
#endif

namespace kiln {
namespace {

constexpr int kInvalidShape = static_cast<int>(Code::kInvalidShape);
constexpr int kAllocationFailed = static_cast<int>(Code::kAllocationFailed);
constexpr int kInvalidTensorData = static_cast<int>(Code::kInvalidTensorData);

bool all_zero(const void* p, size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i)
    if (b[i] != 0) return false;
  return true;
}

TEST(Tensor, DefaultIsEmpty) {
  Tensor t;
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.dtype(), DataType::kUndefined);
  EXPECT_EQ(t.data(), nullptr);
  EXPECT_EQ(t.numel(), 0);
  EXPECT_EQ(t.nbytes(), 0u);
  EXPECT_FALSE(t.owns_data());
  EXPECT_TRUE(t.string_data().empty());
}

TEST(Tensor, AllocateEveryFixedSizeType) {
  const std::vector<int64_t> shape = {3, 5};
  for (int32_t n = 1; n <= kMaxDataType; ++n) {
    const DataType dt = static_cast<DataType>(n);
    if (dt == DataType::kString) continue;
    SCOPED_TRACE(data_type_name(dt));
    Result<Tensor> r = Tensor::allocate(dt, shape);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const Tensor& t = *r;
    EXPECT_FALSE(t.empty());
    EXPECT_EQ(t.dtype(), dt);
    EXPECT_EQ(t.shape(), shape);
    EXPECT_EQ(t.rank(), 2u);
    EXPECT_EQ(t.numel(), 15);
    const int bits = data_type_info(dt).bits;
    EXPECT_EQ(t.nbytes(), static_cast<size_t>((15 * bits + 7) / 8));
    EXPECT_EQ(t.nbytes(), data_type_bytes(dt, 15));
    ASSERT_NE(t.data(), nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % kTensorAlignment, 0u);
    EXPECT_TRUE(all_zero(t.data(), t.nbytes()));
    EXPECT_TRUE(t.owns_data());
  }
}

TEST(Tensor, AllocateIsWritable) {
  Result<Tensor> r = Tensor::allocate(DataType::kInt64, {4});
  ASSERT_TRUE(r.ok());
  int64_t* p = r->data_as<int64_t>();
  for (int i = 0; i < 4; ++i) p[i] = i * 100;
  const Tensor& ct = *r;
  EXPECT_EQ(ct.data_as<int64_t>()[3], 300);
}

TEST(Tensor, AllocateScalarAndEmpty) {
  Result<Tensor> scalar = Tensor::allocate(DataType::kFloat32, {});
  ASSERT_TRUE(scalar.ok());
  EXPECT_EQ(scalar->rank(), 0u);
  EXPECT_EQ(scalar->numel(), 1);
  EXPECT_EQ(scalar->nbytes(), 4u);

  Result<Tensor> empty = Tensor::allocate(DataType::kFloat32, {0, 3});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->numel(), 0);
  EXPECT_EQ(empty->nbytes(), 0u);
  EXPECT_NE(empty->data(), nullptr);  // zero-size tensors still get a valid pointer
  EXPECT_EQ(reinterpret_cast<uintptr_t>(empty->data()) % kTensorAlignment, 0u);
}

TEST(Tensor, Int4Packing) {
  for (auto [count, bytes] : {std::pair<int64_t, size_t>{1, 1}, {2, 1}, {3, 2}, {7, 4}, {8, 4}}) {
    Result<Tensor> r = Tensor::allocate(DataType::kInt4, {count});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->numel(), count);
    EXPECT_EQ(r->nbytes(), bytes) << count << " int4 elements";
  }
  Result<Tensor> u = Tensor::allocate(DataType::kUInt4, {3, 3});
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->nbytes(), 5u);
}

TEST(Tensor, NegativeShapeIsInvalidShape) {
  Result<Tensor> r = Tensor::allocate(DataType::kFloat32, {2, -1});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), kInvalidShape);
  EXPECT_NE(r.status().message().find("negative"), std::string::npos) << r.status().message();
}

// Disabled: product bug (see report). tensor.cpp formats the shape with Dims::of(), which turns
// negative sizes into "?", so the message says "[2,?]" and never names the offending -7.
TEST(Tensor, NegativeShapeMessageNamesTheValue) {
  Result<Tensor> r = Tensor::allocate(DataType::kFloat32, {2, -7});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("-7"), std::string::npos) << r.status().message();
}

TEST(Tensor, OverflowingShapeIsInvalidShape) {
  const int64_t big = int64_t{1} << 32;
  Result<Tensor> r = Tensor::allocate(DataType::kFloat32, {big, big});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), kInvalidShape);
  EXPECT_NE(r.status().message().find("[4294967296,4294967296]"), std::string::npos)
      << r.status().message();

  // The element count fits in int64 but the byte count (2^62 * 4) does not.
  Result<Tensor> bytes = Tensor::allocate(DataType::kFloat32, {int64_t{1} << 62});
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), kInvalidShape);
  EXPECT_NE(bytes.status().message().find("4611686018427387904"), std::string::npos)
      << bytes.status().message();
}

TEST(Tensor, AbsurdButValidSizeIsAllocationFailed) {
  // 2^50 floats = 4 PiB: representable, but beyond the 47-bit (128 TiB) user address space of
  // x86-64 and AArch64 Linux, so aligned_alloc fails even with memory overcommit.
  Result<Tensor> r = Tensor::allocate(DataType::kFloat32, {int64_t{1} << 50});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), kAllocationFailed);
  EXPECT_EQ(r.status().category(), Category::kOutOfMemory);
  EXPECT_NE(r.status().message().find("4503599627370496 bytes"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("float32"), std::string::npos);

  // 2^61 one-byte elements: also fits size_t, also impossible.
  Result<Tensor> u8 = Tensor::allocate(DataType::kUInt8, {int64_t{1} << 31, int64_t{1} << 30});
  ASSERT_FALSE(u8.ok());
  EXPECT_EQ(u8.status().code(), kAllocationFailed);
}

TEST(Tensor, UndefinedDtypeIsRefused) {
  // Which code fits best is debatable (see report); it must not allocate.
  Result<Tensor> r = Tensor::allocate(DataType::kUndefined, {2});
  EXPECT_FALSE(r.ok());
}

TEST(Tensor, BorrowDoesNotOwn) {
  float buf[6] = {1, 2, 3, 4, 5, 6};
  Tensor t = Tensor::borrow(DataType::kFloat32, {2, 3}, buf);
  EXPECT_EQ(t.data(), buf);
  EXPECT_FALSE(t.owns_data());
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.nbytes(), 24u);
  EXPECT_EQ(t.shape(), (std::vector<int64_t>{2, 3}));
  t.data_as<float>()[5] = 60.0f;
  EXPECT_EQ(buf[5], 60.0f);
  Tensor copy = t;  // copies of a borrowed tensor still point at caller memory
  EXPECT_EQ(copy.data(), buf);
  EXPECT_FALSE(copy.owns_data());
  Tensor v = t.view();
  EXPECT_EQ(v.data(), buf);
  EXPECT_FALSE(v.owns_data());
}

TEST(Tensor, BorrowInt4) {
  uint8_t buf[2] = {0x21, 0x03};
  Tensor t = Tensor::borrow(DataType::kInt4, {3}, buf);
  EXPECT_EQ(t.numel(), 3);
  EXPECT_EQ(t.nbytes(), 2u);
}

TEST(Tensor, ViewSharesStorageAndOutlivesOriginal) {
  std::optional<Tensor> original;
  {
    Result<Tensor> r = Tensor::allocate(DataType::kInt32, {3});
    ASSERT_TRUE(r.ok());
    original = std::move(r).value();
  }
  int32_t* p = original->data_as<int32_t>();
  p[0] = 7;
  p[1] = 8;
  p[2] = 9;
  Tensor v = original->view();
  EXPECT_EQ(v.data(), original->data());
  EXPECT_EQ(v.dtype(), DataType::kInt32);
  EXPECT_EQ(v.shape(), original->shape());
  EXPECT_EQ(v.nbytes(), 12u);
  v.data_as<int32_t>()[1] = 80;  // writes through the view are visible in the original
  EXPECT_EQ(p[1], 80);

  original.reset();  // the view must keep the storage alive (ASan would flag a use after free)
  const int32_t* q = v.data_as<int32_t>();
  EXPECT_EQ(q[0], 7);
  EXPECT_EQ(q[1], 80);
  EXPECT_EQ(q[2], 9);
}

TEST(Tensor, StringTensor) {
  Result<Tensor> r = Tensor::strings({2}, {"alpha", "beta"});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->dtype(), DataType::kString);
  EXPECT_EQ(r->numel(), 2);
  EXPECT_EQ(r->nbytes(), 0u);
  EXPECT_TRUE(r->owns_data());
  EXPECT_EQ(r->string_data(), (std::vector<std::string>{"alpha", "beta"}));
  r->mutable_string_data()[1] = "gamma";
  EXPECT_EQ(r->string_data()[1], "gamma");
}

TEST(Tensor, StringTensorDefaultsToEmptyStrings) {
  Result<Tensor> r = Tensor::strings({2, 2}, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->string_data(), std::vector<std::string>(4));
  Result<Tensor> a = Tensor::allocate(DataType::kString, {3});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->dtype(), DataType::kString);
  EXPECT_EQ(a->string_data(), std::vector<std::string>(3));
}

TEST(Tensor, StringTensorErrors) {
  Result<Tensor> count = Tensor::strings({3}, {"a"});
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.status().code(), kInvalidTensorData);
  EXPECT_NE(count.status().message().find("needs 3 values, got 1"), std::string::npos)
      << count.status().message();

  Result<Tensor> negative = Tensor::strings({-2}, {});
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.status().code(), kInvalidShape);

  // Default-filling 2^33 strings would take hundreds of GiB; refused before allocating.
  Result<Tensor> huge = Tensor::strings({int64_t{1} << 33}, {});
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), kAllocationFailed);
  EXPECT_NE(huge.status().message().find("8589934592"), std::string::npos)
      << huge.status().message();
}

TEST(Tensor, StringViewOutlivesOriginal) {
  std::optional<Tensor> original;
  {
    Result<Tensor> r = Tensor::strings({2}, {"x", "y"});
    ASSERT_TRUE(r.ok());
    original = std::move(r).value();
  }
  Tensor v = original->view();
  EXPECT_EQ(&v.string_data(), &original->string_data());
  original.reset();
  EXPECT_EQ(v.string_data(), (std::vector<std::string>{"x", "y"}));
}

}  // namespace
}  // namespace kiln
