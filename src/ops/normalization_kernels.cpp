// Reference kernels for BatchNormalization, InstanceNormalization, LayerNormalization,
// GroupNormalization, LRN and MeanVarianceNormalization. Statistics accumulate in double and use
// two passes (mean, then mean squared deviation) so they stay accurate for large inputs.
#include "ops/normalization_kernels.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/op_schema.h"
#include "ops/reduction_util.h"

namespace kiln::ops::normalization {

namespace {

Status require_inputs(const KernelContext& ctx, size_t count, const char* op) {
  for (size_t i = 0; i < count; ++i)
    if (ctx.input(i) == nullptr)
      return err(Code::kInvalidArgument, op, " needs ", count, " inputs; input ", i, " is missing");
  return Status::Ok();
}

// Mean and population variance of n contiguous values.
template <typename T>
std::pair<double, double> mean_var(const T* p, int64_t n) {
  if (n == 0) return {0.0, 0.0};
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += to_double(p[i]);
  const double mean = sum / static_cast<double>(n);
  double sq = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = to_double(p[i]) - mean;
    sq += d * d;
  }
  return {mean, sq / static_cast<double>(n)};
}

// y = x * a[p] + b[p] for x viewed as [outer, a.size(), inner].
template <typename T>
void affine(const T* x, T* y, int64_t outer, int64_t inner, const std::vector<double>& a,
            const std::vector<double>& b) {
  const int64_t planes = static_cast<int64_t>(a.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t p = 0; p < planes; ++p) {
      const int64_t base = (o * planes + p) * inner;
      for (int64_t i = 0; i < inner; ++i)
        y[base + i] = from_double<T>(to_double(x[base + i]) * a[p] + b[p]);
    }
}

Status store_doubles(Tensor& t, const std::vector<double>& v, const char* what) {
  return dispatch_float(t.dtype(), what, [&]<typename T>() -> Status {
    T* p = t.data_as<T>();
    for (size_t i = 0; i < v.size(); ++i) p[i] = from_double<T>(v[i]);
    return Status::Ok();
  });
}

Status check_param_count(const Tensor& param, const char* op, const char* what, int64_t expected,
                         const Tensor& x, const char* per) {
  if (param.numel() != expected)
    return err(Code::kIncompatibleShapes, op, " ", what, " has shape ", shape_string(param.shape()),
               " but X of shape ", shape_string(x.shape()), " needs ", expected, " values (", per,
               ")");
  return Status::Ok();
}

// [N, C, D1..Dn] inputs: rank at least 2.
Status check_nc(const Tensor& x, const char* op) {
  if (x.rank() < 2)
    return err(Code::kIncompatibleShapes, op, " needs X of shape [N, C, ...] (rank >= 2), got ",
               shape_string(x.shape()));
  return Status::Ok();
}

}  // namespace

