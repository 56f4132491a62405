// Weights packed at build time (Tactic::pack) for cpu.dnnl.conv and cpu.dnnl.matmul: the kernel
// runs from the blob the engine stores when it fits, and refuses — packing again from the
// original weights — a blob that is forged, truncated, from another oneDNN version or for
// another layout. A blob whose packed bytes were zeroed proves which path ran: adopted, the
// output changes; refused, it matches the reference.
#include <gtest/gtest.h>

#include <cstring>

#include "backends/cpu/cpu_tactics.h"
#include "backends/cpu/dnnl_util.h"
#include "unit/cpu_test_data.h"

namespace kiln::test {
namespace {

constexpr double kTol = 2e-5;

NodeCase conv_node(uint64_t seed) {
  NodeCase c{"Conv", "", 11};
  c.inputs = {rand_f32({1, 16, 13, 13}, -1, 1, seed), rand_f32({32, 16, 3, 3}, -1, 1, seed + 1),
              rand_f32({32}, -1, 1, seed + 2)};
  c.constants = {1, 2};
  c.attrs.push_back(ir::Attribute::make_ints("pads", {1, 1, 1, 1}));
  return c;
}

NodeCase linear_node(uint64_t seed) {
  NodeCase c{"MatMul", "", 13};
  c.inputs = {rand_f32({2, 3, 7, 64}, -1, 1, seed), rand_f32({64, 127}, -1, 1, seed + 1)};
  c.constants = {1};
  return c;
}

Tensor copy_of(const Tensor& t, size_t bytes) {
  Tensor c = Tensor::allocate(DataType::kUInt8, {static_cast<int64_t>(bytes)}).value();
  std::memcpy(c.data(), t.data(), std::min(bytes, t.nbytes()));
  return c;
}

// For every variant of the tactic on the case: pack, then run with the intact blob, a blob
// with zeroed packed bytes, and blobs the kernel must refuse.
template <typename MakeCase>
void expect_packed_blob_is_used_only_when_it_fits(const backends::Tactic& t, MakeCase make) {
  std::vector<backends::Tactic::Variant> vs;
  {
    TacticHarness h(make());
    ASSERT_TRUE(h.supports(t));
    vs = t.variants(h.node(), h.schema());
  }
  ASSERT_FALSE(vs.empty());
  for (const backends::Tactic::Variant& v : vs) {
    SCOPED_TRACE(std::string(t.name()) + " variant '" + v.label + "'");
    TacticHarness h(make());
    auto packed = t.pack(h.node(), h.schema(), v.params);
    ASSERT_TRUE(packed.ok()) << packed.status().to_string();
    ASSERT_EQ(packed->size(), 1u);
    const Tensor& blob = (*packed)[0].data;
    const size_t header = backends::cpu::packed_header_bytes();
    ASSERT_EQ(blob.dtype(), DataType::kUInt8);
    ASSERT_GT(blob.nbytes(), header);
    EXPECT_EQ((*packed)[0].tag, "weights");

    // Intact: same answer as the reference.
    expect_tactic_matches(t, make(), kTol, {1, -1, v.params, {&blob}});
    expect_tactic_matches(t, make(), kTol, {2, -1, v.params, {&blob}});

    // Zeroed packed bytes: adopted, so the product is no longer the reference's.
    Tensor zeroed = copy_of(blob, blob.nbytes());
    std::memset(zeroed.data_as<uint8_t>() + header, 0, zeroed.nbytes() - header);
    {
      Result<std::vector<Tensor>> want = h.run_reference();
      Result<std::vector<Tensor>> got = h.run_tactic(t, {1, -1, v.params, {&zeroed}});
      ASSERT_TRUE(want.ok() && got.ok());
      EXPECT_FALSE(compare_outputs(*got, *want, kTol).ok)
          << "a blob with zeroed weights gave the reference's answer: it was not used";
    }

    // Refused: a forged descriptor (first dim changed), a different oneDNN version, a bad
    // magic, a truncated blob, a blob one byte too long, and an empty one. Each is made from
    // the zeroed blob, so using it by mistake would show as a wrong answer.
    auto forged = [&](size_t at, uint8_t delta) {
      Tensor f = copy_of(zeroed, zeroed.nbytes());
      f.data_as<uint8_t>()[at] = static_cast<uint8_t>(f.data_as<uint8_t>()[at] + delta);
      return f;
    };
    const size_t desc_at = 8 + 4 * 4;  // magic, version, descriptor size
    std::vector<std::pair<std::string, Tensor>> refused;
    refused.emplace_back("descriptor ndims", forged(desc_at, 1));
    refused.emplace_back("descriptor dim 0", forged(desc_at + 8, 1));
    refused.emplace_back("oneDNN minor version", forged(12, 1));
    refused.emplace_back("magic", forged(0, 1));
    refused.emplace_back("truncated", copy_of(zeroed, zeroed.nbytes() - 64));
    refused.emplace_back("one byte long", copy_of(zeroed, zeroed.nbytes() + 1));
    refused.emplace_back("header only", copy_of(zeroed, header));
    refused.emplace_back("shorter than the header", copy_of(zeroed, 16));
    for (const auto& [what, bad] : refused) {
      SCOPED_TRACE(what);
      expect_tactic_matches(t, make(), kTol, {1, -1, v.params, {&bad}});
    }
  }
}

TEST(CpuPackedWeights, ConvRunsFromItsBuildTimeBlobAndRefusesForgedOnes) {
  expect_packed_blob_is_used_only_when_it_fits(backends::cpu_dnnl_conv_tactic(),
                                               [] { return conv_node(40); });
}

TEST(CpuPackedWeights, LinearLayerRunsFromItsBuildTimeBlobAndRefusesForgedOnes) {
  expect_packed_blob_is_used_only_when_it_fits(backends::cpu_dnnl_matmul_tactic(),
                                               [] { return linear_node(50); });
}

// A blob packed for one layer is refused by a layer whose weights have another shape (the
// runtime never mixes them up, but a forged engine could name another layer's blob).
TEST(CpuPackedWeights, BlobOfAnotherLayerIsRefused) {
  const backends::Tactic& conv = backends::cpu_dnnl_conv_tactic();
  TacticHarness h(conv_node(60));
  auto packed = conv.pack(h.node(), h.schema(), {});
  ASSERT_TRUE(packed.ok());
  NodeCase other{"Conv", "", 11};
  other.inputs = {rand_f32({1, 16, 13, 13}, -1, 1, 61), rand_f32({16, 16, 3, 3}, -1, 1, 62),
                  rand_f32({16}, -1, 1, 63)};
  other.constants = {1, 2};
  other.attrs.push_back(ir::Attribute::make_ints("pads", {1, 1, 1, 1}));
  expect_tactic_matches(conv, std::move(other), kTol, {1, -1, {}, {&(*packed)[0].data}});
}

// Layers whose weights are not constant-foldable into a blob pack nothing.
TEST(CpuPackedWeights, ActivationTimesActivationPacksNothing) {
  const backends::Tactic& mm = backends::cpu_dnnl_matmul_tactic();
  NodeCase c{"MatMul", "", 13};
  c.inputs = {rand_f32({2, 7, 13}, -1, 1, 70), rand_f32({2, 13, 5}, -1, 1, 71)};
  TacticHarness h(std::move(c));
  auto packed = mm.pack(h.node(), h.schema(), {});
  ASSERT_TRUE(packed.ok());
  EXPECT_TRUE(packed->empty());
}

}  // namespace
}  // namespace kiln::test
