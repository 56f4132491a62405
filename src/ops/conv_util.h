// Convolution internals shared by the float (conv_kernels.cpp) and integer
// (qconv_kernels.cpp) convolutions: the validated geometry, im2col over chunks of output
// positions and the GEMM-based forward pass.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "ops/nn_kernels.h"

namespace kiln::ops::conv_detail {

// Upper bound on scratch-buffer elements (im2col / col2im); larger problems run in chunks of
// output (input) positions.
inline constexpr int64_t kColBudget = int64_t{1} << 21;

inline std::string shape_str(const std::vector<int64_t>& s) {
  return Dims::of(s).to_string();
}

// Attribute lists may hold negative values, which shape rendering would hide.
inline std::string list_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

inline int64_t product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t x : v) p *= x;
  return p;
}

inline int64_t floor_div2(int64_t v) {
  return v >= 0 ? v / 2 : -((-v + 1) / 2);
}

// Shapes and window of a convolution, validated against each other.
struct ConvGeometry {
  int64_t batch = 0, in_ch = 0, out_ch = 0, group = 1;
  std::vector<int64_t> in, out;  // spatial sizes
  Window win;
  int64_t in_size = 0, out_size = 0, kernel_size = 0;
  size_t nd() const { return in.size(); }
  std::vector<int64_t> out_shape() const {
    std::vector<int64_t> s = {batch, out_ch};
    s.insert(s.end(), out.begin(), out.end());
    return s;
  }
};

// Kernel-position table: coordinates of every flat kernel offset, kernel_size x nd.
inline std::vector<int64_t> kernel_positions(const std::vector<int64_t>& kernel) {
  const size_t nd = kernel.size();
  const int64_t ks = product(kernel);
  std::vector<int64_t> pos(static_cast<size_t>(ks) * nd);
  std::vector<int64_t> q(nd, 0);
  for (int64_t kf = 0; kf < ks; ++kf) {
    std::copy(q.begin(), q.end(), pos.begin() + kf * static_cast<int64_t>(nd));
    for (size_t d = nd; d-- > 0;) {
      if (++q[d] < kernel[d]) break;
      q[d] = 0;
    }
  }
  return pos;
}

// Per kernel offset and spatial dim: the offset kpos * dilation - pad_begin and the range
// [lo, hi) of positions q for which q * stride + offset lands inside `limit` (of `count`).
struct OffsetTable {
  std::vector<int64_t> off, lo, hi;  // kernel_size x nd
};
inline OffsetTable offset_table(const Window& w, const std::vector<int64_t>& limit,
                                const std::vector<int64_t>& count) {
  const size_t nd = w.kernel.size();
  OffsetTable t;
  t.off = kernel_positions(w.kernel);
  t.lo.resize(t.off.size());
  t.hi.resize(t.off.size());
  for (size_t i = 0; i < t.off.size(); ++i) {
    const size_t d = i % nd;
    t.off[i] = t.off[i] * w.dilations[d] - w.pad_begin[d];
    valid_range(t.off[i], w.strides[d], limit[d], count[d], t.lo[i], t.hi[i]);
  }
  return t;
}

// Coordinates of the first `nd - 1` dims of flat "outer" position p (the last dim is inner).
inline std::vector<int64_t> outer_coords(int64_t p, const std::vector<int64_t>& dims) {
  std::vector<int64_t> q(dims.size() - 1);
  for (size_t d = q.size(); d-- > 0;) {
    q[d] = p % dims[d];
    p /= dims[d];
  }
  return q;
}
inline void advance(std::vector<int64_t>& q, const std::vector<int64_t>& dims) {
  for (size_t d = q.size(); d-- > 0;) {
    if (++q[d] < dims[d]) return;
    q[d] = 0;
  }
}

// Calls segment(outer_row_coords, j_begin, j_end) for the flat positions [p0, p1) of a
// row-major grid `dims`, split at the ends of its innermost rows.
template <typename F>
void for_row_segments(const std::vector<int64_t>& dims, int64_t p0, int64_t p1, F&& segment) {
  const int64_t inner = dims.back();
  std::vector<int64_t> q = outer_coords(p0 / inner, dims);
  for (int64_t p = p0; p < p1;) {
    const int64_t ja = p % inner, jb = std::min(inner, ja + (p1 - p));
    segment(q, ja, jb);
    p += jb - ja;
    advance(q, dims);
  }
}

// Where kernel offset kf lands for the outer coordinates q of a row: `base` (flat, plus the
// last dim's offset) and whether every outer dim stays inside `limit`.
inline bool row_base(const Window& win, const OffsetTable& t, int64_t kf,
                     const std::vector<int64_t>& q, const std::vector<int64_t>& limit_stride,
                     int64_t& base) {
  const size_t nd = win.kernel.size();
  const int64_t* off = &t.off[kf * nd];
  bool inside = true;
  base = off[nd - 1];
  for (size_t d = 0; d + 1 < nd; ++d) {
    inside = inside && q[d] >= t.lo[kf * nd + d] && q[d] < t.hi[kf * nd + d];
    base += (q[d] * win.strides[d] + off[d]) * limit_stride[d];
  }
  return inside;
}

