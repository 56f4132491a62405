// What the conv / matmul fusion passes (conv_bn_fold, transpose_into_matmul, matmul_add_fusion,
// conv_activation_fusion) share: constants read and rewritten as numbers, the activations they
// recognise (with their parameters, in the form kiln's fused ops take), and the "linear layer"
// match MatMul + bias.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors.h"
#include "ops/activation_functions.h"
#include "ops/op_schema.h"
#include "passes/patterns.h"
#include "passes/rewrite.h"

namespace kiln::passes {

// ---- constants as numbers ---------------------------------------------------------------------

// The data of a floating-point constant as doubles; nullopt for anything else.
std::optional<std::vector<double>> float_constant(const ir::Value* v);

// `values` rounded to `dtype` (a floating type); nullopt when one does not stay finite there (a
// fold must not overflow float16).
std::optional<Tensor> float_tensor(DataType dtype, std::vector<int64_t> shape,
                                   const std::vector<double>& values);

// A constant holding `t` for `reader` to read instead of `old`. When `old` is an initializer that
// only `reader` reads, its data is replaced in place (the engine keeps no stale copy and the name
// stays); otherwise a new initializer named after `base`.
ir::Value* constant_for(Editor& edit, ir::Value* old, const ir::Node* reader, Tensor t,
                        std::string_view base);

// Removes the Constant node producing `v` once nothing reads it (after a rewrite took its data).
void drop_unread_constant(Editor& edit, const ir::Value* v);

// Whether `v` is read by exactly these nodes (each once) and is no graph output.
bool read_only_by(const ir::Value* v, const std::vector<const ir::Node*>& readers);

// A float type the fused ops take: f16, f32, f64 (and bf16 when `bf16`).
bool fusable_float(const ir::Value* v, bool bf16);

// `x` is the constant `want` (any float/int dtype, one element) within relative `tol`.
bool is_scalar(const ir::Value* x, double want, double tol = 1e-6);

// ---- activations ------------------------------------------------------------------------------

// An activation found at the end of a chain: `root` computes it, `nodes` are all the nodes it
// consists of (root included), `input` is the value it is applied to.
struct ActivationMatch {
  ops::ActivationSpec spec;
  ir::Node* root = nullptr;
  std::vector<ir::Node*> nodes;
  ir::Value* input = nullptr;
};

// Recognises `root` as the last node of an activation: Relu, Clip (constant bounds), Sigmoid,
// HardSigmoid, HardSwish, LeakyRelu, Tanh, Gelu (ai.onnx, opset 20), and SiLU written as
// Mul(x, Sigmoid(x)) (also Sigmoid(Mul(x, 1)), as Paddle exports swish). Inner values of a
// multi-node activation must be read only inside it; `input` may have other readers.
std::optional<ActivationMatch> match_activation(ir::Node& root, std::string* why);

// Whether every node reading `x` belongs to the activation (so the producer of x can absorb it).
bool activation_reads_all_of(const ActivationMatch& m, const ir::Value* x);

// The `activation` / `activation_params` attributes of a fused op.
std::vector<ir::Attribute> activation_attrs(const ops::ActivationSpec& spec);

// A kiln fused node without an activation yet (activation attribute absent or "").
bool has_no_activation(const ir::Node& n);

// ---- linear layer -----------------------------------------------------------------------------

// Add(MatMul(A, W), bias) with W and bias constant, bias varying along the last dim only (shape
// [N] or [1, ..., 1, N], or one element), the product read only by the Add: the "linear" layer.
// Also accepts a kiln FusedMatMul (no bias, no activation yet) as the product.
struct LinearMatch {
  ir::Node* add = nullptr;
  ir::Node* matmul = nullptr;
  ir::Value* bias = nullptr;
};
std::optional<LinearMatch> match_linear(ir::Node& add, std::string* why);

}  // namespace kiln::passes
