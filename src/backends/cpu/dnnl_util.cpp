#include "backends/cpu/dnnl_util.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "engine/engine_file.h"

namespace kiln::backends::cpu {

dnnl::engine& dnnl_engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

const char* arith_suffix(Arith a) {
  switch (a) {
    case Arith::kInt8:
      return ".int8";
    case Arith::kBf16:
      return ".bf16";
    case Arith::kFp32:
      break;
  }
  return "";
}

bool native_bf16() {
  static const bool yes = [] {
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
    return (isa & bf16) == bf16;
  }();
  return yes;
}

dnnl::stream& dnnl_thread_stream() {
  thread_local dnnl::stream s(dnnl_engine());
  return s;
}

dnnl::memory dnnl_scratchpad(const dnnl::memory::desc& md) {
  // Freed with the matching aligned operator delete: a plain delete[] on an
  // aligned new is undefined (ASan's new-delete-type-mismatch).
  struct AlignedDelete {
    void operator()(uint8_t* p) const { ::operator delete[](p, std::align_val_t{64}); }
  };
  struct Pad {
    std::unique_ptr<uint8_t[], AlignedDelete> bytes;
    size_t size = 0;
  };
  thread_local Pad pad;
  const size_t need = md.get_size();
  if (need > pad.size) {
    pad.bytes.reset(static_cast<uint8_t*>(::operator new[](need, std::align_val_t{64})));
    pad.size = need;
  }
  return dnnl::memory(md, dnnl_engine(), need > 0 ? pad.bytes.get() : nullptr);
}

namespace {
using A = ops::Activation;
using dnnl::algorithm;
}  // namespace

bool activation_supported(const ops::ActivationSpec& a) {
  dnnl::post_ops po;
  return append_activation(po, a);
}

bool append_activation(dnnl::post_ops& po, const ops::ActivationSpec& a) {
  const float p0 = static_cast<float>(a.p0), p1 = static_cast<float>(a.p1);
  switch (a.kind) {
    case A::kNone:
      return true;
    case A::kRelu:
      po.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
      return true;
    case A::kLeakyRelu:
      po.append_eltwise(1.f, algorithm::eltwise_relu, p0, 0.f);
      return true;
    case A::kClip:
      po.append_eltwise(1.f, algorithm::eltwise_clip_v2, p0, p1);
      return true;
    case A::kSigmoid:
      po.append_eltwise(1.f, algorithm::eltwise_logistic, 0.f, 0.f);
      return true;
    case A::kHardSigmoid:
      po.append_eltwise(1.f, algorithm::eltwise_linear, p0, p1);
      po.append_eltwise(1.f, algorithm::eltwise_clip_v2, 0.f, 1.f);
      return true;
    case A::kHardSwish:
      po.append_eltwise(1.f, algorithm::eltwise_hardswish, 0.f, 0.f);
      return true;
    case A::kSilu:
      po.append_eltwise(1.f, algorithm::eltwise_swish, 1.f, 0.f);
      return true;
    case A::kTanh:
      po.append_eltwise(1.f, algorithm::eltwise_tanh, 0.f, 0.f);
      return true;
    case A::kGelu:
      po.append_eltwise(1.f, algorithm::eltwise_gelu_erf, 0.f, 0.f);
      return true;
    case A::kGeluTanh:
      po.append_eltwise(1.f, algorithm::eltwise_gelu_tanh, 0.f, 0.f);
      return true;
  }
  return false;
}

void* alloc_large(size_t bytes) {
  constexpr size_t kHuge = size_t{2} << 20;
  if (bytes < kHuge) return std::aligned_alloc(64, std::max<size_t>(64, (bytes + 63) / 64 * 64));
  const size_t n = (bytes + kHuge - 1) / kHuge * kHuge;
  void* p = std::aligned_alloc(kHuge, n);
#ifdef MADV_HUGEPAGE
  if (p != nullptr) madvise(p, n, MADV_HUGEPAGE);
#endif
  return p;
}

std::shared_ptr<dnnl::memory> packed_memory(const dnnl::memory::desc& md) {
  const size_t bytes = md.get_size();
  void* p = alloc_large(bytes);
  if (p == nullptr) throw std::bad_alloc();
  // The memory object does not own a user handle: the shared_ptr's deleter frees it after.
  return std::shared_ptr<dnnl::memory>(new dnnl::memory(md, dnnl_engine(), p),
                                       [p](dnnl::memory* m) {
                                         delete m;
                                         std::free(p);
                                       });
}

std::shared_ptr<dnnl::memory> pack_constant(const dnnl::memory::desc& want,
                                            const dnnl::memory::desc& have, const void* data,
                                            size_t bytes, bool release) {
  std::shared_ptr<dnnl::memory> m = packed_memory(want);
  dnnl::memory user(have, dnnl_engine(), const_cast<void*>(data));
  dnnl::reorder(user, *m).execute(dnnl_thread_stream(), user, *m);
  dnnl_thread_stream().wait();
  if (release) release_original(data, bytes);
  return m;
}

namespace {

constexpr char kPackedMagic[8] = {'K', 'D', 'N', 'N', 'L', 'P', 'K', '1'};

struct PackedHeader {
  char magic[8];
  uint32_t major, minor, patch;
  uint32_t desc_bytes;
  dnnl_memory_desc_t desc;
};

constexpr size_t kPackedDataOffset = (sizeof(PackedHeader) + 63) / 64 * 64;

}  // namespace

size_t packed_header_bytes() {
  return kPackedDataOffset;
}

Result<Tensor> encode_packed(const dnnl::memory& m) {
  const dnnl::memory::desc md = m.get_desc();
  const size_t bytes = md.get_size();
  KILN_ASSIGN_OR_RETURN(
      Tensor t,
      Tensor::allocate(DataType::kUInt8, {static_cast<int64_t>(kPackedDataOffset + bytes)}));
  PackedHeader h{};
  std::memcpy(h.magic, kPackedMagic, sizeof h.magic);
  const dnnl_version_t* v = dnnl_version();
  h.major = static_cast<uint32_t>(v->major);
  h.minor = static_cast<uint32_t>(v->minor);
  h.patch = static_cast<uint32_t>(v->patch);
  h.desc_bytes = sizeof(dnnl_memory_desc_t);
  h.desc = md.data;
  auto* out = t.data_as<uint8_t>();
  std::memcpy(out, &h, sizeof h);
  std::memcpy(out + kPackedDataOffset, m.get_data_handle(), bytes);
  return t;
}

std::shared_ptr<dnnl::memory> adopt_packed(const Tensor* blob, const dnnl::memory::desc& want) {
  if (blob == nullptr || blob->dtype() != DataType::kUInt8 || blob->nbytes() < kPackedDataOffset)
    return nullptr;
  PackedHeader h;
  std::memcpy(&h, blob->data(), sizeof h);
  const dnnl_version_t* v = dnnl_version();
  if (std::memcmp(h.magic, kPackedMagic, sizeof h.magic) != 0 ||
      h.major != static_cast<uint32_t>(v->major) || h.minor != static_cast<uint32_t>(v->minor) ||
      h.patch != static_cast<uint32_t>(v->patch) || h.desc_bytes != sizeof(dnnl_memory_desc_t))
    return nullptr;
  dnnl::memory::desc have;
  have.data = h.desc;
  // Equality is oneDNN's own comparison of every field; a blob whose header was forged to
  // equal `want` describes exactly the bytes `want` needs, which the size check then bounds.
  if (!(have == want) || blob->nbytes() - kPackedDataOffset != want.get_size()) return nullptr;
  std::shared_ptr<dnnl::memory> m = packed_memory(want);
  std::memcpy(m->get_data_handle(), blob->data_as<uint8_t>() + kPackedDataOffset, want.get_size());
  release_original(blob->data(), blob->nbytes());
  return m;
}

std::shared_ptr<dnnl::memory> PackedConstant::get(const dnnl::memory::desc& want,
                                                  const dnnl::memory::desc& have) {
  for (const auto& [d, m] : copies_)
    if (d == want) return m;
  std::shared_ptr<dnnl::memory> m = adopt_packed(prebuilt_, want);
  if (m) {
    ++adopted_;
    // The original is now only a fallback for other shapes: its pages (made resident by the
    // engine's checksum pass over the mapped file) go back, or a run holds the weights twice.
    if (release_ && original_ != nullptr) release_original(original_->data(), original_->nbytes());
  } else
    m = pack_constant(want, have, original_->data(), original_->nbytes(), release_);
  copies_.emplace_back(want, m);
  return m;
}

void release_original(const void* data, size_t bytes) {
  engine::release_pages(data, bytes);
}

std::string impl_name(const dnnl::primitive_desc_base& pd) {
  return pd.impl_info_str();
}

dnnl::memory::dims to_dims(const std::vector<int64_t>& v) {
  return dnnl::memory::dims(v.begin(), v.end());
}

}  // namespace kiln::backends::cpu
