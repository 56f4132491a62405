// Helpers for optimizer pass tests: graphs written in the IR text form (src/ir/parser.h),
// initializers filled with seeded random data, a pass run to its fixed point, the result
// compared as text (golden IR) and numerically against the unoptimized graph through the
// reference interpreter.
//
//   auto make = [] { return model_from_text(R"(graph main (%x: float32[1,3,8,8]) -> … )"); };
//   auto m = make();
//   EXPECT_EQ(optimized_text(*m, {"conv_bn_fold"}), canonical(R"(graph main … )"));
//   expect_same_outputs(make, {"conv_bn_fold"});
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>

#include "interp/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "ops/kernel_util.h"
#include "ops/shape_inference.h"
#include "passes/pass_manager.h"

namespace kiln::test {

// Fills every floating-point initializer (at any depth) with uniform values in [lo, hi].
inline void fill_random(ir::Graph& g, uint32_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  for (ir::Value* v : g.initializers()) {
    Tensor t = *v->initializer();
    if (!data_type_info(t.dtype()).is_float) continue;
    Tensor fresh = Tensor::allocate(t.dtype(), t.shape()).value();
    (void)ops::dispatch_numeric(t.dtype(), "fill", [&]<typename T>() -> Status {
      for (int64_t i = 0; i < fresh.numel(); ++i)
        fresh.data_as<T>()[i] = static_cast<T>(static_cast<ops::compute_t<T>>(u(rng)));
      return Status::Ok();
    });
    g.set_initializer(v, std::move(fresh));
  }
  for (ir::Node* n : g.nodes())
    for (ir::Graph* sub : n->subgraphs()) fill_random(*sub, seed + 1, lo, hi);
}

// The text form carries no opsets: nodes get the model's.
inline void stamp_opset(ir::Graph& g, int64_t opset) {
  for (ir::Node* n : g.nodes()) {
    if (n->opset() == 0 && n->domain().empty()) n->set_opset(opset);
    for (ir::Graph* sub : n->subgraphs()) stamp_opset(*sub, opset);
  }
}

// Sets an initializer's data (int64 shapes, perms, axes; specific float values).
template <typename T>
inline void set_init(ir::Graph& g, const std::string& name, DataType dt, std::vector<int64_t> shape,
                     const std::vector<T>& values) {
  ir::Value* v = g.find(name);
  ASSERT_NE(v, nullptr) << name;
  Tensor t = Tensor::allocate(dt, std::move(shape)).value();
  ASSERT_EQ(static_cast<size_t>(t.numel()), values.size()) << name;
  std::memcpy(t.data(), values.data(), values.size() * sizeof(T));
  g.set_initializer(v, std::move(t));
}

using Ints = std::vector<std::pair<std::string, std::vector<int64_t>>>;

// An init callback for model_from_text giving the named initializers int64 contents (their
// declared shape): shapes, perms, axes.
inline std::function<void(ir::Graph&)> with_ints(Ints ints) {
  return [ints](ir::Graph& g) {
    for (const auto& [name, values] : ints) {
      ir::Value* v = g.find(name);
      ASSERT_NE(v, nullptr) << name;
      ASSERT_NE(v->initializer(), nullptr) << name;
      set_init<int64_t>(g, name, DataType::kInt64, v->initializer()->shape(), values);
    }
  };
}

// Parses a graph, wraps it as a model importing ai.onnx `opset`, fills float initializers
// (seeded) and infers shapes (passes rely on inferred types, as in the builder).
inline std::unique_ptr<ir::Model> model_from_text(std::string_view text, int64_t opset = 17,
                                                  uint32_t seed = 7,
                                                  const std::function<void(ir::Graph&)>& init = {}) {
  auto g = ir::parse_graph(text);
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  if (!g.ok()) return nullptr;
  auto m = std::make_unique<ir::Model>();
  m->ir_version = 8;
  m->opsets[""] = opset;
  m->graph = std::move(g).value();
  stamp_opset(*m->graph, opset);
  fill_random(*m->graph, seed);
  if (init) init(*m->graph);
  std::vector<Status> problems;
  ops::ShapeInferenceOptions o;
  o.fallback_opset = opset;
  ops::infer_shapes(*m->graph, o, problems);
  for (const Status& p : problems)
    EXPECT_NE(p.severity(), Severity::kError) << p.to_string();
  return m;
}

// Runs exactly `passes` (to a fixed point) and returns the report; fails the test on error.
inline passes::OptimizeReport run_passes(ir::Model& m, const std::vector<std::string>& passes) {
  passes::OptimizeOptions o;
  o.only = passes;
  auto r = passes::optimize(m, o);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  std::vector<Status> problems;
  ir::verify(*m.graph, problems);
  for (const Status& p : problems) ADD_FAILURE() << "graph invalid after passes: " << p.to_string();
  return r.ok() ? std::move(r).value() : passes::OptimizeReport{};
}

// The text of a graph as the printer writes it (expected texts go through this too, so tests
// need not match whitespace).
inline std::string canonical(std::string_view text) {
  auto g = ir::parse_graph(text);
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  return g.ok() ? ir::print(**g) : std::string();
}

inline std::string optimized_text(ir::Model& m, const std::vector<std::string>& passes) {
  run_passes(m, passes);
  return ir::print(*m.graph);
}

// Number of nodes of an op type in the main graph.
inline int count_ops(const ir::Model& m, std::string_view op_type) {
  int n = 0;
  for (const ir::Node* node : m.graph->nodes()) n += node->op_type() == op_type;
  return n;
}

// Random inputs for every graph input (floats uniform in [-1, 1]; ints 1; bools true), with
// static shapes from the declaration or `shapes`.
inline interp::TensorMap random_inputs(const ir::Graph& g,
                                       const std::map<std::string, std::vector<int64_t>>& shapes,
                                       uint32_t seed) {
  interp::TensorMap in;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (const ir::Value* v : g.inputs()) {
    if (v->is_initializer()) continue;
    std::vector<int64_t> shape;
    auto it = shapes.find(v->name());
    if (it != shapes.end()) {
      shape = it->second;
    } else {
      for (size_t i = 0; i < v->type.shape.rank(); ++i) shape.push_back(v->type.shape[i].value);
    }
    Tensor t = Tensor::allocate(v->type.dtype, shape).value();
    (void)ops::dispatch_numeric(t.dtype(), "random", [&]<typename T>() -> Status {
      for (int64_t i = 0; i < t.numel(); ++i) {
        if constexpr (std::is_floating_point_v<ops::compute_t<T>>)
          t.data_as<T>()[i] = static_cast<T>(static_cast<ops::compute_t<T>>(u(rng)));
        else
          t.data_as<T>()[i] = static_cast<T>(1);
      }
      return Status::Ok();
    });
    in[v->name()] = std::move(t);
  }
  return in;
}

// Builds the model twice with `make`, optimizes one with `passes`, runs both on the same random
// inputs and expects every output to agree within rtol relative to the output's largest
// magnitude (plus 1e-6 absolute).
inline void expect_same_outputs(const std::function<std::unique_ptr<ir::Model>()>& make,
                                const std::vector<std::string>& passes,
                                const std::map<std::string, std::vector<int64_t>>& shapes = {},
                                double rtol = 1e-5) {
  auto before = make();
  auto after = make();
  ASSERT_TRUE(before && after);
  run_passes(*after, passes);
  for (uint32_t seed : {1u, 2u}) {
    const interp::TensorMap in = random_inputs(*before->graph, shapes, seed);
    auto want = interp::run(*before, in);
    ASSERT_TRUE(want.ok()) << want.status().to_string();
    auto got = interp::run(*after, in);
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    ASSERT_EQ(want->size(), got->size());
    for (const auto& entry : *want) {
      // Not a structured binding: clang before 16 cannot capture one in the lambda below.
      const std::string& name = entry.first;
      const Tensor& w = entry.second;
      const Tensor& g = got->at(name);
      ASSERT_EQ(w.dtype(), g.dtype()) << name;
      ASSERT_EQ(w.shape(), g.shape()) << name;
      double scale = 0, worst = 0;
      (void)ops::dispatch_numeric(w.dtype(), "compare", [&]<typename T>() -> Status {
        for (int64_t i = 0; i < w.numel(); ++i) {
          const double a = static_cast<double>(static_cast<ops::compute_t<T>>(w.data_as<T>()[i]));
          const double b = static_cast<double>(static_cast<ops::compute_t<T>>(g.data_as<T>()[i]));
          scale = std::max(scale, std::fabs(a));
          worst = std::max(worst, std::fabs(a - b));
        }
        return Status::Ok();
      });
      EXPECT_LE(worst, rtol * scale + 1e-6) << name << ": max |before - after| = " << worst
                                            << " (max |before| = " << scale << ")";
    }
  }
}

}  // namespace kiln::test
