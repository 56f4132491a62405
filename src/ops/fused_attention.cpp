// kiln::Attention — multi-head scaled dot-product attention, the op attention_fusion
// (src/passes/attention_fusion.cpp) turns the exporters' MatMul/Softmax blocks into.
//
//   Q [B, Sq, H*D], K [B, Sk, H*D], V [B, Sk, H*Dv], mask? (broadcastable to [B, H, Sq, Sk])
//   for every batch b, head h, query i:
//     s[j] = scale * <Q[b,i,h], K[b,j,h]>
//     s[j] = lowest      where causal and j > i + (Sk - Sq)   (the exporters' Where fill)
//     s[j] = s[j] + mask[b,h,i,j]
//     Y[b,i,h] = sum_j softmax(s)[j] * V[b,j,h]
//   Y [B, Sq, H*Dv]
//
// The projections (and their biases) stay outside: Q, K and V are the values the exporters
// reshaped into heads. The reference kernel rounds to T after each step the unfused graph
// rounds at (scores, scaled scores, masked scores, probabilities), so an engine's fused layer
// and the ONNX graph agree to the last bit wherever they can (fully masked rows included).
#include <cmath>
#include <limits>
#include <vector>

#include "core/errors.h"
#include "ops/kernel_util.h"
#include "ops/op_schema.h"
#include "ops/reduction_util.h"

namespace kiln::ops {

namespace {

constexpr const char* kOp = "Attention";

// The most negative finite value of T, in T's compute type: what the exporters fill masked
// scores with (torch.finfo(dtype).min).
template <typename T>
compute_t<T> lowest_of() {
  if constexpr (std::is_same_v<T, Half>) {
    return -65504.0f;
  } else if constexpr (std::is_same_v<T, BFloat16>) {
    return BFloat16::to_float(0xFF7F);  // rounding float's lowest to bfloat16 gives -inf
  } else {
    return std::numeric_limits<T>::lowest();
  }
}

// A value rounded to T and back: one op of the unfused graph stores its result as T.
template <typename T>
compute_t<T> round_to(compute_t<T> v) {
  return static_cast<compute_t<T>>(T(v));
}

struct Sizes {
  int64_t batch = 0, q_len = 0, k_len = 0, heads = 0, head = 0, v_head = 0;
};

Result<Sizes> check_sizes(const Tensor& q, const Tensor& k, const Tensor& v, int64_t heads) {
  if (q.rank() != 3 || k.rank() != 3 || v.rank() != 3)
    return err(Code::kInvalidArgument, kOp, " needs Q, K and V of rank 3 ([batch, sequence, ",
               "heads*head_size]), got ", shape_string(q.shape()), ", ", shape_string(k.shape()),
               ", ", shape_string(v.shape()));
  if (heads <= 0)
    return err(Code::kInvalidArgument, kOp, " attribute num_heads = ", heads, " must be positive");
  Sizes s;
  s.batch = q.shape()[0];
  s.q_len = q.shape()[1];
  s.k_len = k.shape()[1];
  s.heads = heads;
  if (k.shape()[0] != s.batch || v.shape()[0] != s.batch || v.shape()[1] != s.k_len ||
      k.shape()[2] != q.shape()[2])
    return err(Code::kIncompatibleShapes, kOp, " Q ", shape_string(q.shape()), ", K ",
               shape_string(k.shape()), " and V ", shape_string(v.shape()),
               " disagree (K must match Q's batch and hidden size, V K's batch and length)");
  if (q.shape()[2] % heads != 0 || v.shape()[2] % heads != 0)
    return err(Code::kIncompatibleShapes, kOp, " hidden sizes ", q.shape()[2], " (Q) and ",
               v.shape()[2], " (V) must be multiples of num_heads = ", heads);
  s.head = q.shape()[2] / heads;
  s.v_head = v.shape()[2] / heads;
  return s;
}

template <typename T>
void attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask,
            const std::vector<int64_t>& scores_shape, const Sizes& s, double scale, bool causal,
            Tensor& y) {
  using C = compute_t<T>;
  const T* qd = q.data_as<T>();
  const T* kd = k.data_as<T>();
  const T* vd = v.data_as<T>();
  T* yd = y.data_as<T>();
  const T* md = mask != nullptr ? mask->data_as<T>() : nullptr;
  const std::vector<int64_t> no_mask_shape = {1};
  const BroadcastIndexer mask_index(mask != nullptr ? mask->shape() : no_mask_shape, scores_shape);
  const int64_t hq = s.heads * s.head, hv = s.heads * s.v_head;
  const C scale_c = static_cast<C>(scale);
  std::vector<double> p(static_cast<size_t>(s.k_len));
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t h = 0; h < s.heads; ++h)
      for (int64_t i = 0; i < s.q_len; ++i) {
        const T* qrow = qd + (b * s.q_len + i) * hq + h * s.head;
        double best = -INFINITY;
        for (int64_t j = 0; j < s.k_len; ++j) {
          const T* krow = kd + (b * s.k_len + j) * hq + h * s.head;
          double dot = 0;
          for (int64_t d = 0; d < s.head; ++d) dot += to_double(qrow[d]) * to_double(krow[d]);
          C score = round_to<T>(round_to<T>(static_cast<C>(dot)) * scale_c);
          if (causal && j > i + (s.k_len - s.q_len)) score = lowest_of<T>();
          if (md != nullptr) {
            const int64_t at = ((b * s.heads + h) * s.q_len + i) * s.k_len + j;
            score = round_to<T>(score + static_cast<C>(md[mask_index(at)]));
          }
          p[static_cast<size_t>(j)] = static_cast<double>(score);
          // NaN never compares greater: a row of -inf gives NaN, as Softmax does.
          if (j == 0 || p[static_cast<size_t>(j)] > best) best = p[static_cast<size_t>(j)];
        }
        double sum = 0;
        for (double& e : p) {
          e = std::exp(e - best);
          sum += e;
        }
        for (double& e : p) e = to_double(from_double<T>(e / sum));
        T* out = yd + (b * s.q_len + i) * hv + h * s.v_head;
        for (int64_t e = 0; e < s.v_head; ++e) {
          double acc = 0;
          for (int64_t j = 0; j < s.k_len; ++j)
            acc += p[static_cast<size_t>(j)] *
                   to_double(vd[(b * s.k_len + j) * hv + h * s.v_head + e]);
          out[e] = from_double<T>(acc);
        }
      }
}