Status batch_norm(KernelContext& ctx) {
  const char* op = "BatchNormalization";
  KILN_RETURN_IF_ERROR(require_inputs(ctx, 5, op));
  const Tensor& x = *ctx.input(0);
  KILN_RETURN_IF_ERROR(check_nc(x, op));
  const auto& shape = x.shape();
  const int64_t n = shape[0], c = shape[1], spatial_size = dims_product(shape, 2, shape.size());
  // Revisions up to 7 with spatial=0 keep statistics per activation: parameters of shape
  // [C, D1..Dn].
  const bool per_activation = ctx.since() <= 7 && ctx.attr_int("spatial", 1) == 0;
  const int64_t planes = per_activation ? c * spatial_size : c;
  const int64_t inner = per_activation ? 1 : spatial_size;
  const char* names[] = {"X", "scale", "B", "mean", "var"};
  std::vector<double> params[5];
  for (size_t i = 1; i < 5; ++i) {
    KILN_RETURN_IF_ERROR(check_param_count(*ctx.input(i), op, names[i], planes, x,
                                           per_activation ? "per activation" : "one per channel"));
    KILN_ASSIGN_OR_RETURN(params[i], read_doubles(*ctx.input(i), str(op, " ", names[i])));
  }
  const std::vector<double>& scale = params[1];
  const std::vector<double>& bias = params[2];
  std::vector<double> mean = params[3], var = params[4];
  const double eps = ctx.attr_float("epsilon", 1e-5f);
  // Before opset 7 the node states its mode: is_test = 0 (the default) is training.
  const bool training = (ctx.since() >= 14 && ctx.attr_int("training_mode") != 0) ||
                        (ctx.since() < 7 && ctx.attr_int("is_test", 0) == 0);
  if (training && per_activation)
    return err(Code::kInvalidArgument, op, "-", ctx.since(),
               " in training mode (is_test = 0) with spatial = 0: per-activation batch "
               "statistics are not implemented; set is_test = 1 for inference");
  if (ctx.since() < 14)
    for (size_t i = 1; i < 5; ++i)
      if (ctx.wants_output(i))
        return err(Code::kInvalidArgument, op, "-", ctx.since(),
                   " training outputs (mean, var, saved_mean, saved_var) are not supported; "
                   "only inference (output Y alone) is");
  if (training) {
    // Batch statistics over N and the spatial dims; the running statistics blend them in.
    const double momentum = ctx.attr_float("momentum", 0.9f);
    std::vector<double> batch_mean(static_cast<size_t>(c), 0.0),
        batch_var(static_cast<size_t>(c), 0.0);
    KILN_RETURN_IF_ERROR(dispatch_float(x.dtype(), op, [&]<typename T>() -> Status {
      const T* p = x.data_as<T>();
      const double count = static_cast<double>(n * spatial_size);
      for (int64_t ch = 0; ch < c; ++ch) {
        double sum = 0, sq = 0;
        for (int64_t b = 0; b < n; ++b)
          for (int64_t s = 0; s < spatial_size; ++s)
            sum += to_double(p[(b * c + ch) * spatial_size + s]);
        const double m = count > 0 ? sum / count : 0.0;
        for (int64_t b = 0; b < n; ++b)
          for (int64_t s = 0; s < spatial_size; ++s) {
            const double d = to_double(p[(b * c + ch) * spatial_size + s]) - m;
            sq += d * d;
          }
        batch_mean[static_cast<size_t>(ch)] = m;
        batch_var[static_cast<size_t>(ch)] = count > 0 ? sq / count : 0.0;
      }
      return Status::Ok();
    }));
    for (size_t i = 1; i <= 2; ++i) {
      if (!ctx.wants_output(i)) continue;
      const std::vector<double>& running = i == 1 ? mean : var;
      const std::vector<double>& batch = i == 1 ? batch_mean : batch_var;
      std::vector<double> blended(running.size());
      for (size_t k = 0; k < running.size(); ++k)
        blended[k] = running[k] * momentum + batch[k] * (1.0 - momentum);
      const Tensor& stat_in = *ctx.input(i + 2);
      KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(i, stat_in.dtype(), stat_in.shape()));
      KILN_RETURN_IF_ERROR(store_doubles(*out, blended, op));
    }
    mean = std::move(batch_mean);
    var = std::move(batch_var);
  } else {
    // Outside training the running statistics pass through unchanged.
    for (size_t i = 1; i <= 2; ++i)
      if (ctx.wants_output(i)) ctx.set_output(i, ctx.input(i + 2)->view());
  }
  std::vector<double> a(static_cast<size_t>(planes)), b(static_cast<size_t>(planes));
  for (size_t p = 0; p < a.size(); ++p) {
    a[p] = scale[p] / std::sqrt(var[p] + eps);
    b[p] = bias[p] - mean[p] * a[p];
  }
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x.dtype(), shape));
  return dispatch_float(x.dtype(), op, [&]<typename T>() -> Status {
    affine<T>(x.data_as<T>(), y->data_as<T>(), n, inner, a, b);
    return Status::Ok();
  });
}

