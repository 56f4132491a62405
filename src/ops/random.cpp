// Random generators: RandomUniform, RandomNormal, RandomUniformLike, RandomNormalLike, Bernoulli
// and Multinomial.
//
// ONNX does not define the generator, so no two runtimes agree on the values; kiln uses
// std::mt19937_64 (fully specified by the C++ standard) with its own uniform and normal
// transforms (the std:: distributions are implementation-defined), so a seeded node gives the
// same values on every platform. The generator's state is the seed attribute's bit pattern;
// without a seed each run draws a fresh one, as ONNX asks ("we will auto generate one"). These
// nodes are not pure functions of their inputs: nothing may constant-fold or deduplicate them.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "ops/elementwise_util.h"
#include "ops/kernel_util.h"
#include "ops/movement_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

class Generator {
 public:
  explicit Generator(const KernelContext& ctx) {
    if (ctx.has_attr("seed")) {
      const float seed = ctx.attr_float("seed");
      uint32_t bits = 0;
      std::memcpy(&bits, &seed, sizeof bits);
      engine_.seed(bits);
    } else {
      std::random_device device;
      engine_.seed((uint64_t{device()} << 32) | device());
    }
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Standard normal by Box-Muller; 1 - u keeps the logarithm's argument in (0, 1].
  double normal() {
    const double r = std::sqrt(-2.0 * std::log(1.0 - uniform()));
    return r * std::cos(2.0 * std::numbers::pi * uniform());
  }

 private:
  std::mt19937_64 engine_;
};

// The output type: the dtype attribute when set (it must be one of `var`'s types), else
// `fallback` (the input's type for the *Like ops), which must be one of them too.
Result<DataType> output_type(const KernelContext& ctx, std::string_view op, const char* var,
                             DataType fallback) {
  const TypeConstraint* allowed = ctx.schema().find_types(var);
  const bool given = ctx.has_attr("dtype");
  const int64_t v = given ? ctx.attr_int("dtype") : static_cast<int64_t>(fallback);
  if (allowed != nullptr)
    for (DataType t : allowed->types)
      if (static_cast<int64_t>(t) == v) return t;
  if (given)
    return err(Code::kAttributeValueUnsupported, op, " dtype ", v, " is not a type ", op,
               " produces");
  return err(Code::kTypeUnsupported, op, " without a dtype attribute produces the input's type, ",
             data_type_name(fallback), ", which it cannot produce");
}

void check_dtype(const ir::Node& node, const OpSchema& schema, std::vector<Status>& problems) {
  const ir::Attribute* a = node.attr("dtype");
  const std::string var = schema.outputs().empty() ? "" : schema.outputs()[0].type_var;
  const TypeConstraint* allowed = schema.find_types(var);
  if (a == nullptr || allowed == nullptr) return;
  std::string names;
  for (DataType t : allowed->types) {
    if (static_cast<int64_t>(t) == a->i) return;
    names += str(names.empty() ? "" : ", ", static_cast<int>(t), " (", data_type_name(t), ")");
  }
  problems.push_back(err(Code::kAttributeValueUnsupported, "attribute 'dtype' = ", a->i,
                         " (allowed: ", names, ")"));
}

// Fills output 0 (shape, dtype) with draw() values, converted like Cast.
template <typename F>
Status fill(KernelContext& ctx, std::string_view op, DataType dtype, std::vector<int64_t> shape,
            F&& draw) {
  KILN_RETURN_IF_ERROR(check_output_shape(shape, op));
  return dispatch_numeric(dtype, op, [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, dtype, std::move(shape)));
    T* dst = y->data_as<T>();
    for (int64_t i = 0; i < y->numel(); ++i) dst[i] = elementwise::convert<T>(draw(i));
    return Status::Ok();
  });
}

Status uniform_common(KernelContext& ctx, std::string_view op, DataType dtype,
                      std::vector<int64_t> shape) {
  const double low = ctx.attr_float("low", 0.0f), high = ctx.attr_float("high", 1.0f);
  if (!(low <= high) || !std::isfinite(low) || !std::isfinite(high))
    return err(Code::kInvalidArgument, op, " needs finite low <= high, got ", low, " and ", high);
  Generator gen(ctx);
  return fill(ctx, op, dtype, std::move(shape),
              [&](int64_t) { return low + (high - low) * gen.uniform(); });
}

Status normal_common(KernelContext& ctx, std::string_view op, DataType dtype,
                     std::vector<int64_t> shape) {
  const double mean = ctx.attr_float("mean", 0.0f), scale = ctx.attr_float("scale", 1.0f);
  if (!std::isfinite(mean) || !std::isfinite(scale) || scale < 0)
    return err(Code::kInvalidArgument, op, " needs a finite mean and scale >= 0, got ", mean,
               " and ", scale);
  Generator gen(ctx);
  return fill(ctx, op, dtype, std::move(shape),
              [&](int64_t) { return mean + scale * gen.normal(); });
}

