// Rough speed of kiln's CPU tactics against the reference kernels, printed, never asserted.
// Disabled by default; run with
//   test_cpu --gtest_also_run_disabled_tests --gtest_filter='*Speed*'
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "backends/cpu/cpu_tactics.h"
#include "unit/cpu_test_data.h"

namespace kiln::test {
namespace {

// Median milliseconds of `reps` calls of fn.
template <typename F>
double median_ms(int reps, F&& fn) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto a = std::chrono::steady_clock::now();
    fn();
    t.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

void time_case(const std::string& what, const backends::Tactic& tactic, NodeCase c) {
  std::vector<Tensor> inputs = c.inputs;
  TacticHarness h(std::move(c));
  ASSERT_TRUE(h.supports(tactic));
  auto kernel = tactic.prepare(h.node(), h.schema(), {}).value();
  std::vector<const Tensor*> ptrs;
  for (const Tensor& t : inputs) ptrs.push_back(t.empty() ? nullptr : &t);
  ops::SubgraphRunner sub = [](const ir::Graph& g, std::vector<Tensor> in) {
    return interp::run_subgraph(g, std::move(in),
                                [](const ir::Value*) -> const Tensor* { return nullptr; });
  };
  auto run_ref = [&] {
    ops::KernelContext ctx(h.node(), h.schema(), ptrs, sub);
    ASSERT_TRUE(h.schema().reference_kernel()(ctx).ok());
  };
  auto run_fast = [&] {
    ops::KernelContext ctx(h.node(), h.schema(), ptrs, sub);
    ASSERT_TRUE(kernel->run(ctx).ok());
  };
  backends::cpu::set_intra_op_threads(1);
  const double ref = median_ms(3, run_ref);
  const double one = median_ms(15, run_fast);
  const int cores = backends::cpu::physical_cores();
  backends::cpu::set_intra_op_threads(cores);
  const double all = median_ms(15, run_fast);
  backends::cpu::set_intra_op_threads(1);
  std::cout << "[ speed    ] " << what << ": reference " << ref << " ms, " << tactic.name() << " "
            << one << " ms (1 thread, x" << ref / one << "), " << all << " ms (" << cores
            << " threads, x" << ref / all << ")\n";
}

TEST(CpuSpeed, DISABLED_Kernels) {
  {
    NodeCase c("LayerNormalization", "", 17);
    c.inputs = {rand_f32({128, 768}), rand_f32({768}), rand_f32({768})};
    time_case("LayerNorm 128x768", backends::cpu_layernorm_tactic(), std::move(c));
  }
  {
    NodeCase c("Softmax", "", 13);
    c.inputs = {rand_f32({12, 128, 128})};
    time_case("Softmax 12x128x128 axis -1", backends::cpu_softmax_tactic(), std::move(c));
  }
  {
    NodeCase c("Softmax", "", 13);
    c.inputs = {rand_f32({12, 128, 128})};
    c.attrs.push_back(ir::Attribute::make_int("axis", 1));
    time_case("Softmax 12x128x128 axis 1", backends::cpu_softmax_tactic(), std::move(c));
  }
  {
    NodeCase c("Add", "", 17);
    c.inputs = {rand_f32({1, 32, 112, 112}), rand_f32({32, 1, 1})};
    time_case("Add 1x32x112x112 + 32x1x1", backends::cpu_eltwise_tactic(), std::move(c));
  }
  {
    NodeCase c("Gelu", "", 20);
    c.inputs = {rand_f32({1, 32, 112, 112})};
    time_case("Gelu 1x32x112x112", backends::cpu_eltwise_tactic(), std::move(c));
  }
  {
    // FusedElementwise: bias per channel, then HardSwish spelled as x * Clip(x + 3, 0, 6) / 6.
    auto body = std::make_unique<ir::Graph>("body");
    ir::ValueType t;
    t.dtype = DataType::kFloat32;
    std::vector<ir::Value*> in;
    for (const char* n : {"x", "b", "three", "zero", "six"})
      in.push_back(body->add_input(n, t).value());
    auto val = [&](const char* n) { return body->add_value(n, t).value(); };
    ir::Value *y = val("y"), *s = val("s"), *c6 = val("c"), *m = val("m"), *o = val("o");
    body->add_node("Add", "", "a", {in[0], in[1]}, {y}, {}, 17);
    body->add_node("Add", "", "s", {y, in[2]}, {s}, {}, 17);
    body->add_node("Clip", "", "c", {s, in[3], in[4]}, {c6}, {}, 13);
    body->add_node("Mul", "", "m", {y, c6}, {m}, {}, 17);
    body->add_node("Div", "", "d", {m, in[4]}, {o}, {}, 17);
    body->add_output(o);
    NodeCase c("FusedElementwise", std::string(ops::kKilnDomain), 1);
    c.inputs = {rand_f32({1, 32, 112, 112}), rand_f32({32, 1, 1}), f32({}, {3}), f32({}, {0}),
                f32({}, {6})};
    c.constants = {2, 3, 4};
    ir::Attribute a;
    a.name = "body";
    a.type = ir::AttrType::kGraph;
    a.g = std::move(body);
    c.attrs.push_back(std::move(a));
    time_case("FusedElementwise (bias + HardSwish, 5 ops) 1x32x112x112",
              backends::cpu_eltwise_tactic(), std::move(c));
  }
}

}  // namespace
}  // namespace kiln::test
