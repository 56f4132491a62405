// Row-major GEMM through cuBLASLt with a fused epilogue: C[m,n] = epi(A[m,k] · B + bias[n]),
// B given [k,n] or transposed [n,k] (a linear layer's weights). The operands are float32,
// float16 or bfloat16 (C the same type), accumulated in float32; kFp32 keeps full float32 math,
// kTf32 lets the tensor cores round the operands to tf32 (a flag, as TensorRT's).
//
// cuBLASLt is column-major: a row-major C = A·B is computed as the column-major Cᵀ = Bᵀ·Aᵀ,
// which reads the same memory; the epilogue's bias then runs along Cᵀ's rows, i.e. per output
// feature n, as a linear layer's bias does. The heuristic's candidate algorithms are the
// tactics the autotuner can time; run() takes one by index.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "kiln/status.h"

namespace kiln::cuda {

enum class MathMode { kFp32, kTf32, kFp16, kBf16 };
enum class GemmEpilogue { kNone, kBias, kBiasRelu, kBiasGeluTanh };

struct GemmDesc {
  int64_t m = 0, n = 0, k = 0;
  bool trans_b = false;  // B is [n, k]
  MathMode math = MathMode::kFp32;
  GemmEpilogue epilogue = GemmEpilogue::kNone;
};

// Bytes per element of the operands for `math`.
size_t element_bytes(MathMode math);

class LtGemm {
 public:
  // Up to `max_algos` heuristic candidates needing at most `workspace_bytes`.
  static Result<std::unique_ptr<LtGemm>> create(const GemmDesc& d, uint64_t workspace_bytes,
                                                int max_algos = 8);
  ~LtGemm();
  LtGemm(const LtGemm&) = delete;
  LtGemm& operator=(const LtGemm&) = delete;

  int num_algos() const { return static_cast<int>(algos_.size()); }
  uint64_t workspace_bytes() const { return workspace_bytes_; }
  // The bias epilogue's n elements (the operand type), in device memory: a layer's constant,
  // set once before its runs (not while any runs).
  Status set_bias(const void* bias);
  Status run(cudaStream_t stream, const void* a, const void* b, void* c, void* workspace,
             int algo = 0) const;

 private:
  LtGemm() = default;
  GemmDesc d_;
  uint64_t workspace_bytes_ = 0;
  cublasLtHandle_t handle_ = nullptr;
  cublasLtMatmulDesc_t op_ = nullptr;
  cublasLtMatrixLayout_t la_ = nullptr, lb_ = nullptr, lc_ = nullptr;
  std::vector<cublasLtMatmulHeuristicResult_t> algos_;
  bool has_bias_ = false;
};

}  // namespace kiln::cuda