Status instance_norm(KernelContext& ctx) {
  const char* op = "InstanceNormalization";
  KILN_RETURN_IF_ERROR(require_inputs(ctx, 3, op));
  const Tensor& x = *ctx.input(0);
  KILN_RETURN_IF_ERROR(check_nc(x, op));
  const auto& shape = x.shape();
  const int64_t n = shape[0], c = shape[1], s = dims_product(shape, 2, shape.size());
  KILN_RETURN_IF_ERROR(check_param_count(*ctx.input(1), op, "scale", c, x, "one per channel"));
  KILN_RETURN_IF_ERROR(check_param_count(*ctx.input(2), op, "B", c, x, "one per channel"));
  KILN_ASSIGN_OR_RETURN(const std::vector<double> scale, read_doubles(*ctx.input(1), "scale"));
  KILN_ASSIGN_OR_RETURN(const std::vector<double> bias, read_doubles(*ctx.input(2), "B"));
  const double eps = ctx.attr_float("epsilon", 1e-5f);
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x.dtype(), shape));
  return dispatch_float(x.dtype(), op, [&]<typename T>() -> Status {
    const T* in = x.data_as<T>();
    T* out = y->data_as<T>();
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < c; ++ch) {
        const int64_t base = (b * c + ch) * s;
        const auto [mean, var] = mean_var(in + base, s);
        const double a = scale[static_cast<size_t>(ch)] / std::sqrt(var + eps);
        const double shift = bias[static_cast<size_t>(ch)] - mean * a;
        for (int64_t i = 0; i < s; ++i)
          out[base + i] = from_double<T>(to_double(in[base + i]) * a + shift);
      }
    return Status::Ok();
  });
}

namespace {

// Expands a Scale/B tensor, unidirectionally broadcast to `target`, into `target`'s numel
// doubles.
Result<std::vector<double>> expand_param(const Tensor& param, const std::vector<int64_t>& target,
                                         const char* op, const char* what, const Tensor& x) {
  const auto& ps = param.shape();
  bool ok = ps.size() <= target.size();
  for (size_t i = 0; ok && i < ps.size(); ++i) {
    const int64_t t = target[target.size() - ps.size() + i];
    ok = ps[i] == t || ps[i] == 1;
  }
  if (!ok)
    return err(Code::kIncompatibleShapes, op, " ", what, " of shape ", shape_string(ps),
               " does not broadcast to the normalized shape ", shape_string(target), " of X ",
               shape_string(x.shape()));
  KILN_ASSIGN_OR_RETURN(const std::vector<double> values, read_doubles(param, what));
  const BroadcastIndexer index(ps, target);
  std::vector<double> out(static_cast<size_t>(dims_product(target, 0, target.size())));
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = values[static_cast<size_t>(index(static_cast<int64_t>(i)))];
  return out;
}

}  // namespace

