// The ai.onnx.preview.training domain: the optimizers Adagrad, Adam and Momentum, and Gradient
// (registered unsupported: it needs automatic differentiation of the graph it names).
//
// An optimizer node updates n tensors at once. Its inputs are the learning rate R and the update
// count T (scalars), then one run of n tensors per role: X_1..X_n, G_1..G_n, then the optimizer's
// state (H for Adagrad; V for Momentum; V, H for Adam). Its outputs are the new X run followed by
// the new state runs. Each X_k is updated elementwise from the k-th tensor of every run.
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ops/movement_util.h"
#include "ops/op_schema.h"
#include "ops/reduction_util.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

// Input/output counts of an optimizer node with `in_runs` input runs and `out_runs` output runs:
// the n of every run, or an error naming the counts. Outputs may stop early (a node that only
// wants the new X values), never run past the last state.
Result<size_t> run_length(size_t inputs, size_t outputs, size_t in_runs, size_t out_runs,
                          std::string_view op) {
  if (inputs < 2 + in_runs || (inputs - 2) % in_runs != 0)
    return err(Code::kArityMismatch, op, " takes R, T and ", in_runs,
               " runs of n tensors each (n >= 1), so 2 + ", in_runs, "n inputs; the node has ",
               inputs);
  const size_t n = (inputs - 2) / in_runs;
  if (outputs < 1 || outputs > out_runs * n)
    return err(Code::kArityMismatch, op, " with ", n, " optimized tensor(s) produces 1..",
               out_runs * n, " outputs (", out_runs, " runs of ", n, "); the node has ", outputs);
  return n;
}

void check_run_arity(const ir::Node& node, size_t in_runs, size_t out_runs,
                     std::vector<Status>& problems) {
  auto r =
      run_length(node.inputs().size(), node.outputs().size(), in_runs, out_runs, node.op_type());
  if (!r.ok()) problems.push_back(r.status());
}

// Runs an optimizer: reads R (float/double scalar) and T (int64 scalar), checks that the k-th
// tensors of all runs share X_k's type and shape, then writes each wanted output element from
// update(R, T, {x, g, state...}) → {x_new, state_new...}, computed in double.
template <size_t In, size_t Out, typename F>
Status run_optimizer(KernelContext& ctx, std::string_view op,
                     const std::array<const char*, In>& names, F&& update) {
  KILN_ASSIGN_OR_RETURN(const size_t n,
                        run_length(ctx.num_inputs(), ctx.num_outputs(), In, Out, op));
  KILN_ASSIGN_OR_RETURN(const Tensor* r_in, required_input(ctx, 0, op, "R"));
  KILN_ASSIGN_OR_RETURN(const Tensor* t_in, required_input(ctx, 1, op, "T"));
  if (r_in->dtype() != D::kFloat32 && r_in->dtype() != D::kFloat64)
    return err(Code::kTypeUnsupported, op, " learning rate R must be float or double, got ",
               data_type_name(r_in->dtype()));
  if (t_in->dtype() != D::kInt64)
    return err(Code::kTypeUnsupported, op, " update count T must be int64, got ",
               data_type_name(t_in->dtype()));
  KILN_ASSIGN_OR_RETURN(const double r, read_scalar(*r_in, std::string(op) + " R"));
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> t_values,
                        read_int_values(*t_in, std::string(op) + " T"));
  if (t_values.size() != 1)
    return err(Code::kInvalidArgument, op, " T must hold one value, not ", t_values.size());
  const int64_t t = t_values[0];

  for (size_t k = 0; k < n; ++k) {
    std::array<const Tensor*, In> in{};
    std::array<std::vector<double>, In> vals;
    for (size_t role = 0; role < In; ++role) {
      const std::string name = str(names[role], "_", k + 1);
      KILN_ASSIGN_OR_RETURN(in[role], required_input(ctx, 2 + role * n + k, op, name));
      if (role == 0 && in[0]->dtype() != D::kFloat32 && in[0]->dtype() != D::kFloat64)
        return err(Code::kTypeUnsupported, op, " ", name, " must be float or double, got ",
                   data_type_name(in[0]->dtype()));
      if (in[role]->dtype() != in[0]->dtype() || in[role]->shape() != in[0]->shape())
        return err(Code::kIncompatibleShapes, op, " ", name, " is ",
                   data_type_name(in[role]->dtype()), " ", shape_str(in[role]->shape()),
                   " but must match ", names[0], "_", k + 1, ", ", data_type_name(in[0]->dtype()),
                   " ", shape_str(in[0]->shape()));
      KILN_ASSIGN_OR_RETURN(vals[role], read_doubles(*in[role], name));
    }
    const D dtype = in[0]->dtype();
    std::array<Tensor*, Out> out{};
    for (size_t role = 0; role < Out; ++role) {
      const size_t slot = role * n + k;
      if (!ctx.wants_output(slot)) continue;
      KILN_ASSIGN_OR_RETURN(out[role], ctx.allocate_output(slot, dtype, in[0]->shape()));
    }
    KILN_RETURN_IF_ERROR(dispatch_float(dtype, op, [&]<typename T>() -> Status {
      std::array<double, In> args{};
      for (size_t e = 0; e < vals[0].size(); ++e) {
        for (size_t role = 0; role < In; ++role) args[role] = vals[role][e];
        const std::array<double, Out> res = update(r, t, args);
        for (size_t role = 0; role < Out; ++role)
          if (out[role] != nullptr) out[role]->template data_as<T>()[e] = from_double<T>(res[role]);
      }
      return Status::Ok();
    }));
  }
  return Status::Ok();
}

