// Reduce* operators: reduction over `axes`, given as an attribute in older revisions and as an
// optional int64 input from ReduceSum-13 / the others' revision 18.
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/op_schema.h"
#include "ops/reduction_util.h"

namespace kiln::ops {

namespace {

using D = DataType;

enum class Kind { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

struct Revision {
  int64_t since;
  std::vector<DataType> types;
};

struct ReduceOp {
  const char* name;
  Kind kind;
  int64_t axes_input_since;  // first revision taking axes as an input
  std::vector<Revision> revisions;
};

// Computes one output element from the n values base[off[0..n)] (n may be 0: empty reduction).
// Floats go through double; integers wrap for Sum/Prod/SumSquare/L1 like the narrow type would,
// divide with truncation for Mean, and take L2/LogSum/LogSumExp through double.
template <typename T>
T reduce_one(Kind kind, const T* base, const int64_t* off, size_t n) {
  auto fold = [&](auto f) {
    double acc = 0;
    for (size_t i = 0; i < n; ++i) acc += f(to_double(base[off[i]]));
    return acc;
  };
  if constexpr (!is_float_v<T>) {
    using S = std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>;
    auto wrap_fold = [&](uint64_t init, auto f) {
      uint64_t acc = init;
      for (size_t i = 0; i < n; ++i)
        acc = f(acc, static_cast<uint64_t>(static_cast<S>(base[off[i]])));
      return static_cast<T>(acc);  // modular since C++20
    };
    switch (kind) {
      case Kind::kSum:
        return wrap_fold(0, [](uint64_t a, uint64_t v) { return a + v; });
      case Kind::kProd:
        return wrap_fold(1, [](uint64_t a, uint64_t v) { return a * v; });
      case Kind::kSumSquare:
        return wrap_fold(0, [](uint64_t a, uint64_t v) { return a + v * v; });
      case Kind::kL1:
        return wrap_fold(0, [](uint64_t a, uint64_t v) {
          const bool negative = std::is_signed_v<T> && static_cast<int64_t>(v) < 0;
          return a + (negative ? uint64_t{0} - v : v);
        });
      case Kind::kMean: {
        if (n == 0) return T{0};
        uint64_t sum = 0;
        for (size_t i = 0; i < n; ++i) sum += static_cast<uint64_t>(static_cast<S>(base[off[i]]));
        const S total = static_cast<S>(sum);
        return static_cast<T>(total / static_cast<S>(n));
      }
      case Kind::kMax: {
        T best = std::numeric_limits<T>::lowest();
        for (size_t i = 0; i < n; ++i) best = std::max(best, base[off[i]]);
        return best;
      }
      case Kind::kMin: {
        T best = std::numeric_limits<T>::max();
        for (size_t i = 0; i < n; ++i) best = std::min(best, base[off[i]]);
        return best;
      }
      default:
        break;  // L2, LogSum, LogSumExp: below, through double
    }
  }
  switch (kind) {
    case Kind::kSum:
      return from_double<T>(fold([](double v) { return v; }));
    case Kind::kMean:
      return from_double<T>(n == 0 ? std::numeric_limits<double>::quiet_NaN()
                                   : fold([](double v) { return v; }) / static_cast<double>(n));
    case Kind::kProd: {
      double acc = 1;
      for (size_t i = 0; i < n; ++i) acc *= to_double(base[off[i]]);
      return from_double<T>(acc);
    }
    case Kind::kMax:
    case Kind::kMin: {
      // NaN propagates, as in NumPy and ONNX Runtime.
      const bool is_max = kind == Kind::kMax;
      double best = is_max ? -INFINITY : INFINITY;
      for (size_t i = 0; i < n; ++i) {
        const double v = to_double(base[off[i]]);
        if (std::isnan(v)) return from_double<T>(v);
        best = is_max ? std::max(best, v) : std::min(best, v);
      }
      return from_double<T>(best);
    }
    case Kind::kL1:
      return from_double<T>(fold([](double v) { return std::fabs(v); }));
    case Kind::kL2:
      return from_double<T>(std::sqrt(fold([](double v) { return v * v; })));
    case Kind::kSumSquare:
      return from_double<T>(fold([](double v) { return v * v; }));
    case Kind::kLogSum:
      return from_double<T>(std::log(fold([](double v) { return v; })));
    case Kind::kLogSumExp: {
      // Shift by the largest finite value so exp cannot overflow; infinities pass through exp.
      double shift = -INFINITY;
      for (size_t i = 0; i < n; ++i) {
        const double v = to_double(base[off[i]]);
        if (std::isfinite(v)) shift = std::max(shift, v);
      }
      if (!std::isfinite(shift)) shift = 0;
      return from_double<T>(shift + std::log(fold([&](double v) { return std::exp(v - shift); })));
    }
  }
  return T{};
}

Status run_reduce(KernelContext& ctx, Kind kind, const char* name, bool axes_from_input) {
  const Tensor* x = ctx.input(0);
  if (x == nullptr) return err(Code::kInvalidArgument, name, " needs its data input");
  const int64_t rank = static_cast<int64_t>(x->rank());
  std::vector<int64_t> axes;
  bool noop = false;
  if (axes_from_input) {
    if (const Tensor* a = ctx.input(1)) {
      if (a->rank() > 1)
        return err(Code::kInvalidArgument, name, " axes must be 1-D, got shape ",
                   shape_string(a->shape()));
      KILN_ASSIGN_OR_RETURN(axes, read_int_values(*a, str(name, " axes")));
    }
    noop = ctx.attr_int("noop_with_empty_axes") != 0;
  } else {
    axes = ctx.attr_ints("axes");
  }
  std::vector<bool> mask(static_cast<size_t>(rank), !noop);
  if (!axes.empty()) {
    KILN_ASSIGN_OR_RETURN(mask, axes_mask(axes, rank, name));
  }
  const ReducePlan plan = make_reduce_plan(x->shape(), mask, ctx.attr_int("keepdims", 1) != 0);
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), plan.out_shape));
  return dispatch_numeric(x->dtype(), name, [&]<typename T>() -> Status {
    if constexpr (std::is_same_v<T, bool>) {
      // ReduceMax/Min-20 take bool (False < True): any / all.
      if (kind != Kind::kMax && kind != Kind::kMin)
        return err(Code::kTypeUnsupported, name, " has no reference kernel for bool");
      const bool* in = x->data_as<bool>();
      bool* out = y->data_as<bool>();
      for (size_t o = 0; o < plan.kept.size(); ++o) {
        bool r = kind == Kind::kMin;
        for (int64_t off : plan.reduced)
          r = kind == Kind::kMax ? (r || in[plan.kept[o] + off]) : (r && in[plan.kept[o] + off]);
        out[o] = r;
      }
      return Status::Ok();
    } else {
      const T* in = x->data_as<T>();
      T* out = y->data_as<T>();
      for (size_t o = 0; o < plan.kept.size(); ++o)
        out[o] = reduce_one<T>(kind, in + plan.kept[o], plan.reduced.data(), plan.reduced.size());
      return Status::Ok();
    }
  });
}

