#include "kiln/tensor.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/errors.h"

namespace kiln {
namespace {

// Raw sizes, negative ones included: messages must show the offending value.
std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

Result<Tensor> Tensor::allocate(DataType dtype, std::vector<int64_t> shape) {
  if (dtype == DataType::kString) return strings(std::move(shape), {});
  auto numel = checked_numel(shape);
  if (!numel)
    return err(Code::kInvalidShape, "tensor shape ", shape_str(shape),
               " has a negative dimension or more elements than fit in 64 bits");
  auto bytes = data_type_bytes(dtype, *numel);
  if (dtype == DataType::kUndefined || data_type_info(dtype).bits == 0)
    return err(Code::kInternal, "cannot allocate a tensor of type ", data_type_name(dtype));
  if (!bytes)
    return err(Code::kInvalidShape, "tensor of ", *numel, " ", data_type_name(dtype),
               " elements does not fit in memory addressing");
  // Round up so aligned_alloc gets a multiple of the alignment; never allocate 0 bytes.
  size_t padded = (*bytes + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
  if (padded == 0) padded = kTensorAlignment;
  void* p = std::aligned_alloc(kTensorAlignment, padded);
  if (p == nullptr)
    return err(Code::kAllocationFailed, "could not allocate ", *bytes, " bytes for a ",
               data_type_name(dtype), " tensor of shape ", shape_str(shape));
  std::memset(p, 0, padded);
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.numel_ = *numel;
  t.nbytes_ = *bytes;
  t.data_ = p;
  t.owner_ = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  return t;
}

Tensor Tensor::borrow(DataType dtype, std::vector<int64_t> shape, void* data) {
  Tensor t;
  t.dtype_ = dtype;
  t.numel_ = checked_numel(shape).value_or(0);
  t.nbytes_ = data_type_bytes(dtype, t.numel_).value_or(0);
  t.shape_ = std::move(shape);
  t.data_ = data;
  return t;
}

Result<Tensor> Tensor::strings(std::vector<int64_t> shape, std::vector<std::string> values) {
  auto numel = checked_numel(shape);
  if (!numel)
    return err(Code::kInvalidShape, "string tensor shape ", shape_str(shape), " is invalid");
  if (values.empty()) {
    if (*numel > (int64_t{1} << 32))
      return err(Code::kAllocationFailed, "string tensor of ", *numel, " elements is too large");
    values.resize(static_cast<size_t>(*numel));
  }
  if (static_cast<int64_t>(values.size()) != *numel)
    return err(Code::kInvalidTensorData, "string tensor of shape ", shape_str(shape), " needs ",
               *numel, " values, got ", values.size());
  Tensor t;
  t.dtype_ = DataType::kString;
  t.shape_ = std::move(shape);
  t.numel_ = *numel;
  t.strings_ = std::make_shared<std::vector<std::string>>(std::move(values));
  t.owner_ = t.strings_;
  t.data_ = t.strings_->data();
  return t;
}

const std::vector<std::string>& Tensor::string_data() const {
  static const std::vector<std::string> kNone;
  return strings_ ? *strings_ : kNone;
}

std::vector<std::string>& Tensor::mutable_string_data() {
  // Only string tensors own a string vector; handing one out for numeric storage would free the
  // bytes data() still points at.
  if (dtype_ != DataType::kString || !strings_) {
    std::fprintf(stderr, "kiln: internal error: mutable_string_data() on a %s tensor\n",
                 data_type_name(dtype_));
    std::abort();
  }
  return *strings_;
}

Tensor Tensor::view() const {
  Tensor t = *this;
  return t;  // shares owner_, so storage outlives the view
}

}  // namespace kiln