Status layer_norm(KernelContext& ctx) {
  const char* op = "LayerNormalization";
  KILN_RETURN_IF_ERROR(require_inputs(ctx, 2, op));
  const Tensor& x = *ctx.input(0);
  const int64_t rank = static_cast<int64_t>(x.rank());
  if (rank == 0) return err(Code::kInvalidArgument, op, " needs X of rank >= 1, got a scalar");
  KILN_ASSIGN_OR_RETURN(const int64_t axis, normalize_axis(ctx.attr_int("axis", -1), rank, op));
  const auto& shape = x.shape();
  const size_t ax = static_cast<size_t>(axis);
  const std::vector<int64_t> norm_shape(shape.begin() + axis, shape.end());
  const int64_t rows = dims_product(shape, 0, ax), cols = dims_product(shape, ax, shape.size());
  KILN_ASSIGN_OR_RETURN(const std::vector<double> scale,
                        expand_param(*ctx.input(1), norm_shape, op, "Scale", x));
  std::vector<double> bias(static_cast<size_t>(cols), 0.0);
  if (const Tensor* b = ctx.input(2)) {
    KILN_ASSIGN_OR_RETURN(bias, expand_param(*b, norm_shape, op, "B", x));
  }
  const double eps = ctx.attr_float("epsilon", 1e-5f);
  std::vector<double> means(static_cast<size_t>(rows)), inv_std(static_cast<size_t>(rows));
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x.dtype(), shape));
  KILN_RETURN_IF_ERROR(dispatch_float(x.dtype(), op, [&]<typename T>() -> Status {
    const T* in = x.data_as<T>();
    T* out = y->data_as<T>();
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = in + r * cols;
      const auto [mean, var] = mean_var(row, cols);
      const double inv = 1.0 / std::sqrt(var + eps);
      means[static_cast<size_t>(r)] = mean;
      inv_std[static_cast<size_t>(r)] = inv;
      for (int64_t i = 0; i < cols; ++i)
        out[r * cols + i] = from_double<T>((to_double(row[i]) - mean) * inv * scale[i] + bias[i]);
    }
    return Status::Ok();
  }));
  // Mean and InvStdDev have type U: the node's declared output type when the model gives one,
  // else stash_type (1 = float32, 16 = bfloat16), which is what ONNX type inference assigns.
  std::vector<int64_t> stat_shape(shape.begin(), shape.begin() + axis);
  stat_shape.resize(shape.size(), 1);
  const int64_t stash = ctx.attr_int("stash_type", 1);
  for (size_t i = 1; i <= 2; ++i) {
    if (!ctx.wants_output(i)) continue;
    DataType u = static_cast<DataType>(stash);
    const DataType declared = ctx.node().outputs()[i]->type.dtype;
    if (declared != DataType::kUndefined) u = declared;
    if (u != DataType::kFloat32 && u != DataType::kBFloat16 && u != DataType::kFloat16 &&
        u != DataType::kFloat64)
      return err(Code::kInvalidArgument, op, " stash_type ", stash,
                 " is not a floating-point type (1 = float32, 16 = bfloat16)");
    KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(i, u, stat_shape));
    KILN_RETURN_IF_ERROR(store_doubles(*out, i == 1 ? means : inv_std, op));
  }
  return Status::Ok();
}

Status group_norm(KernelContext& ctx) {
  const char* op = "GroupNormalization";
  KILN_RETURN_IF_ERROR(require_inputs(ctx, 3, op));
  const Tensor& x = *ctx.input(0);
  KILN_RETURN_IF_ERROR(check_nc(x, op));
  if (!ctx.has_attr("num_groups"))
    return err(Code::kInvalidArgument, op, " needs the num_groups attribute");
  const int64_t groups = ctx.attr_int("num_groups");
  const auto& shape = x.shape();
  const int64_t n = shape[0], c = shape[1], s = dims_product(shape, 2, shape.size());
  if (groups <= 0 || c % groups != 0)
    return err(Code::kInvalidArgument, op, " num_groups ", groups,
               " must be positive and divide the channel count ", c, " of X ", shape_string(shape));
  KILN_RETURN_IF_ERROR(check_param_count(*ctx.input(1), op, "scale", c, x, "one per channel"));
  KILN_RETURN_IF_ERROR(check_param_count(*ctx.input(2), op, "bias", c, x, "one per channel"));
  KILN_ASSIGN_OR_RETURN(const std::vector<double> scale, read_doubles(*ctx.input(1), "scale"));
  KILN_ASSIGN_OR_RETURN(const std::vector<double> bias, read_doubles(*ctx.input(2), "bias"));
  const double eps = ctx.attr_float("epsilon", 1e-5f);
  const int64_t per_group = c / groups;
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x.dtype(), shape));
  // stash_type names the precision of the statistics stage; double covers every choice.
  return dispatch_float(x.dtype(), op, [&]<typename T>() -> Status {
    const T* in = x.data_as<T>();
    T* out = y->data_as<T>();
    for (int64_t b = 0; b < n; ++b)
      for (int64_t g = 0; g < groups; ++g) {
        const int64_t base = (b * c + g * per_group) * s;
        const auto [mean, var] = mean_var(in + base, per_group * s);
        const double inv = 1.0 / std::sqrt(var + eps);
        for (int64_t k = 0; k < per_group; ++k) {
          const size_t ch = static_cast<size_t>(g * per_group + k);
          const double a = scale[ch] * inv, shift = bias[ch] - mean * a;
          for (int64_t i = 0; i < s; ++i) {
            const int64_t at = base + k * s + i;
            out[at] = from_double<T>(to_double(in[at]) * a + shift);
          }
        }
      }
    return Status::Ok();
  });
}

