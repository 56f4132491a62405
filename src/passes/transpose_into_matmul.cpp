// Removes Transposes in front of matrix products:
//
//   Transpose(W) with W constant, read only by MatMul/Gemm/FusedMatMul/FusedGemm
//       → W transposed once, at build time (the original's data is replaced when nothing else
//         reads it, so the engine holds one copy)
//   MatMul(Transpose(A), B) / MatMul(A, Transpose(B)), the Transpose swapping the last two dims
//       only → kiln.FusedMatMul(A, B) with transA / transB = 1
//   Gemm / FusedGemm / FusedMatMul likewise → transA / transB flipped
//
// A Transpose whose output is read by anything else stays. FusedMatMul holds float types only,
// so an integer MatMul keeps its Transpose.
#include <cstring>
#include <numeric>

#include "ops/kernel_util.h"
#include "passes/conv_matmul_util.h"

namespace kiln::passes {
namespace {

bool is_product(const ir::Node& n) {
  if (n.domain().empty()) return n.op_type() == "MatMul" || n.op_type() == "Gemm";
  return n.domain() == ops::kKilnDomain &&
         (n.op_type() == "FusedMatMul" || n.op_type() == "FusedGemm");
}

// Transpose's permutation (default: reversed dims) for an input of `rank`.
std::vector<int64_t> perm_of(const ir::Node& t, size_t rank) {
  std::vector<int64_t> perm = attr_ints(t, "perm");
  if (perm.empty()) {
    perm.resize(rank);
    std::iota(perm.rbegin(), perm.rend(), 0);
  }
  return perm;
}

// `t` holds x with perm applied: out[i0, i1, ...] = x[..] where out dim d is x dim perm[d].
std::optional<Tensor> transposed(const Tensor& x, const std::vector<int64_t>& perm) {
  const size_t r = x.rank();
  if (perm.size() != r || x.data() == nullptr) return std::nullopt;
  std::vector<int64_t> shape(r);
  for (size_t d = 0; d < r; ++d) {
    if (perm[d] < 0 || perm[d] >= static_cast<int64_t>(r)) return std::nullopt;
    shape[d] = x.shape()[static_cast<size_t>(perm[d])];
  }
  Result<Tensor> out = Tensor::allocate(x.dtype(), shape);
  const std::optional<size_t> elem = data_type_bytes(x.dtype(), 1);
  if (!out.ok() || !elem || x.dtype() == DataType::kString || !data_type_info(x.dtype()).is_float)
    return std::nullopt;
  const std::vector<int64_t> in_strides = ops::strides_of(x.shape());
  std::vector<int64_t> idx(r, 0);
  const auto* src = static_cast<const uint8_t*>(x.data());
  auto* dst = static_cast<uint8_t*>(out->data());
  for (int64_t o = 0; o < out->numel(); ++o) {
    int64_t from = 0;
    for (size_t d = 0; d < r; ++d) from += idx[d] * in_strides[static_cast<size_t>(perm[d])];
    std::memcpy(dst + o * *elem, src + from * *elem, *elem);
    for (size_t d = r; d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return std::move(out).value();
}

bool fold_constant_transpose(ir::Node& t, Editor& edit, PassContext&, std::string* why) {
  if (t.op_type() != "Transpose" || !t.domain().empty()) return false;
  ir::Value* w = t.input(0);
  ir::Value* out = t.output(0);
  const Tensor* data = constant_value(w);
  if (data == nullptr || out == nullptr || out->is_graph_output() || out->consumers().empty())
    return false;
  for (const ir::Node* c : out->consumers())
    if (!is_product(*c)) {
      *why = "its output is read by a " + c->op_type() + ", not only by matrix products";
      return false;
    }
  std::optional<Tensor> folded = transposed(*data, perm_of(t, data->rank()));
  if (!folded) {
    *why = "the constant is not a float tensor this pass can transpose";
    return false;
  }
  ir::Value* c = constant_for(edit, w, &t, std::move(*folded), w->name() + "_transposed");
  if (!edit.redirect(out, c)) return false;
  edit.remove(&t);
  drop_unread_constant(edit, w);
  return true;
}

// The input of a Transpose producing `v` that swaps exactly the last two dims, read only here.
ir::Value* swapped_source(ir::Value* v) {
  ir::Node* t = v != nullptr ? v->producer() : nullptr;
  if (t == nullptr || t->op_type() != "Transpose" || !t->domain().empty() || !single_consumer(v))
    return nullptr;
  const Dims& in = t->input(0)->type.shape;
  if (!in.rank_known() || in.rank() < 2) return nullptr;
  const size_t r = in.rank();
  std::vector<int64_t> want(r);
  std::iota(want.begin(), want.end(), 0);
  std::swap(want[r - 1], want[r - 2]);
  return perm_of(*t, r) == want ? t->input(0) : nullptr;
}

bool absorb_transposes(ir::Node& n, Editor& edit, PassContext&, std::string* why) {
  if (!is_product(n)) return false;
  ir::Value* a = swapped_source(n.input(0));
  ir::Value* b = swapped_source(n.input(1));
  if (a == nullptr && b == nullptr) return false;
  const bool plain_matmul = n.op_type() == "MatMul" && n.domain().empty();
  if (plain_matmul && !fusable_float(n.output(0), true)) {
    *why = "kiln.FusedMatMul takes float types only";
    return false;
  }
  std::vector<ir::Node*> old = {&n};
  std::vector<ir::Value*> inputs = n.inputs();
  std::vector<ir::Attribute> attrs = copy_attrs(n, {"transA", "transB"});
  int64_t ta = attr_int(n, "transA", 0), tb = attr_int(n, "transB", 0);
  if (a != nullptr) {
    old.push_back(n.input(0)->producer());
    inputs[0] = a;
    ta = 1 - ta;
  }
  if (b != nullptr) {
    old.push_back(n.input(1)->producer());
    inputs[1] = b;
    tb = 1 - tb;
  }
  if (ta != 0) attrs.push_back(ir::Attribute::make_int("transA", ta));
  if (tb != 0) attrs.push_back(ir::Attribute::make_int("transB", tb));
  const std::string op = plain_matmul ? "FusedMatMul" : n.op_type();
  const std::string domain = plain_matmul ? std::string(ops::kKilnDomain) : n.domain();
  edit.replace(old, &n, op, domain, inputs, std::move(attrs), n.domain().empty() ? n.opset() : 0);
  return true;
}

}  // namespace

std::unique_ptr<Pass> make_transpose_into_matmul() {
  return std::make_unique<RewritePass>(
      "transpose_into_matmul", std::vector<Rewrite>{
                                   {"Transpose(constant) folded", 2,
                                    [](ir::Node& n, Editor& e, PassContext& c, std::string* why) {
                                      return fold_constant_transpose(n, e, c, why);
                                    }},
                                   {"Transpose into MatMul/Gemm", 1,
                                    [](ir::Node& n, Editor& e, PassContext& c, std::string* why) {
                                      return absorb_transposes(n, e, c, why);
                                    }},
                               });
}

}  // namespace kiln::passes