Status attention_kernel(KernelContext& ctx) {
  const Tensor* q = ctx.input(0);
  const Tensor* k = ctx.input(1);
  const Tensor* v = ctx.input(2);
  const Tensor* mask = ctx.input(3);
  if (q == nullptr || k == nullptr || v == nullptr)
    return err(Code::kInvalidArgument, kOp, " needs Q, K and V");
  for (const Tensor* t : {k, v, mask})
    if (t != nullptr && t->dtype() != q->dtype())
      return err(Code::kTypeUnsupported, kOp, " needs Q, K, V and mask of one type, got ",
                 data_type_name(q->dtype()), " and ", data_type_name(t->dtype()));
  KILN_ASSIGN_OR_RETURN(const Sizes s, check_sizes(*q, *k, *v, ctx.attr_int("num_heads")));
  const std::vector<int64_t> scores_shape = {s.batch, s.heads, s.q_len, s.k_len};
  if (mask != nullptr) {
    KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> b,
                          broadcast_shapes({mask->shape(), scores_shape}, kOp));
    if (b != scores_shape)
      return err(Code::kIncompatibleShapes, kOp, " mask of shape ", shape_string(mask->shape()),
                 " does not broadcast to the scores' shape ", shape_string(scores_shape),
                 " [batch, heads, query length, key length]");
  }
  const double scale = ctx.has_attr("scale") ? ctx.attr_float("scale")
                                             : 1.0 / std::sqrt(static_cast<double>(s.head));
  const bool causal = ctx.attr_int("causal", 0) != 0;
  KILN_ASSIGN_OR_RETURN(Tensor * y,
                        ctx.allocate_output(0, q->dtype(), {s.batch, s.q_len, s.heads * s.v_head}));
  return dispatch_float(q->dtype(), kOp, [&]<typename T>() -> Status {
    attend<T>(*q, *k, *v, mask, scores_shape, s, scale, causal, *y);
    return Status::Ok();
  });
}

// Y is [Q's batch, Q's length, V's hidden size]; static sizes that contradict are refused.
Status attention_infer(InferContext& ctx) {
  const Dims& q = ctx.input_shape(0);
  const Dims& k = ctx.input_shape(1);
  const Dims& v = ctx.input_shape(2);
  const int64_t heads = ctx.attr_int("num_heads");
  if (heads <= 0)
    return err(Code::kInvalidArgument, kOp, " attribute num_heads = ", heads, " must be positive");
  for (const Dims* d : {&q, &k, &v})
    if (d->rank_known() && d->rank() != 3)
      return err(Code::kInvalidArgument, kOp, " needs Q, K and V of rank 3, got ", d->to_string());
  if (!q.rank_known() || !v.rank_known()) {
    ctx.set_output(0, ctx.input_dtype(0), unknown_dims(3));
    return Status::Ok();
  }
  for (const Dim* d : {&q[2], &v[2]})
    if (d->is_static() && d->value % heads != 0)
      return err(Code::kIncompatibleShapes, kOp, " hidden size ", d->value,
                 " is not a multiple of num_heads = ", heads);
  if (k.rank_known() && q[2].is_static() && k[2].is_static() && q[2].value != k[2].value)
    return err(Code::kIncompatibleShapes, kOp, " Q ", q.to_string(), " and K ", k.to_string(),
               " differ in hidden size");
  ctx.set_output(0, ctx.input_dtype(0), Dims({q[0], q[1], v[2]}));
  return Status::Ok();
}

}  // namespace

void register_fused_attention(OpRegistry& registry) {
  using D = DataType;
  registry.add(OpSchema("Attention", kKilnOpset, std::string(kKilnDomain))
                   .input("Q", "T")
                   .input("K", "T")
                   .input("V", "T")
                   .input("mask", "T", Arity::kOptional)
                   .output("Y", "T")
                   // The types fused attention kernels are written for; float64 graphs keep
                   // their unfused form (attention_fusion leaves them alone).
                   .types("T", {D::kFloat16, D::kBFloat16, D::kFloat32})
                   .required_attr("num_heads", ir::AttrType::kInt)
                   .attr("scale", ir::AttrType::kFloat)  // absent: 1/sqrt(head size)
                   .attr_int_enum("causal", 0, {0, 1})
                   .doc("multi-head attention: softmax(scale*Q*K^T [causal] + mask) * V per head")
                   .fusion(FusionKind::kOpaque)
                   .kernel(attention_kernel)
                   .infer(attention_infer));
}

}  // namespace kiln::ops