Result<std::vector<int64_t>> shape_attr(const KernelContext& ctx, std::string_view op) {
  if (!ctx.has_attr("shape")) return err(Code::kInvalidArgument, op, " needs attribute 'shape'");
  std::vector<int64_t> shape = ctx.attr_ints("shape");
  KILN_RETURN_IF_ERROR(check_output_shape(shape, op));
  return shape;
}

Status random_uniform_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> shape, shape_attr(ctx, "RandomUniform"));
  KILN_ASSIGN_OR_RETURN(const DataType dtype, output_type(ctx, "RandomUniform", "T", D::kFloat32));
  return uniform_common(ctx, "RandomUniform", dtype, std::move(shape));
}

Status random_normal_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> shape, shape_attr(ctx, "RandomNormal"));
  KILN_ASSIGN_OR_RETURN(const DataType dtype, output_type(ctx, "RandomNormal", "T", D::kFloat32));
  return normal_common(ctx, "RandomNormal", dtype, std::move(shape));
}

Status random_uniform_like_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "RandomUniformLike", "input"));
  KILN_ASSIGN_OR_RETURN(const DataType dtype,
                        output_type(ctx, "RandomUniformLike", "T2", x->dtype()));
  return uniform_common(ctx, "RandomUniformLike", dtype, x->shape());
}

Status random_normal_like_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "RandomNormalLike", "input"));
  KILN_ASSIGN_OR_RETURN(const DataType dtype,
                        output_type(ctx, "RandomNormalLike", "T2", x->dtype()));
  return normal_common(ctx, "RandomNormalLike", dtype, x->shape());
}

// Reads every element of a float tensor as double.
Result<std::vector<double>> float_values(const Tensor& t, std::string_view op) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  KILN_RETURN_IF_ERROR(dispatch_float(t.dtype(), op, [&]<typename T>() -> Status {
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<double>(static_cast<compute_t<T>>(t.data_as<T>()[i]));
    return Status::Ok();
  }));
  return v;
}

Status bernoulli_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "Bernoulli";
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op, "input"));
  KILN_ASSIGN_OR_RETURN(const std::vector<double> p, float_values(*x, op));
  for (size_t i = 0; i < p.size(); ++i)
    if (!(p[i] >= 0.0 && p[i] <= 1.0))
      return err(Code::kInvalidArgument, op, " probability ", p[i], " at element ", i,
                 " is outside [0, 1]");
  KILN_ASSIGN_OR_RETURN(const DataType dtype, output_type(ctx, op, "T2", x->dtype()));
  Generator gen(ctx);
  // u < p is 1 with probability p: never for p = 0, always for p = 1.
  return fill(ctx, op, dtype, x->shape(),
              [&](int64_t i) { return gen.uniform() < p[static_cast<size_t>(i)] ? 1.0 : 0.0; });
}

Status multinomial_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "Multinomial";
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op, "input"));
  if (x->rank() != 2)
    return err(Code::kInvalidArgument, op, " input ", shape_str(x->shape()),
               " must have shape [batch_size, class_size]");
  const int64_t batch = x->shape()[0], classes = x->shape()[1];
  const int64_t samples = ctx.attr_int("sample_size", 1);
  if (samples < 0)
    return err(Code::kInvalidArgument, op, " sample_size ", samples, " must be >= 0");
  KILN_ASSIGN_OR_RETURN(const std::vector<double> logits, float_values(*x, op));
  KILN_ASSIGN_OR_RETURN(const DataType dtype, output_type(ctx, op, "T2", D::kInt32));
  // Each row's cumulative distribution from the unnormalized log-probabilities (a softmax;
  // subtracting the row maximum keeps exp() in range). -inf means probability 0.
  std::vector<double> cdf(static_cast<size_t>(batch * classes));
  for (int64_t b = 0; b < batch; ++b) {
    const double* row = logits.data() + b * classes;
    double top = -INFINITY;
    for (int64_t c = 0; c < classes; ++c) {
      if (std::isnan(row[c]) || row[c] == INFINITY)
        return err(Code::kInvalidArgument, op, " log-probability ", row[c], " in row ", b,
                   " is not a number below +inf");
      top = std::max(top, row[c]);
    }
    if (top == -INFINITY)
      return err(Code::kInvalidArgument, op, " row ", b,
                 " gives every class probability 0 (all log-probabilities are -inf or there "
                 "are no classes)");
    double sum = 0;
    for (int64_t c = 0; c < classes; ++c) {
      sum += std::exp(row[c] - top);
      cdf[static_cast<size_t>(b * classes + c)] = sum;
    }
    for (int64_t c = 0; c < classes; ++c) cdf[static_cast<size_t>(b * classes + c)] /= sum;
  }
  Generator gen(ctx);
  return fill(ctx, op, dtype, {batch, samples}, [&](int64_t i) {
    const double* row = cdf.data() + (i / std::max<int64_t>(samples, 1)) * classes;
    const double u = gen.uniform();
    // The first class whose cumulative probability exceeds u; rounding can leave the last
    // cumulative value a hair under 1, so fall back to the last class with probability > 0.
    int64_t c = 0;
    while (c < classes - 1 && !(u < row[c])) ++c;
    while (c > 0 && row[c] == row[c - 1]) --c;
    return static_cast<double>(c);
  });
}

}  // namespace