// Reduced axes become 1 (keepdims) or disappear; no axes reduce everything unless
// noop_with_empty_axes (18+ / ReduceSum-13) makes it the identity.
Status reduce_infer(InferContext& ctx, bool axes_input) {
  const Dims& in = ctx.input_shape(0);
  std::optional<std::vector<int64_t>> axes;
  if (!axes_input)
    axes = ctx.attr_ints("axes");
  else if (!ctx.has_input(1))
    axes = std::vector<int64_t>{};
  else
    axes = ctx.input_ints(1);
  const bool keep = ctx.attr_int("keepdims", 1) == 1;
  if (!in.rank_known() || !axes) {
    ctx.set_output_shape(0,
                         in.rank_known() && keep ? unknown_dims(in.rank()) : Dims::unknown_rank());
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(in.rank());
  std::vector<bool> reduce(in.rank(), axes->empty());
  if (axes->empty() && axes_input && ctx.attr_int("noop_with_empty_axes", 0) == 1)
    reduce.assign(in.rank(), false);
  for (int64_t a : *axes) {
    KILN_ASSIGN_OR_RETURN(const int64_t k, infer_axis(a, rank, ctx.node().op_type()));
    reduce[k] = true;
  }
  std::vector<Dim> out;
  for (size_t k = 0; k < in.rank(); ++k) {
    if (!reduce[k])
      out.push_back(in[k]);
    else if (keep)
      out.push_back(Dim::fixed(1));
  }
  ctx.set_output_shape(0, Dims(std::move(out)));
  return Status::Ok();
}

}  // namespace

void register_reduce(OpRegistry& registry) {
  using ir::AttrType;
  const std::vector<DataType> base = {D::kUInt32,  D::kUInt64,  D::kInt32,  D::kInt64,
                                      D::kFloat16, D::kFloat32, D::kFloat64};
  const auto bf16 = type_sets::with(base, {D::kBFloat16});
  const std::vector<Revision> common = {{1, base}, {11, base}, {13, bf16}, {18, bf16}};
  // ReduceMax/Min add 8-bit integers at 12 and bool at 20.
  const auto minmax12 = type_sets::with(base, {D::kUInt8, D::kInt8});
  const auto minmax13 = type_sets::with(minmax12, {D::kBFloat16});
  const std::vector<Revision> minmax = {
      {1, base},      {11, base},     {12, minmax12},
      {13, minmax13}, {18, minmax13}, {20, type_sets::with(minmax13, {D::kBool})}};

  const std::vector<ReduceOp> ops = {
      {"ReduceSum", Kind::kSum, 13, {{1, base}, {11, base}, {13, bf16}}},
      {"ReduceMean", Kind::kMean, 18, common},
      {"ReduceMax", Kind::kMax, 18, minmax},
      {"ReduceMin", Kind::kMin, 18, minmax},
      {"ReduceProd", Kind::kProd, 18, common},
      {"ReduceL1", Kind::kL1, 18, common},
      {"ReduceL2", Kind::kL2, 18, common},
      {"ReduceLogSum", Kind::kLogSum, 18, common},
      {"ReduceLogSumExp", Kind::kLogSumExp, 18, common},
      {"ReduceSumSquare", Kind::kSumSquare, 18, common},
  };
  for (const ReduceOp& op : ops) {
    for (const Revision& rev : op.revisions) {
      OpSchema s(op.name, rev.since);
      s.input("data", "T");
      if (rev.since >= op.axes_input_since) {
        // Empty or absent axes reduce over all dims unless noop_with_empty_axes is set.
        s.input("axes", "I", Arity::kOptional)
            .types("I", {D::kInt64})
            .attr_int_enum("noop_with_empty_axes", 0, {0, 1});
      } else {
        s.attr("axes", AttrType::kInts);
      }
      s.output("reduced", "T")
          .types("T", rev.types)
          .attr_int_enum("keepdims", 1, {0, 1})
          .fusion(FusionKind::kReduction)
          .kernel([kind = op.kind, name = op.name, axes_input = rev.since >= op.axes_input_since](
                      KernelContext& ctx) { return run_reduce(ctx, kind, name, axes_input); })
          .infer([axes_input = rev.since >= op.axes_input_since](InferContext& ctx) {
            return reduce_infer(ctx, axes_input);
          });
      registry.add(std::move(s));
    }
  }
}

}  // namespace kiln::ops
