// Harness for testing a backend tactic against its op's reference kernel (the oracle).
//
//   TacticHarness h(NodeCase{...})  builds a graph holding one node (inputs typed from the
//                                   given tensors, some stored as initializers, shapes and output
//                                   types inferred as the builder would see them).
//   h.supports(tactic)              the tactic's static decision on that node.
//   h.run_reference()               the op's reference kernel on the inputs.
//   h.run_tactic(tactic, opts)      tactic.prepare_packed(...)->run(ctx), with a thread count,
//                                   build-time packed constants and, optionally, output 0
//                                   written over (a copy of) input k.
//   compare_outputs(got, want, tol) max abs / rel error and where; NaN must meet NaN, +-inf
//                                   must match exactly, anything else within
//                                   tol * max(1, |want|) (expect_near_all's rule).
//   expect_tactic_matches(...)      all of the above in one call; returns the error figures.
//
// Generic over ops and tactics: conv/matmul tactics use it the same way.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/cpu_threads.h"
#include "interp/interpreter.h"
#include "ops/op_schema.h"
#include "ops/shape_inference.h"
#include "unit/kernel_test_util.h"

namespace kiln::test {

// Move-only (attributes are): build one per run.
struct NodeCase {
  NodeCase(std::string op_type, std::string op_domain, int64_t op_opset)
      : op(std::move(op_type)), domain(std::move(op_domain)), opset(op_opset) {}
  NodeCase(NodeCase&&) = default;
  NodeCase& operator=(NodeCase&&) = default;
  std::string op;
  std::string domain;  // "" = ai.onnx
  int64_t opset = 0;
  std::vector<Tensor> inputs;     // an empty Tensor is an omitted optional input
  std::vector<size_t> constants;  // inputs stored as initializers (weights), not graph inputs
  std::vector<ir::Attribute> attrs;
  size_t outputs = 1;
  std::vector<size_t> skip;        // output slots left omitted
  std::vector<DataType> declared;  // declared output dtypes (undefined = inferred)
};

struct TacticRunOptions {
  // A constructor, not an aggregate: callers list the leading fields only.
  TacticRunOptions(int threads_ = 1, int inplace_input_ = -1, std::vector<uint8_t> params_ = {},
                   std::vector<const Tensor*> packed_ = {})
      : threads(threads_),
        inplace_input(inplace_input_),
        params(std::move(params_)),
        packed(std::move(packed_)) {}
  int threads;
  int inplace_input;                  // >= 0: output 0 shares (a copy of) this input's memory
  std::vector<uint8_t> params;        // the variant to prepare (empty: the tactic's default)
  std::vector<const Tensor*> packed;  // build-time packed constants (Tactic::pack)
};

struct ErrorStats {
  double max_abs = 0;
  double max_rel = 0;  // |got - want| / max(1, |want|): what the tolerance bounds
  size_t compared = 0;
  bool ok = true;
  std::string where;  // the worst element: "output o [i]: got g want w"
};

class TacticHarness {
 public:
  explicit TacticHarness(NodeCase c) : case_(std::move(c)) {
    graph_ = std::make_unique<ir::Graph>("main");
    std::vector<ir::Value*> ins;
    for (size_t i = 0; i < case_.inputs.size(); ++i) {
      const Tensor& t = case_.inputs[i];
      if (t.empty()) {
        ins.push_back(nullptr);
        continue;
      }
      const std::string name = "in" + std::to_string(i);
      const bool constant =
          std::find(case_.constants.begin(), case_.constants.end(), i) != case_.constants.end();
      if (constant) {
        ins.push_back(graph_->add_initializer(name, t).value());
      } else {
        ir::ValueType type;
        type.dtype = t.dtype();
        type.shape = Dims::of(t.shape());
        ins.push_back(graph_->add_input(name, type).value());
      }
    }
    std::vector<ir::Value*> outs;
    for (size_t i = 0; i < case_.outputs; ++i) {
      if (std::find(case_.skip.begin(), case_.skip.end(), i) != case_.skip.end()) {
        outs.push_back(nullptr);
        continue;
      }
      ir::ValueType type;
      if (i < case_.declared.size()) type.dtype = case_.declared[i];
      ir::Value* v = graph_->add_value("out" + std::to_string(i), type).value();
      graph_->add_output(v);
      outs.push_back(v);
    }
    const int64_t opset = case_.opset;
    node_ = graph_->add_node(case_.op, case_.domain, case_.op + "_0", ins, outs,
                             std::move(case_.attrs), opset, 0);
    schema_ = ops::OpRegistry::builtin().find(case_.domain, case_.op,
                                              ops::effective_opset(case_.domain, opset));
    std::vector<Status> problems;
    ops::infer_shapes(*graph_, ops::ShapeInferenceOptions{}, problems);
    for (const Status& s : problems) ADD_FAILURE() << "shape inference: " << s.to_string();
  }