// col[(c * ks + kf) * cols + p - p0] = X[c, position p, kernel offset kf] for the output
// positions [p0, p1) of one image and group (0 where the tap falls into padding).
template <typename Acc, typename XIn, typename Conv>
void im2col(const ConvGeometry& g, const OffsetTable& t, const std::vector<int64_t>& in_stride,
            const XIn* xg, int64_t p0, int64_t p1, Acc* col, Conv conv) {
  const size_t nd = g.nd();
  const int64_t cg = g.in_ch / g.group, ks = g.kernel_size, sl = g.win.strides[nd - 1];
  for (int64_t c = 0; c < cg; ++c) {
    const XIn* xc = xg + c * g.in_size;
    for (int64_t kf = 0; kf < ks; ++kf) {
      Acc* dst = col + (c * ks + kf) * (p1 - p0);
      const int64_t lo = t.lo[kf * nd + nd - 1], hi = t.hi[kf * nd + nd - 1];
      for_row_segments(g.out, p0, p1, [&](const std::vector<int64_t>& q, int64_t ja, int64_t jb) {
        int64_t base = 0;
        const bool inside = row_base(g.win, t, kf, q, in_stride, base);
        const int64_t l = inside ? std::clamp(lo, ja, jb) : jb;
        const int64_t h = inside ? std::clamp(hi, l, jb) : jb;
        for (int64_t j = ja; j < l; ++j) *dst++ = Acc(0);
        for (int64_t j = l; j < h; ++j) *dst++ = conv(xc[base + j * sl]);
        for (int64_t j = h; j < jb; ++j) *dst++ = Acc(0);
      });
    }
  }
}

// Y[n, m, :] += W[m, :] * im2col(X[n, group of m]) for every image and group, in chunks of
// output positions that bound the scratch buffer. `conv` turns an X element into Acc
// (subtracting the zero point for integer convolutions, so padding reads as 0). When X is
// already Acc, 1x1 stride-1 unpadded kernels use X itself as the column matrix.
template <typename Acc, typename XIn, typename Conv>
void conv_forward(const ConvGeometry& g, const XIn* x, const Acc* w, Acc* y, Conv conv) {
  const size_t nd = g.nd();
  const int64_t cg = g.in_ch / g.group, mg = g.out_ch / g.group, k = cg * g.kernel_size;
  if (g.out_size == 0 || mg == 0 || k == 0) return;
  const Window& win = g.win;
  bool pointwise = std::is_same_v<XIn, Acc>;
  for (size_t d = 0; d < nd; ++d)
    pointwise = pointwise && win.kernel[d] == 1 && win.strides[d] == 1 && win.pad_begin[d] == 0 &&
                win.pad_end[d] == 0;
  const OffsetTable t = offset_table(win, g.in, g.out);
  const std::vector<int64_t> in_stride = strides_of(g.in);
  const int64_t chunk = std::clamp<int64_t>(kColBudget / k, 1, g.out_size);
  std::vector<Acc> col(pointwise ? 0 : static_cast<size_t>(k * chunk));

  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t grp = 0; grp < g.group; ++grp) {
      const XIn* xg = x + (n * g.in_ch + grp * cg) * g.in_size;
      const Acc* wg = w + grp * mg * k;
      Acc* yg = y + (n * g.out_ch + grp * mg) * g.out_size;
      if constexpr (std::is_same_v<XIn, Acc>) {
        if (pointwise) {
          gemm_accumulate<Acc>(mg, g.out_size, k, wg, k, xg, g.in_size, yg, g.out_size);
          continue;
        }
      }
      for (int64_t p0 = 0; p0 < g.out_size; p0 += chunk) {
        const int64_t p1 = std::min(g.out_size, p0 + chunk);
        im2col(g, t, in_stride, xg, p0, p1, col.data(), conv);
        gemm_accumulate<Acc>(mg, p1 - p0, k, wg, k, col.data(), p1 - p0, yg + p0, g.out_size);
      }
    }
  }
}

// Validates X [N, C, spatial...] against W [M, C/group, k...] and the window attributes of a
// Conv-like node (Conv, ConvInteger, QLinearConv). (conv_kernels.cpp)
Result<ConvGeometry> conv_geometry(const KernelContext& ctx, std::string_view op,
                                   const std::vector<int64_t>& xs, const std::vector<int64_t>& ws);

}  // namespace kiln::ops::conv_detail
