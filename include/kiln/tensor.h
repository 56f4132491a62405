// kiln/tensor.h — a dense, C-ordered tensor: owning (64-byte aligned) or a borrowed view.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/status.h"
#include "kiln/types.h"

namespace kiln {

inline constexpr size_t kTensorAlignment = 64;

class Tensor {
 public:
  Tensor() = default;  // empty: dtype undefined, no data

  // Zero-initialised owning tensor. OUT_OF_MEMORY when the allocation fails, INVALID_SHAPE when
  // the shape is negative or its byte size overflows.
  static Result<Tensor> allocate(DataType dtype, std::vector<int64_t> shape);
  // Non-owning view over caller memory that must outlive every copy of the view.
  static Tensor borrow(DataType dtype, std::vector<int64_t> shape, void* data);
  // Owning string tensor.
  static Result<Tensor> strings(std::vector<int64_t> shape, std::vector<std::string> values);

  DataType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  size_t rank() const { return shape_.size(); }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return nbytes_; }  // 0 for string tensors
  // Whether this tensor keeps its storage alive (owning tensors and their views do; borrowed
  // tensors point at caller memory).
  bool owns_data() const { return owner_ != nullptr; }
  bool empty() const { return dtype_ == DataType::kUndefined; }

  // For string tensors: the std::string array (its address follows the vector).
  void* data() { return strings_ ? static_cast<void*>(strings_->data()) : data_; }
  const void* data() const { return strings_ ? static_cast<const void*>(strings_->data()) : data_; }
  template <typename T>
  T* data_as() {
    return static_cast<T*>(data_);
  }
  template <typename T>
  const T* data_as() const {
    return static_cast<const T*>(data_);
  }
  // String elements (dtype kString only; empty otherwise). mutable_string_data() aborts on a
  // non-string tensor (internal invariant).
  const std::vector<std::string>& string_data() const;
  std::vector<std::string>& mutable_string_data();

  // A view sharing this tensor's storage (and keeping owned storage alive).
  Tensor view() const;

 private:
  DataType dtype_ = DataType::kUndefined;
  std::vector<int64_t> shape_;
  int64_t numel_ = 0;
  size_t nbytes_ = 0;
  void* data_ = nullptr;
  std::shared_ptr<void> owner_;  // aligned bytes, or the string vector
  std::shared_ptr<std::vector<std::string>> strings_;
};

}  // namespace kiln
