// Many execution contexts on one engine in parallel threads: every run must equal the
// single-threaded result for its input (run under ThreadSanitizer by scripts/tsan.sh).
#include <atomic>
#include <thread>

#include "core/errors.h"
#include "unit/runtime_test_models.h"

namespace kiln::test {
namespace {

struct Case {
  Tensor x;
  std::map<std::string, Tensor> expected;
};

void stress(const ModelBuilder& m, const OptimizationProfile& profile,
            const std::vector<std::vector<int64_t>>& shapes, int threads, int iterations) {
  auto net = network_of(m);
  ASSERT_NE(net, nullptr);
  BuilderConfig c;
  c.profiles.push_back(profile);
  auto engine = Engine::deserialize(build_or_die(*net, c));
  ASSERT_TRUE(engine.ok()) << engine.status().to_string();

  // Expected results from one context, one thread.
  std::vector<Case> cases;
  auto single = (*engine)->create_context();
  ASSERT_TRUE(single.ok());
  uint32_t seed = 100;
  for (const auto& s : shapes)
    for (int k = 0; k < 2; ++k) {
      Case cs{random_tensor(s, seed++), {}};
      ASSERT_TRUE((*single)->set_input("x", cs.x).ok());
      ASSERT_TRUE((*single)->execute().ok());
      for (const TensorInfo& t : (*engine)->io_tensors())
        if (t.mode == TensorIOMode::kOutput) {
          Tensor out = (*single)->output(t.name).value();
          cs.expected[t.name] = Tensor::allocate(out.dtype(), out.shape()).value();
          std::memcpy(cs.expected[t.name].data(), out.data(), out.nbytes());
        }
      cases.push_back(std::move(cs));
    }

  std::atomic<int> mismatches{0}, failures{0}, runs{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      auto ctx = (*engine)->create_context();
      if (!ctx.ok()) {
        ++failures;
        return;
      }
      for (int i = 0; i < iterations; ++i) {
        const Case& cs = cases[static_cast<size_t>(t * 7 + i * 3) % cases.size()];
        if (!(*ctx)->set_input("x", cs.x).ok() || !(*ctx)->execute().ok()) {
          ++failures;
          continue;
        }
        ++runs;
        for (const auto& [name, want] : cs.expected) {
          auto got = (*ctx)->output(name);
          if (!got.ok() || !bit_equal(*got, want)) ++mismatches;
        }
      }
    });
  for (std::thread& th : pool) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(runs.load(), threads * iterations);
}

TEST(RuntimeConcurrency, EightThreadsTwoHundredRunsEachOnOneCnnEngine) {
  stress(cnn_model(), OptimizationProfile().set("x", {1, 3, 8, 8}, {4, 3, 8, 8}, {8, 3, 8, 8}),
         {{1, 3, 8, 8}, {3, 3, 8, 8}, {8, 3, 8, 8}, {5, 3, 8, 8}}, 8, 200);
}

TEST(RuntimeConcurrency, EightThreadsOnAnEngineWithSubgraphsAndViews) {
  stress(seq_model(), OptimizationProfile().set("x", {1, 1, 8}, {2, 8, 8}, {4, 16, 8}),
         {{1, 1, 8}, {2, 9, 8}, {4, 16, 8}, {3, 4, 8}}, 8, 200);
}

}  // namespace
}  // namespace kiln::test
