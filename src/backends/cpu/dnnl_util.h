// Shared plumbing of the oneDNN-backed CPU tactics: the process's oneDNN engine, a stream and a
// scratchpad per calling thread (primitives run with user-managed scratchpads so one prepared
// kernel can run from many execution contexts at once), fused activations as post-ops, and the
// implementation names the autotuner picks between.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kiln/status.h"
#include "kiln/tensor.h"
#include "ops/activation_functions.h"

namespace kiln::backends::cpu {

dnnl::engine& dnnl_engine();

// The arithmetic a oneDNN product tactic (convolution, matmul) runs its layers in: the model's
// FP32; INT8 from the builder's calibration annotations; or BF16 inputs and weights with FP32
// accumulation and output, where the builder allowed it (--bf16).
enum class Arith { kFp32, kInt8, kBf16 };
// The tactic-name suffix of each ("", ".int8", ".bf16").
const char* arith_suffix(Arith a);
// Whether oneDNN computes BF16 natively here (AVX512-BF16 or AMX): the BF16 tactics are only
// offered then — its emulation on older CPUs is slower than FP32.
bool native_bf16();
dnnl::stream& dnnl_thread_stream();

// A scratchpad of at least `bytes` for the calling thread (grown, never shrunk).
dnnl::memory dnnl_scratchpad(const dnnl::memory::desc& md);

// Appends `a` as eltwise post-op(s); false when oneDNN has no equivalent.
bool append_activation(dnnl::post_ops& po, const ops::ActivationSpec& a);
bool activation_supported(const ops::ActivationSpec& a);

// After a kernel has packed a weight tensor into its own blocked copy, the original's pages
// are only needed again by a fallback: ask the kernel to reclaim them (clean file pages of an
// mmap'd engine are dropped, anonymous ones kept — no data is ever lost), so a run's resident
// memory holds the weights once, not twice.
void release_original(const void* data, size_t bytes);

// A oneDNN memory of `md` in its own storage, 2 MiB-aligned and advised for transparent huge
// pages when large (packed weights stream through the TLB every run; with 4 KiB pages a BERT
// layer's 9 MB of weights touch ~2300 pages, and run times varied 1.5x between processes).
std::shared_ptr<dnnl::memory> packed_memory(const dnnl::memory::desc& md);

// Host memory for large buffers (weights, arenas): 2 MiB-aligned + MADV_HUGEPAGE when at least
// 2 MiB, else 64-byte aligned. Free with std::free.
void* alloc_large(size_t bytes);

// A constant (weights, bias) of layout `have` at `data` reordered once into `want` in
// packed_memory; the original's pages are then released (release_original).
std::shared_ptr<dnnl::memory> pack_constant(const dnnl::memory::desc& want,
                                            const dnnl::memory::desc& have, const void* data,
                                            size_t bytes, bool release = true);

// Weights packed at build time travel in the engine as a uint8 tensor: a header naming the
// oneDNN version and the memory descriptor (raw dnnl_memory_desc_t), then the packed bytes at a
// 64-byte offset (initializers are 64-byte aligned in the file, so the data is too).
Result<Tensor> encode_packed(const dnnl::memory& m);
// The packed memory `blob` holds, copied into packed_memory, when it was made by this oneDNN
// version for exactly `want` (a hostile or stale blob only ever fails the comparison);
// nullptr otherwise.
std::shared_ptr<dnnl::memory> adopt_packed(const Tensor* blob, const dnnl::memory::desc& want);
// Where the packed bytes start in such a tensor.
size_t packed_header_bytes();

// The packed copies of one constant a kernel runs with, one per layout its plans ask for,
// shared by every plan and execution context; the build-time blob is taken when it fits.
// Not thread-safe: kernels call get() under the lock that guards their plans.
class PackedConstant {
 public:
  // `release`: hand the original's pages back after packing (not at build time, where the
  // weights are the builder's anonymous copy and are read again).
  PackedConstant(const Tensor* original, const Tensor* prebuilt, bool release)
      : original_(original), prebuilt_(prebuilt), release_(release) {}
  // The constant in layout `want`; `have` describes the original.
  std::shared_ptr<dnnl::memory> get(const dnnl::memory::desc& want, const dnnl::memory::desc& have);
  // How many get() calls were served by the build-time blob (tests, inspect).
  int adopted() const { return adopted_; }

 private:
  const Tensor* original_;
  const Tensor* prebuilt_;
  bool release_;
  int adopted_ = 0;
  std::vector<std::pair<dnnl::memory::desc, std::shared_ptr<dnnl::memory>>> copies_;
};

// The implementation a primitive descriptor chose ("brg:avx512_core", "jit:avx512_core", …).
std::string impl_name(const dnnl::primitive_desc_base& pd);

dnnl::memory::dims to_dims(const std::vector<int64_t>& v);

// Primitive descriptors for one layer, one per oneDNN implementation that accepts it, in
// oneDNN's preference order; `create(impl)` returns the first whose name is `impl` (or the
// first at all when `impl` is empty or absent).
template <typename PD, typename Make>
std::optional<PD> pick_impl(Make&& make, const std::string& impl) {
  std::optional<PD> first;
  try {
    PD pd = make();
    do {
      if (!first) first = pd;
      if (impl.empty() || impl_name(pd) == impl) return pd;
    } while (pd.next_impl());
  } catch (const dnnl::error&) {
  }
  return first;
}

template <typename PD, typename Make>
std::vector<std::string> list_impls(Make&& make) {
  std::vector<std::string> out;
  try {
    PD pd = make();
    do {
      const std::string n = impl_name(pd);
      // The reference implementations are never faster than kiln's own reference kernels.
      if (n.rfind("ref", 0) == 0) continue;
      if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    } while (pd.next_impl());
  } catch (const dnnl::error&) {
  }
  return out;
}

}  // namespace kiln::backends::cpu
