// Channels-last (NHWC) forms of kiln's layout-sensitive ops: the layout pass
// (src/passes/channels_last_layout.cpp) marks convolutions `channels_last` and turns pools into
// kiln.PoolNhwc, so a CNN's activations stay [N, spatial..., C] between layers. Their reference
// kernels run the channels-first kernel between two permutations (the oracle stays the ONNX
// op's own kernel); shape inference works on the channels-last dims directly.
#pragma once

#include <vector>

#include "core/errors.h"
#include "kiln/tensor.h"
#include "ops/shape_infer.h"

namespace kiln::ops::layout {

// [N, C, s...] <-> [N, s..., C] permutations for a tensor of `rank`.
inline std::vector<int64_t> to_last_perm(size_t rank) {
  std::vector<int64_t> p = {0};
  for (size_t i = 2; i < rank; ++i) p.push_back(static_cast<int64_t>(i));
  p.push_back(1);
  return p;
}
inline std::vector<int64_t> to_first_perm(size_t rank) {
  std::vector<int64_t> p = {0, static_cast<int64_t>(rank) - 1};
  for (size_t i = 1; i + 1 < rank; ++i) p.push_back(static_cast<int64_t>(i));
  return p;
}

// A new tensor holding `t` permuted by `perm` (any element type of fixed size).
inline Result<Tensor> permuted(const Tensor& t, const std::vector<int64_t>& perm) {
  std::vector<int64_t> shape(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) shape[i] = t.shape()[static_cast<size_t>(perm[i])];
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::allocate(t.dtype(), shape));
  const size_t width = data_type_bytes(t.dtype(), 1).value_or(0);
  // Walks the output in order; step[i] is how far the input moves per output index i.
  const size_t rank = perm.size();
  std::vector<int64_t> in_stride(rank, 1), step(rank);
  for (size_t i = rank; i-- > 1;) in_stride[i - 1] = in_stride[i] * t.shape()[i];
  for (size_t i = 0; i < rank; ++i) step[i] = in_stride[static_cast<size_t>(perm[i])];
  const int64_t total = t.numel();
  auto go = [&](auto tag) {
    using T = decltype(tag);
    const T* src = static_cast<const T*>(t.data());
    T* dst = static_cast<T*>(out.data());
    std::vector<int64_t> idx(rank, 0);
    int64_t off = 0;
    for (int64_t k = 0; k < total; ++k) {
      dst[k] = src[off];
      for (size_t a = rank; a-- > 0;) {
        off += step[a];
        if (++idx[a] < shape[a]) break;
        off -= step[a] * shape[a];
        idx[a] = 0;
      }
    }
  };
  switch (width) {
    case 1:
      go(uint8_t{});
      break;
    case 2:
      go(uint16_t{});
      break;
    case 4:
      go(uint32_t{});
      break;
    case 8:
      go(uint64_t{});
      break;
    default:
      return err(Code::kInvalidArgument, "cannot permute ", data_type_name(t.dtype()),
                 " tensors between layouts");
  }
  return out;
}

inline Dims permuted_dims(const Dims& d, const std::vector<int64_t>& perm) {
  std::vector<Dim> out;
  for (int64_t p : perm) out.push_back(d[static_cast<size_t>(p)]);
  return Dims(std::move(out));
}

}  // namespace kiln::ops::layout
