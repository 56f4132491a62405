// Where: elementwise select between two broadcast tensors.
//
// The reference kernel only moves elements, so it copies them by size and serves every type
// with a whole-byte storage (complex and float8 included) plus strings.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/errors.h"
#include "ops/elementwise_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using namespace elementwise;

template <size_t kBytes>
struct Bytes {
  unsigned char b[kBytes];
};

// out = condition ? x : y. E is the element type (Bytes<n> or std::string).
template <typename E>
void select(const Tensor& condition, const Tensor& x, const Tensor& y, Tensor& out) {
  // Read bool storage as bytes: any nonzero byte is true, and no invalid bool is ever loaded.
  const uint8_t* pc = condition.data_as<uint8_t>();
  const E* px = x.data_as<E>();
  const E* py = y.data_as<E>();
  E* po = out.data_as<E>();
  for_each_run<3>({&condition.shape(), &x.shape(), &y.shape()}, out.shape(),
                  [&](int64_t o, const std::array<int64_t, 3>& off,
                      const std::array<int64_t, 3>& step, int64_t len) {
                    for (int64_t j = 0; j < len; ++j)
                      po[o + j] = pc[off[0] + j * step[0]] ? px[off[1] + j * step[1]]
                                                           : py[off[2] + j * step[2]];
                  });
}

Status where_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* condition, required_input(ctx, 0, "Where"));
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 1, "Where"));
  KILN_ASSIGN_OR_RETURN(const Tensor* y, required_input(ctx, 2, "Where"));
  if (condition->dtype() != DataType::kBool)
    return err(Code::kTypeUnsupported, "Where needs a bool condition, got ",
               data_type_name(condition->dtype()));
  KILN_RETURN_IF_ERROR(check_same_type(*x, *y, "Where", "X", "Y"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> shape,
                        broadcast_shapes({condition->shape(), x->shape(), y->shape()}, "Where"));
  KILN_RETURN_IF_ERROR(check_output_size(shape, "Where"));
  const DataType dtype = x->dtype();
  if (dtype != DataType::kString) {
    switch (data_type_info(dtype).bits) {
      case 8:
      case 16:
      case 32:
      case 64:
      case 128:
        break;
      default:
        return err(Code::kTypeUnsupported, "Where has no reference kernel for ",
                   data_type_name(dtype),
                   data_type_info(dtype).bits > 0 ? " (packed sub-byte elements)" : "");
    }
  }
  KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, dtype, shape));
  if (dtype == DataType::kString) {
    select<std::string>(*condition, *x, *y, *out);
    return Status::Ok();
  }
  switch (data_type_info(dtype).bits) {
    case 8:
      select<Bytes<1>>(*condition, *x, *y, *out);
      break;
    case 16:
      select<Bytes<2>>(*condition, *x, *y, *out);
      break;
    case 32:
      select<Bytes<4>>(*condition, *x, *y, *out);
      break;
    case 64:
      select<Bytes<8>>(*condition, *x, *y, *out);
      break;
    default:
      select<Bytes<16>>(*condition, *x, *y, *out);
      break;
  }
  return Status::Ok();
}

}  // namespace

void register_where(OpRegistry& registry) {
  // Where only moves elements, so it keeps ONNX's full type list (string and complex included);
  // revision 16 adds bfloat16.
  std::vector<DataType> types9;
  for (DataType t : type_sets::all_tensor())
    if (t != DataType::kBFloat16) types9.push_back(t);
  for (int64_t since : {9, 16}) {
    registry.add(OpSchema("Where", since)
                     .input("condition", "B")
                     .input("X", "T")
                     .input("Y", "T")
                     .output("output", "T")
                     .types("B", {DataType::kBool})
                     .types("T", since == 9 ? types9 : type_sets::all_tensor())
                     .fusion(FusionKind::kBroadcast)
                     .kernel(where_kernel));
  }
}

}  // namespace kiln::ops