Status adagrad_kernel(KernelContext& ctx) {
  const double norm = ctx.attr_float("norm_coefficient", 0.0f);
  const double decay = ctx.attr_float("decay_factor", 0.0f);
  const double eps = ctx.attr_float("epsilon", 1e-6f);
  return run_optimizer<3, 2>(
      ctx, "Adagrad", {"X", "G", "H"},
      [&](double r, int64_t t, const std::array<double, 3>& a) -> std::array<double, 2> {
        const auto [x, g, h] = a;
        const double rate = r / (1.0 + static_cast<double>(t) * decay);
        const double g_reg = norm * x + g;
        const double h_new = h + g_reg * g_reg;
        return {x - rate * g_reg / (std::sqrt(h_new) + eps), h_new};
      });
}

Status adam_kernel(KernelContext& ctx) {
  const double alpha = ctx.attr_float("alpha", 0.9f);
  const double beta = ctx.attr_float("beta", 0.999f);
  const double eps = ctx.attr_float("epsilon", 1e-6f);
  const double norm = ctx.attr_float("norm_coefficient", 0.0f);
  const double norm_post = ctx.attr_float("norm_coefficient_post", 0.0f);
  return run_optimizer<4, 3>(
      ctx, "Adam", {"X", "G", "V", "H"},
      [&](double r, int64_t t, const std::array<double, 4>& a) -> std::array<double, 3> {
        const auto [x, g, v, h] = a;
        const double g_reg = norm * x + g;
        const double v_new = alpha * v + (1.0 - alpha) * g_reg;
        const double h_new = beta * h + (1.0 - beta) * g_reg * g_reg;
        // Bias correction of both averages, from the first counted update on.
        const double td = static_cast<double>(t);
        const double rate =
            t > 0 ? r * std::sqrt(1.0 - std::pow(beta, td)) / (1.0 - std::pow(alpha, td)) : r;
        const double x_new = x - rate * v_new / (std::sqrt(h_new) + eps);
        return {(1.0 - norm_post) * x_new, v_new, h_new};
      });
}