  const ir::Node& node() const { return *node_; }
  const ops::OpSchema& schema() const { return *schema_; }
  bool valid() const { return schema_ != nullptr; }

  bool supports(const backends::Tactic& tactic) const {
    return schema_ != nullptr && tactic.supports(*node_, *schema_);
  }

  Result<std::vector<Tensor>> run_reference() const {
    std::vector<Tensor> inputs = copies();
    ops::KernelContext ctx = context(inputs);
    KILN_RETURN_IF_ERROR(schema_->reference_kernel()(ctx));
    return std::move(ctx.outputs());
  }

  Result<std::vector<Tensor>> run_tactic(const backends::Tactic& tactic,
                                         TacticRunOptions opts = {}) const {
    KILN_ASSIGN_OR_RETURN(std::unique_ptr<backends::Kernel> kernel,
                          tactic.prepare_packed(*node_, *schema_, opts.params, opts.packed));
    std::vector<Tensor> inputs = copies();
    ops::KernelContext ctx = context(inputs);
    // Like the executor's in-place slot: output 0 of the input's type and byte size lands on
    // the input's memory, unzeroed.
    ops::OutputAllocator alloc = [&](size_t i, DataType dt, std::vector<int64_t> shape,
                                     bool zero) -> Result<Tensor> {
      if (i == 0 && opts.inplace_input >= 0) {
        Tensor& in = inputs[static_cast<size_t>(opts.inplace_input)];
        const std::optional<int64_t> n = checked_numel(shape);
        if (n && in.dtype() == dt && in.numel() == *n)
          return Tensor::borrow(dt, std::move(shape), in.data());
        ADD_FAILURE() << "in-place output does not fit input " << opts.inplace_input;
      }
      KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dt, std::move(shape)));
      // Poison instead of zero, so a kernel that skips an element is caught.
      if (!zero && dt == DataType::kFloat32)
        for (int64_t k = 0; k < t.numel(); ++k) t.data_as<float>()[k] = -12345.0f;
      return t;
    };
    ctx.set_output_allocator(&alloc);
    backends::cpu::set_intra_op_threads(opts.threads);
    const Status s = kernel->run(ctx);
    backends::cpu::set_intra_op_threads(1);
    KILN_RETURN_IF_ERROR(s);
    std::vector<Tensor> out;
    // In-place outputs borrow `inputs`, which dies here: copy them out.
    for (const Tensor& t : ctx.outputs()) {
      if (t.empty() || t.owns_data()) {
        out.push_back(t);
        continue;
      }
      Tensor c = Tensor::allocate(t.dtype(), t.shape()).value();
      std::memcpy(c.data(), t.data(), t.nbytes());
      out.push_back(std::move(c));
    }
    return out;
  }

 private:
  std::vector<Tensor> copies() const {
    std::vector<Tensor> v;
    for (const Tensor& t : case_.inputs) {
      if (t.empty() || t.dtype() == DataType::kString) {
        v.push_back(t);
        continue;
      }
      Tensor c = Tensor::allocate(t.dtype(), t.shape()).value();
      std::memcpy(c.data(), t.data(), t.nbytes());
      v.push_back(std::move(c));
    }
    return v;
  }

  ops::KernelContext context(const std::vector<Tensor>& inputs) const {
    std::vector<const Tensor*> ptrs;
    for (const Tensor& t : inputs) ptrs.push_back(t.empty() ? nullptr : &t);
    ops::SubgraphRunner sub = [](const ir::Graph& g, std::vector<Tensor> in) {
      return interp::run_subgraph(g, std::move(in),
                                  [](const ir::Value*) -> const Tensor* { return nullptr; });
    };
    return ops::KernelContext(*node_, *schema_, std::move(ptrs), std::move(sub));
  }

  NodeCase case_;
  std::unique_ptr<ir::Graph> graph_;
  ir::Node* node_ = nullptr;
  const ops::OpSchema* schema_ = nullptr;
};