Status lrn(KernelContext& ctx) {
  const char* op = "LRN";
  KILN_RETURN_IF_ERROR(require_inputs(ctx, 1, op));
  const Tensor& x = *ctx.input(0);
  KILN_RETURN_IF_ERROR(check_nc(x, op));
  if (!ctx.has_attr("size")) return err(Code::kInvalidArgument, op, " needs the size attribute");
  const int64_t size = ctx.attr_int("size");
  if (size <= 0) return err(Code::kInvalidArgument, op, " size ", size, " must be positive");
  const double alpha = ctx.attr_float("alpha", 1e-4f), beta = ctx.attr_float("beta", 0.75f),
               bias = ctx.attr_float("bias", 1.0f);
  const auto& shape = x.shape();
  const int64_t n = shape[0], c = shape[1], s = dims_product(shape, 2, shape.size());
  // The window around channel ch is [ch - floor((size-1)/2), ch + ceil((size-1)/2)].
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x.dtype(), shape));
  return dispatch_float(x.dtype(), op, [&]<typename T>() -> Status {
    const T* in = x.data_as<T>();
    T* out = y->data_as<T>();
    std::vector<double> square_sum(static_cast<size_t>(s));
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < c; ++ch) {
        std::fill(square_sum.begin(), square_sum.end(), 0.0);
        const int64_t lo = std::max<int64_t>(0, ch - before), hi = std::min(c - 1, ch + after);
        for (int64_t k = lo; k <= hi; ++k) {
          const T* plane = in + (b * c + k) * s;
          for (int64_t i = 0; i < s; ++i) {
            const double v = to_double(plane[i]);
            square_sum[static_cast<size_t>(i)] += v * v;
          }
        }
        const int64_t base = (b * c + ch) * s;
        for (int64_t i = 0; i < s; ++i)
          out[base + i] = from_double<T>(to_double(in[base + i]) /
                                         std::pow(bias + alpha / static_cast<double>(size) *
                                                             square_sum[static_cast<size_t>(i)],
                                                  beta));
      }
    return Status::Ok();
  });
}

Status mean_variance_norm(KernelContext& ctx) {
  const char* op = "MeanVarianceNormalization";
  KILN_RETURN_IF_ERROR(require_inputs(ctx, 1, op));
  const Tensor& x = *ctx.input(0);
  const int64_t rank = static_cast<int64_t>(x.rank());
  KILN_ASSIGN_OR_RETURN(const std::vector<bool> mask,
                        axes_mask(ctx.attr_ints("axes", {0, 2, 3}), rank, op));
  const ReducePlan plan = make_reduce_plan(x.shape(), mask, true);
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x.dtype(), x.shape()));
  // ONNX defines it as (X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9); the variance here is the
  // same quantity computed as E[(X - E[X])^2], which cannot go negative through cancellation.
  return dispatch_float(x.dtype(), op, [&]<typename T>() -> Status {
    const T* in = x.data_as<T>();
    T* out = y->data_as<T>();
    const double count = static_cast<double>(plan.reduced.size());
    for (int64_t base : plan.kept) {
      double sum = 0, sq = 0;
      for (int64_t off : plan.reduced) sum += to_double(in[base + off]);
      const double mean = sum / count;
      for (int64_t off : plan.reduced) {
        const double d = to_double(in[base + off]) - mean;
        sq += d * d;
      }
      const double denom = std::sqrt(sq / count) + 1e-9;
      for (int64_t off : plan.reduced)
        out[base + off] = from_double<T>((to_double(in[base + off]) - mean) / denom);
    }
    return Status::Ok();
  });
}

}  // namespace kiln::ops::normalization
