// The CPU backend's intra-op threads: a fixed thread count gives bit-identical results, and no
// worker thread outlives a run (nothing spins or waits parked after execute() returns).
#include <dirent.h>
#include <omp.h>  // KMP_VERSION_MAJOR: which OpenMP runtime

#include <chrono>
#include <thread>

#include "unit/runtime_test_models.h"

namespace kiln::test {
namespace {

size_t live_threads() {
  size_t n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
  }
  return n;
}

// The thread count once it stops changing towards `want`: a paused OpenMP worker finishes
// exiting asynchronously, so the kernel may list it for a few milliseconds after the run
// returned (seen once in a loaded full-suite run). Waits at most 200 ms.
size_t threads_settled_at(size_t want) {
  size_t n = live_threads();
  for (int i = 0; i < 40 && n != want; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    n = live_threads();
  }
  return n;
}

BuilderConfig static_cnn() {
  BuilderConfig c;
  c.profiles.push_back(OptimizationProfile().set("x", {512, 3, 8, 8}));
  return c;
}

TEST(RuntimeThreads, FixedThreadCountIsDeterministicAndMatchesReference) {
  ModelBuilder m = cnn_model();
  auto net = network_of(m);
  ASSERT_NE(net, nullptr);
  auto engine = Engine::deserialize(build_or_die(*net, static_cnn()));
  ASSERT_TRUE(engine.ok()) << engine.status().to_string();
  (*engine)->set_intra_op_threads(2);
  EXPECT_EQ((*engine)->intra_op_threads(), 2);
  auto ctx = (*engine)->create_context();
  ASSERT_TRUE(ctx.ok());
  const Tensor x = random_tensor({512, 3, 8, 8}, 5);
  ASSERT_TRUE((*ctx)->set_input("x", x).ok());
  std::vector<Tensor> runs;
  for (int r = 0; r < 3; ++r) {
    ASSERT_TRUE((*ctx)->execute().ok());
    auto y = (*ctx)->output("y");
    ASSERT_TRUE(y.ok());
    Tensor copy = Tensor::allocate(y->dtype(), y->shape()).value();
    std::memcpy(copy.data(), y->data(), y->nbytes());
    runs.push_back(std::move(copy));
  }
  EXPECT_TRUE(bit_equal(runs[0], runs[1]));
  EXPECT_TRUE(bit_equal(runs[0], runs[2]));
  interp::TensorMap ref = reference_outputs(m, {{"x", x}});
  EXPECT_TRUE(matches_reference(runs[0], ref.at("y")));
}

TEST(RuntimeThreads, NoWorkerThreadOutlivesARun) {
  ModelBuilder m = cnn_model();
  auto net = network_of(m);
  ASSERT_NE(net, nullptr);
  auto engine = Engine::deserialize(build_or_die(*net, static_cnn()));
  ASSERT_TRUE(engine.ok());
  (*engine)->set_intra_op_threads(2);
  auto ctx = (*engine)->create_context();
  ASSERT_TRUE(ctx.ok());
  ASSERT_TRUE((*ctx)->set_input("x", random_tensor({512, 3, 8, 8}, 6)).ok());
  const size_t before = live_threads();
  for (int r = 0; r < 3; ++r) {
    ASSERT_TRUE((*ctx)->execute().ok());
    EXPECT_EQ(threads_settled_at(before), before) << "worker threads still alive after run " << r;
  }
  // The same from other threads (a server's request threads), and back.
  size_t after_first = 0;
  for (int r = 0; r < 3; ++r) {
    std::thread t([&] { EXPECT_TRUE((*ctx)->execute().ok()); });
    t.join();
    if (r == 0) after_first = live_threads();
    EXPECT_EQ(threads_settled_at(after_first), after_first)
        << "threads grew after other-thread run " << r;
#ifdef KMP_VERSION_MAJOR
    // LLVM's libomp (the clang sanitizer build) keeps one pooled worker once a thread other than
    // the first has run a parallel region, and its process-wide hard pause would stop other
    // contexts' runs; the shipped GCC build (libgomp) releases every worker. Here: never more
    // than that one, and no growth from run to run.
    EXPECT_LE(live_threads(), before + 1) << "after other-thread run " << r;
#else
    EXPECT_EQ(live_threads(), before) << "after other-thread run " << r;
#endif
  }
}

}  // namespace
}  // namespace kiln::test