inline ErrorStats compare_outputs(const std::vector<Tensor>& got, const std::vector<Tensor>& want,
                                  double tol) {
  ErrorStats st;
  if (got.size() != want.size()) {
    st.ok = false;
    st.where = "output counts differ: " + std::to_string(got.size()) + " vs " +
               std::to_string(want.size());
    return st;
  }
  double worst = -1;
  for (size_t o = 0; o < got.size(); ++o) {
    if (got[o].empty() != want[o].empty() || got[o].dtype() != want[o].dtype() ||
        got[o].shape() != want[o].shape()) {
      st.ok = false;
      st.where = "output " + std::to_string(o) + ": type or shape " +
                 Dims::of(got[o].shape()).to_string() + " vs " +
                 Dims::of(want[o].shape()).to_string();
      return st;
    }
    if (got[o].empty()) continue;
    const std::vector<double> g = values(got[o]), w = values(want[o]);
    for (size_t i = 0; i < g.size(); ++i) {
      ++st.compared;
      std::ostringstream at;
      at << "output " << o << " [" << i << "]: got " << g[i] << " want " << w[i];
      if (std::isnan(w[i]) || std::isinf(w[i])) {
        const bool same = std::isnan(w[i]) ? std::isnan(g[i]) : g[i] == w[i];
        if (!same) {
          st.ok = false;
          if (worst < INFINITY) st.where = at.str();
          worst = INFINITY;
        }
        continue;
      }
      const double abs = std::fabs(g[i] - w[i]);
      const double rel = abs / std::max(1.0, std::fabs(w[i]));
      if (std::isnan(abs)) {
        st.ok = false;
        worst = INFINITY;
        st.where = at.str();
        continue;
      }
      st.max_abs = std::max(st.max_abs, abs);
      st.max_rel = std::max(st.max_rel, rel);
      if (rel > tol) st.ok = false;
      if (rel > worst) {
        worst = rel;
        st.where = at.str();
      }
    }
  }
  return st;
}

// Runs the tactic (which must support the node) and the reference kernel and checks the
// outputs agree within `tol` (see compare_outputs). Returns the error figures.
inline ErrorStats expect_tactic_matches(const backends::Tactic& tactic, NodeCase c, double tol,
                                        TacticRunOptions opts = {}) {
  const std::string op = c.op;
  TacticHarness h(std::move(c));
  if (!h.valid()) {
    ADD_FAILURE() << op << " has no schema";
    return {};
  }
  EXPECT_TRUE(h.supports(tactic)) << tactic.name() << " declines " << op;
  Result<std::vector<Tensor>> want = h.run_reference();
  Result<std::vector<Tensor>> got = h.run_tactic(tactic, opts);
  if (!want.ok() || !got.ok()) {
    ADD_FAILURE() << "reference: " << want.status().to_string()
                  << "; tactic: " << got.status().to_string();
    return {};
  }
  ErrorStats st = compare_outputs(*got, *want, tol);
  EXPECT_TRUE(st.ok) << tactic.name() << " on " << op << " differs from the reference beyond "
                     << tol << " at " << st.where << " (max abs " << st.max_abs << ", max rel "
                     << st.max_rel << ")";
  return st;
}

// Two runs with the same thread count must agree bit for bit.
inline void expect_deterministic(const backends::Tactic& tactic, NodeCase c, int threads = 2) {
  TacticHarness h(std::move(c));
  Result<std::vector<Tensor>> a = h.run_tactic(tactic, {threads, -1, {}});
  Result<std::vector<Tensor>> b = h.run_tactic(tactic, {threads, -1, {}});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), b->size());
  for (size_t o = 0; o < a->size(); ++o) {
    ASSERT_EQ((*a)[o].nbytes(), (*b)[o].nbytes());
    EXPECT_EQ(std::memcmp((*a)[o].data(), (*b)[o].data(), (*a)[o].nbytes()), 0)
        << "output " << o << " differs between two runs";
  }
}

}  // namespace kiln::test