Status momentum_kernel(KernelContext& ctx) {
  const double alpha = ctx.attr_float("alpha");
  const double beta = ctx.attr_float("beta");
  const double norm = ctx.attr_float("norm_coefficient");
  const std::string mode = ctx.attr_string("mode");
  if (mode != "standard" && mode != "nesterov")
    return err(Code::kAttributeValueUnsupported, "Momentum mode '", mode,
               "' is not one of standard, nesterov");
  const bool nesterov = mode == "nesterov";
  return run_optimizer<3, 2>(
      ctx, "Momentum", {"X", "G", "V"},
      [&](double r, int64_t t, const std::array<double, 3>& a) -> std::array<double, 2> {
        const auto [x, g, v] = a;
        const double g_reg = norm * x + g;
        // The first update (T = 0) takes the whole gradient.
        const double v_new = alpha * v + (t > 0 ? beta : 1.0) * g_reg;
        return {nesterov ? x - r * (g_reg + alpha * v_new) : x - r * v_new, v_new};
      });
}

// The common shape of the three optimizers' schemas.
OpSchema optimizer(std::string name, size_t in_runs, size_t out_runs) {
  OpSchema s(std::move(name), 1, std::string(kTrainingDomain));
  s.input("R", "T1")
      .input("T", "T2")
      .input("inputs", "T3", Arity::kVariadic)
      .output("outputs", "T3", Arity::kVariadic)
      .types("T1", {D::kFloat32, D::kFloat64})
      .types("T2", {D::kInt64})
      .types("T3", {D::kFloat32, D::kFloat64})
      // One elementwise update, but over several tensors with several outputs each: nothing
      // the fuser can treat as a single elementwise map.
      .fusion(FusionKind::kOpaque)
      .check([in_runs, out_runs](const ir::Node& n, const OpSchema&, std::vector<Status>& out) {
        check_run_arity(n, in_runs, out_runs, out);
      });
  return s;
}

}  // namespace

void register_training(OpRegistry& registry) {
  registry.add(optimizer("Adagrad", 3, 2)
                   .attr("decay_factor", AttrType::kFloat, 0.0f)
                   .attr("epsilon", AttrType::kFloat, 1e-6f)
                   .attr("norm_coefficient", AttrType::kFloat, 0.0f)
                   .kernel(adagrad_kernel));
  registry.add(optimizer("Adam", 4, 3)
                   .attr("alpha", AttrType::kFloat, 0.9f)
                   .attr("beta", AttrType::kFloat, 0.999f)
                   .attr("epsilon", AttrType::kFloat, 1e-6f)
                   .attr("norm_coefficient", AttrType::kFloat, 0.0f)
                   .attr("norm_coefficient_post", AttrType::kFloat, 0.0f)
                   .kernel(adam_kernel));
  OpSchema momentum = optimizer("Momentum", 3, 2);
  momentum.required_attr("alpha", AttrType::kFloat)
      .required_attr("beta", AttrType::kFloat)
      .required_attr("mode", AttrType::kString)
      .required_attr("norm_coefficient", AttrType::kFloat)
      .kernel(momentum_kernel)
      .check([](const ir::Node& n, const OpSchema&, std::vector<Status>& out) {
        check_run_arity(n, 3, 2, out);
        const ir::Attribute* mode = n.attr("mode");
        if (mode != nullptr && mode->type == AttrType::kString && mode->s != "standard" &&
            mode->s != "nesterov")
          out.push_back(err(Code::kAttributeValueUnsupported, "Momentum mode \"", mode->s,
                            "\" is not one of \"standard\", \"nesterov\""));
      });
  registry.add(std::move(momentum));

  registry.add(OpSchema("Gradient", 1, std::string(kTrainingDomain))
                   .input("Inputs", "T1", Arity::kVariadic, 1, false)
                   .output("Outputs", "T2", Arity::kVariadic)
                   .types("T1", type_sets::all_tensor_at(1))
                   .types("T2", type_sets::ieee_floats())
                   .required_attr("xs", AttrType::kStrings)
                   .required_attr("y", AttrType::kString)
                   .attr("zs", AttrType::kStrings)
                   .fusion(FusionKind::kOpaque)
                   .unsupported("Gradient differentiates the graph it names (reverse-mode "
                                "automatic differentiation); kiln runs inference graphs and "
                                "has no autodiff"));
}

}  // namespace kiln::ops
