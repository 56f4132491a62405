#include "backends/cuda/lt_gemm.h"

#include "backends/cuda/cuda_check.h"
#include "core/errors.h"

namespace kiln::cuda {
namespace {

cudaDataType_t data_type(MathMode m) {
  switch (m) {
    case MathMode::kFp16:
      return CUDA_R_16F;
    case MathMode::kBf16:
      return CUDA_R_16BF;
    default:
      return CUDA_R_32F;
  }
}

cublasLtEpilogue_t epilogue(GemmEpilogue e) {
  switch (e) {
    case GemmEpilogue::kBias:
      return CUBLASLT_EPILOGUE_BIAS;
    case GemmEpilogue::kBiasRelu:
      return CUBLASLT_EPILOGUE_RELU_BIAS;
    case GemmEpilogue::kBiasGeluTanh:
      return CUBLASLT_EPILOGUE_GELU_BIAS;
    default:
      return CUBLASLT_EPILOGUE_DEFAULT;
  }
}

}  // namespace

size_t element_bytes(MathMode math) {
  return math == MathMode::kFp16 || math == MathMode::kBf16 ? 2 : 4;
}

Result<std::unique_ptr<LtGemm>> LtGemm::create(const GemmDesc& d, uint64_t workspace_bytes,
                                               int max_algos) {
  if (d.m <= 0 || d.n <= 0 || d.k <= 0 || d.m > INT32_MAX || d.n > INT32_MAX || d.k > INT32_MAX)
    return err(Code::kInvalidArgument, "GEMM ", d.m, "x", d.n, "x", d.k,
               ": every dimension must be in [1, 2^31)");
  std::unique_ptr<LtGemm> g(new LtGemm());
  g->d_ = d;
  g->workspace_bytes_ = workspace_bytes;
  KILN_CUDA_CHECK(cublasLtCreate(&g->handle_));
  const cublasComputeType_t compute =
      d.math == MathMode::kTf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  KILN_CUDA_CHECK(cublasLtMatmulDescCreate(&g->op_, compute, CUDA_R_32F));
  // Column-major view: Cᵀ[n,m] = op(B)ᵀ[n,k] · Aᵀ[k,m]; the library's "A" is our B.
  const cublasOperation_t ta = d.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, tb = CUBLAS_OP_N;
  KILN_CUDA_CHECK(
      cublasLtMatmulDescSetAttribute(g->op_, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
  KILN_CUDA_CHECK(
      cublasLtMatmulDescSetAttribute(g->op_, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
  const cublasLtEpilogue_t epi = epilogue(d.epilogue);
  KILN_CUDA_CHECK(
      cublasLtMatmulDescSetAttribute(g->op_, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
  const cudaDataType_t t = data_type(d.math);
  // B as stored: [k,n] row-major is column-major [n,k] (ld n); [n,k] row-major is [k,n] (ld k).
  if (d.trans_b)
    KILN_CUDA_CHECK(cublasLtMatrixLayoutCreate(&g->la_, t, d.k, d.n, d.k));
  else
    KILN_CUDA_CHECK(cublasLtMatrixLayoutCreate(&g->la_, t, d.n, d.k, d.n));
  KILN_CUDA_CHECK(cublasLtMatrixLayoutCreate(&g->lb_, t, d.k, d.m, d.k));
  KILN_CUDA_CHECK(cublasLtMatrixLayoutCreate(&g->lc_, t, d.n, d.m, d.n));
  cublasLtMatmulPreference_t pref = nullptr;
  KILN_CUDA_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  const uint64_t ws = workspace_bytes;
  Status s = check(cublasLtMatmulPreferenceSetAttribute(
                       pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws),
                   "cublasLtMatmulPreferenceSetAttribute");
  g->algos_.resize(static_cast<size_t>(std::max(1, max_algos)));
  int found = 0;
  if (s.ok())
    s = check(cublasLtMatmulAlgoGetHeuristic(g->handle_, g->op_, g->la_, g->lb_, g->lc_, g->lc_,
                                             pref, static_cast<int>(g->algos_.size()),
                                             g->algos_.data(), &found),
              "cublasLtMatmulAlgoGetHeuristic");
  cublasLtMatmulPreferenceDestroy(pref);
  KILN_RETURN_IF_ERROR(s);
  g->algos_.resize(static_cast<size_t>(found));
  if (found == 0)
    return err(Code::kNoKernel, "cuBLASLt has no algorithm for GEMM ", d.m, "x", d.n, "x", d.k,
               " within ", workspace_bytes, " bytes of workspace");
  return g;
}

LtGemm::~LtGemm() {
  if (la_) cublasLtMatrixLayoutDestroy(la_);
  if (lb_) cublasLtMatrixLayoutDestroy(lb_);
  if (lc_) cublasLtMatrixLayoutDestroy(lc_);
  if (op_) cublasLtMatmulDescDestroy(op_);
  if (handle_) cublasLtDestroy(handle_);
}

Status LtGemm::set_bias(const void* bias) {
  if (bias == nullptr) return err(Code::kInvalidArgument, "GEMM bias epilogue without a bias");
  KILN_CUDA_CHECK(
      cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
  has_bias_ = true;
  return Status::Ok();
}

Status LtGemm::run(cudaStream_t stream, const void* a, const void* b, void* c, void* workspace,
                   int algo) const {
  if (algo < 0 || algo >= num_algos())
    return err(Code::kInvalidArgument, "GEMM algorithm ", algo, " of ", num_algos());
  if (d_.epilogue != GemmEpilogue::kNone && !has_bias_)
    return err(Code::kInvalidArgument, "GEMM bias epilogue run before set_bias");
  const float one = 1.f, zero = 0.f;
  return check(
      cublasLtMatmul(handle_, op_, &one, b, la_, a, lb_, &zero, c, lc_, c, lc_,
                     &algos_[static_cast<size_t>(algo)].algo, workspace, workspace_bytes_, stream),
      "cublasLtMatmul");
}

}  // namespace kiln::cuda