void register_random(OpRegistry& registry) {
  // All revisions in kiln's range date from opset 1 (Bernoulli 15, Multinomial 7); 22 only
  // adds bfloat16. Opaque: the values are not a function of the inputs.
  const std::vector<DataType> floats = type_sets::ieee_floats();
  registry.add(OpSchema("RandomUniform", 1)
                   .output("output", "T")
                   .types("T", floats)
                   .required_attr("shape", AttrType::kInts)
                   .attr("dtype", AttrType::kInt, int64_t{1})
                   .attr("seed", AttrType::kFloat)
                   .attr("high", AttrType::kFloat, 1.0f)
                   .attr("low", AttrType::kFloat, 0.0f)
                   .check(check_dtype)
                   .fusion(FusionKind::kOpaque)
                   .kernel(random_uniform_kernel));
  registry.add(OpSchema("RandomNormal", 1)
                   .output("output", "T")
                   .types("T", floats)
                   .required_attr("shape", AttrType::kInts)
                   .attr("dtype", AttrType::kInt, int64_t{1})
                   .attr("seed", AttrType::kFloat)
                   .attr("scale", AttrType::kFloat, 1.0f)
                   .attr("mean", AttrType::kFloat, 0.0f)
                   .check(check_dtype)
                   .fusion(FusionKind::kOpaque)
                   .kernel(random_normal_kernel));
  // The *Like ops only read the input's shape (and type), so any element type will do.
  std::vector<DataType> any =
      type_sets::with(type_sets::numeric(), {D::kString, D::kBool, D::kComplex64, D::kComplex128});
  std::erase(any, D::kBFloat16);  // ONNX adds bfloat16 at 22
  registry.add(OpSchema("RandomUniformLike", 1)
                   .input("input", "T1")
                   .output("output", "T2")
                   .types("T1", any)
                   .types("T2", floats)
                   .attr("dtype", AttrType::kInt)
                   .attr("seed", AttrType::kFloat)
                   .attr("high", AttrType::kFloat, 1.0f)
                   .attr("low", AttrType::kFloat, 0.0f)
                   .check(check_dtype)
                   .fusion(FusionKind::kOpaque)
                   .kernel(random_uniform_like_kernel));
  registry.add(OpSchema("RandomNormalLike", 1)
                   .input("input", "T1")
                   .output("output", "T2")
                   .types("T1", any)
                   .types("T2", floats)
                   .attr("dtype", AttrType::kInt)
                   .attr("seed", AttrType::kFloat)
                   .attr("scale", AttrType::kFloat, 1.0f)
                   .attr("mean", AttrType::kFloat, 0.0f)
                   .check(check_dtype)
                   .fusion(FusionKind::kOpaque)
                   .kernel(random_normal_like_kernel));
  registry.add(OpSchema("Bernoulli", 15)
                   .input("input", "T1")
                   .output("output", "T2")
                   .types("T1", floats)
                   .types("T2", type_sets::with(type_sets::numeric(), {D::kBool}))
                   .attr("dtype", AttrType::kInt)
                   .attr("seed", AttrType::kFloat)
                   .check(check_dtype)
                   .fusion(FusionKind::kOpaque)
                   .kernel(bernoulli_kernel));
  registry.add(OpSchema("Multinomial", 7)
                   .input("input", "T1")
                   .output("output", "T2")
                   .types("T1", floats)
                   .types("T2", type_sets::index())
                   .attr("dtype", AttrType::kInt, int64_t{6})
                   .attr("seed", AttrType::kFloat)
                   .attr("sample_size", AttrType::kInt, int64_t{1})
                   .check(check_dtype)
                   .fusion(FusionKind::kOpaque)
                   .kernel(multinomial_kernel));
}

}  // namespace kiln::ops
