#include <limits>

#include "kiln/types.h"

namespace kiln {

std::string Dim::to_string() const {
  if (is_static()) return std::to_string(value);
  if (!symbol.empty()) return symbol;
  return "?";
}

Dims Dims::of(const std::vector<int64_t>& sizes) {
  std::vector<Dim> d;
  d.reserve(sizes.size());
  for (int64_t s : sizes) d.push_back(s >= 0 ? Dim::fixed(s) : Dim::unknown());
  return Dims(std::move(d));
}

bool Dims::is_static() const {
  if (!rank_known_) return false;
  for (const Dim& d : dims_)
    if (!d.is_static()) return false;
  return true;
}

std::optional<std::vector<int64_t>> Dims::static_sizes() const {
  if (!is_static()) return std::nullopt;
  std::vector<int64_t> s;
  s.reserve(dims_.size());
  for (const Dim& d : dims_) s.push_back(d.value);
  return s;
}

std::optional<int64_t> Dims::numel() const {
  auto s = static_sizes();
  if (!s) return std::nullopt;
  return checked_numel(*s);
}

std::string Dims::to_string() const {
  if (!rank_known_) return "?";
  std::string s = "[";
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (i) s += ",";
    s += dims_[i].to_string();
  }
  return s + "]";
}

std::optional<int64_t> checked_numel(const std::vector<int64_t>& sizes) {
  // A zero anywhere makes the tensor empty whatever the other sizes are; check signs first so
  // the answer does not depend on dimension order.
  for (int64_t s : sizes)
    if (s < 0) return std::nullopt;
  for (int64_t s : sizes)
    if (s == 0) return 0;
  int64_t n = 1;
  for (int64_t s : sizes) {
    if (n > std::numeric_limits<int64_t>::max() / s) return std::nullopt;
    n *= s;
  }
  return n;
}

}  // namespace kiln
