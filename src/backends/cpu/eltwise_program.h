// cpu.eltwise's compiled form of an elementwise layer: a standalone op (Add, Relu, Gelu, …) or
// a kiln.FusedElementwise body, as a straight-line register program over float32 chunks.
//
// Registers 0 .. num_inputs-1 hold the layer's inputs; instruction k writes register
// num_inputs + k. Inputs that only parameterize an op (Clip's bounds, Pow's exponent) are read
// once per run as scalars instead of being loaded.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ir/graph.h"
#include "kiln/tensor.h"

namespace kiln::backends::cpu {

enum class EwOp : uint8_t {
  // binary
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMax,
  kMin,
  // unary
  kRelu,
  kSigmoid,
  kTanh,
  kErf,
  kExp,
  kSqrt,
  kNeg,
  kAbs,
  kHardSigmoid,  // p0 alpha, p1 beta
  kHardSwish,
  kLeakyRelu,  // p0 alpha
  kGelu,
  kGeluTanh,
  kClip,  // p0 min, p1 max (or the scalars of inputs param[0], param[1])
  kPow,   // exponent: the scalar of input param[0]; becomes one of the three below per run
  kSquare,
  kCube,
  kPowHalf,
};

inline bool is_binary(EwOp op) {
  return op <= EwOp::kMin;
}

struct EwInstr {
  EwOp op = EwOp::kAdd;
  int a = -1, b = -1;  // operand registers
  float p0 = 0, p1 = 0;
  int param[2] = {-1, -1};  // inputs read as one scalar per run (-1: none)
};

struct EwProgram {
  int num_inputs = 0;
  std::vector<EwInstr> code;
  std::vector<bool> loaded;  // per input: read as a register (else only as a parameter)
  int result = -1;           // the register holding the layer's output
  int num_registers() const { return num_inputs + static_cast<int>(code.size()); }
};

// The program for `node`, or nullopt when an op, type, attribute or operand pattern is not
// implemented. With `require_constants`, Pow's exponent must be an initializer of value 2, 0.5
// or 3 (the builder's check; at run time the value is read again from the input).
std::optional<EwProgram> compile_eltwise(const ir::Node& node, bool require_constants);

// dst[0, n) = op(a, b) for one instruction whose run-time parameters are resolved (no kPow).
void ew_apply(const EwInstr& in, const float* a, const float* b, float* dst, int64_t n);

// The exponent value of a one-element tensor of a float or integer type; nullopt otherwise.
std::optional<double> scalar_value(const Tensor& t);

}  // namespace kiln::backends::cpu
