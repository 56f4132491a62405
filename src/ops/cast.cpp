// Cast and CastLike: element type conversion.
//
// A pure conversion op, so the type lists keep string, float8 and the 4-bit types where ONNX
// has them; each revision's list is the previous one plus what that revision added.
//
// The reference kernel converts between every type kiln stores (numeric, bool, string); float8,
// 4-bit and complex types are TypeUnsupported. Where ONNX leaves a conversion undefined, kiln's
// choice is:
// - float to integer truncates toward zero, NaN gives 0, out-of-range values saturate;
//   integer to narrower integer wraps (two's complement), as in C++, NumPy and ONNX Runtime.
// - number to string: integers in decimal, bool as "1"/"0" (ONNX Runtime's spelling), floats in
//   printf %g style with the fewest digits that parse back to the same value ("0.3", "1",
//   "1.2345679e+08"), and ONNX's literals "NaN", "INF", "-INF".
// - string to number: surrounding whitespace and a leading '+' are allowed, as are ONNX's
//   case-insensitive "INF"/"+INF"/"-INF"/"NaN"; a decimal string cast to an integer type is
//   truncated ("100.5" → 100, the example the spec gives); bool also accepts "true"/"false".
//   Anything else (including trailing text) is InvalidArgument naming the element.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "ops/elementwise_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using namespace elementwise;

// ---- string formatting and parsing -------------------------------------------------------------

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// The number part of a string: trimmed, a leading '+' dropped (from_chars refuses it).
std::string_view number_text(std::string_view s) {
  s = trim(s);
  if (s.size() > 1 && s.front() == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
  return s;
}

// Parses the whole of `s` as a float or double (correctly rounded, locale-independent).
template <typename F>
std::optional<F> parse_float(std::string_view s) {
  s = number_text(s);
  F value{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (end != s.data() + s.size() || s.empty()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // from_chars reports overflow and underflow alike and leaves `value` alone; strtod gives the
    // infinity or (signed) zero the text denotes.
    const double d = std::strtod(std::string(s).c_str(), nullptr);
    return static_cast<F>(d);
  }
  if (ec != std::errc()) return std::nullopt;
  return value;
}

template <typename To>
std::optional<To> parse_int(std::string_view s) {
  s = number_text(s);
  const char* end = s.data() + s.size();
  int64_t i = 0;
  if (auto r = std::from_chars(s.data(), end, i); r.ec == std::errc() && r.ptr == end)
    return static_cast<To>(i);  // wraps into narrower types like an int64 → To cast
  uint64_t u = 0;
  if (auto r = std::from_chars(s.data(), end, u); r.ec == std::errc() && r.ptr == end)
    return static_cast<To>(u);
  if (std::optional<double> d = parse_float<double>(s)) return float_to_int<To>(*d);
  return std::nullopt;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// One string as storage type T.
template <typename T>
std::optional<T> parse_as(const std::string& s) {
  if constexpr (std::is_same_v<T, bool>) {
    const std::string_view t = trim(s);
    if (iequals(t, "true")) return true;
    if (iequals(t, "false")) return false;
    if (std::optional<double> d = parse_float<double>(t)) return *d != 0.0;  // NaN is true
    return std::nullopt;
  } else if constexpr (is_int_v<T>) {
    return parse_int<T>(s);
  } else if constexpr (std::is_same_v<T, double>) {
    return parse_float<double>(s);
  } else {
    // float, and the 16-bit floats through float (as ONNX Runtime does).
    std::optional<float> f = parse_float<float>(s);
    if (!f) return std::nullopt;
    return static_cast<T>(*f);
  }
}

// Shortest %g rendering that parse_as<T> maps back to v.
template <typename T>
std::string format_float(T v) {
  const double d = static_cast<double>(static_cast<compute_t<T>>(v));
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "INF" : "-INF";
  char buf[64];
  for (int precision = 1;; ++precision) {
    const auto r = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::general, precision);
    const std::string text(buf, r.ptr);
    const std::optional<T> back = parse_as<T>(text);
    // 17 significant digits always round-trip a double.
    if (precision >= 17 ||
        (back && static_cast<compute_t<T>>(*back) == static_cast<compute_t<T>>(v)))
      return text;
  }
}

template <typename T>
std::string format_value(T v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "1" : "0";
  } else if constexpr (is_int_v<T>) {
    return std::to_string(v);
  } else {
    return format_float(v);
  }
}

// ---- the kernel --------------------------------------------------------------------------------

bool has_storage(DataType t) {
  switch (t) {
    case D::kFloat32:
    case D::kFloat64:
    case D::kFloat16:
    case D::kBFloat16:
    case D::kInt8:
    case D::kUInt8:
    case D::kInt16:
    case D::kUInt16:
    case D::kInt32:
    case D::kUInt32:
    case D::kInt64:
    case D::kUInt64:
    case D::kBool:
    case D::kString:
      return true;
    default:
      return false;
  }
}

Status cast_to(KernelContext& ctx, const char* op, const Tensor& x, DataType to) {
  if (!has_storage(x.dtype()))
    return err(Code::kTypeUnsupported, op, " has no reference kernel for ",
               data_type_name(x.dtype()), " inputs");
  if (!has_storage(to))
    return err(Code::kTypeUnsupported, op, " has no reference kernel for ", data_type_name(to),
               " outputs");
  if (x.dtype() == to) {  // nothing to convert: share the input's storage
    ctx.set_output(0, x.view());
    return Status::Ok();
  }
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, to, x.shape()));
  const int64_t n = x.numel();
  if (to == D::kString) {
    std::string* out = y->data_as<std::string>();
    return dispatch_numeric(x.dtype(), op, [&]<typename From>() -> Status {
      const From* in = x.data_as<From>();
      for (int64_t i = 0; i < n; ++i) out[i] = format_value(in[i]);
      return Status::Ok();
    });
  }
  if (x.dtype() == D::kString) {
    const std::string* in = x.data_as<std::string>();
    return dispatch_numeric(to, op, [&]<typename To>() -> Status {
      To* out = y->data_as<To>();
      for (int64_t i = 0; i < n; ++i) {
        const std::optional<To> v = parse_as<To>(in[i]);
        if (!v) {
          const std::string shown = in[i].size() > 40 ? in[i].substr(0, 40) + "…" : in[i];
          return err(Code::kInvalidArgument, op, " cannot convert string element ", i, " \"", shown,
                     "\" to ", data_type_name(to), " (not a number)");
        }
        out[i] = *v;
      }
      return Status::Ok();
    });
  }
  return dispatch_numeric(x.dtype(), op, [&]<typename From>() -> Status {
    const From* in = x.data_as<From>();
    return dispatch_numeric(to, op, [&]<typename To>() -> Status {
      To* out = y->data_as<To>();
      for (int64_t i = 0; i < n; ++i) out[i] = convert<To>(in[i]);
      return Status::Ok();
    });
  });
}

// Cast-1 names the target type with its TensorProto.DataType enum name ("FLOAT", "INT64").
std::optional<DataType> cast1_target(std::string_view name) {
  for (int32_t i = 1; i <= kMaxDataType; ++i) {
    const DataTypeInfo* info = data_type_info(i);
    if (info != nullptr && info->type != D::kUndefined && name == info->onnx_name)
      return info->type;
  }
  return std::nullopt;
}

Status cast_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Cast"));
  if (!ctx.has_attr("to")) return err(Code::kInvalidArgument, "Cast needs attribute 'to'");
  if (ctx.since() < 6) {
    const std::string name = ctx.attr_string("to");
    const std::optional<DataType> target = cast1_target(name);
    if (!target)
      return err(Code::kInvalidArgument, "Cast-1 attribute 'to' = \"", name,
                 "\" is not an ONNX data type name (\"FLOAT\", \"INT64\", ...)");
    return cast_to(ctx, "Cast", *x, *target);
  }
  const int64_t to = ctx.attr_int("to");
  const DataTypeInfo* info =
      to >= 0 && to <= kMaxDataType ? data_type_info(static_cast<int32_t>(to)) : nullptr;
  if (info == nullptr || info->type == D::kUndefined)
    return err(Code::kInvalidArgument, "Cast attribute 'to' = ", to,
               " is not an ONNX data type (1..", kMaxDataType, ")");
  return cast_to(ctx, "Cast", *x, info->type);
}

Status cast_like_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "CastLike"));
  KILN_ASSIGN_OR_RETURN(const Tensor* target, required_input(ctx, 1, "CastLike"));
  return cast_to(ctx, "CastLike", *x, target->dtype());
}

std::vector<DataType> cast_types(int64_t since) {
  std::vector<DataType> v = type_sets::ints();
  v.insert(v.end(), {D::kFloat16, D::kFloat32, D::kFloat64, D::kBool});
  if (since >= 9) v.push_back(D::kString);
  if (since >= 13) v.push_back(D::kBFloat16);
  if (since >= 19)
    v.insert(v.end(), {D::kFloat8E4M3FN, D::kFloat8E4M3FNUZ, D::kFloat8E5M2, D::kFloat8E5M2FNUZ});
  if (since >= 21) v.insert(v.end(), {D::kUInt4, D::kInt4});
  return v;
}

// `to` is a plain int in the schema; the types it may name are this revision's T2.
void check_cast_to(const ir::Node& node, const OpSchema& schema, std::vector<Status>& problems) {
  const ir::Attribute* to = node.attr("to");
  const TypeConstraint* allowed = schema.find_types("T2");
  if (to == nullptr || allowed == nullptr) return;
  for (DataType t : allowed->types)
    if (static_cast<int64_t>(t) == to->i) return;
  std::string names;
  for (DataType t : allowed->types)
    names += std::string(names.empty() ? "" : ", ") + data_type_name(t);
  const DataTypeInfo* info =
      to->i >= 0 && to->i <= kMaxDataType ? data_type_info(static_cast<int32_t>(to->i)) : nullptr;
  problems.push_back(err(Code::kAttributeValueUnsupported, "attribute 'to' = ", to->i, " (",
                         info != nullptr ? info->name : "not a data type", ") (allowed: ", names,
                         ")"));
}

Status cast_infer(InferContext& ctx) {
  const DataTypeInfo* to = data_type_info(static_cast<int32_t>(ctx.attr_int("to", 0)));
  ctx.set_output(0, to ? to->type : DataType::kUndefined, ctx.input_shape(0));
  if (to && to->is_integer)
    if (std::optional<DimValues> v = ctx.input_values(0)) ctx.set_output_values(0, *v);
  return Status::Ok();
}

Status cast_like_infer(InferContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(1), ctx.input_shape(0));
  return Status::Ok();
}

// Cast-1's `to` is a type name; the types it may name are T2.
void check_cast1_to(const ir::Node& node, const OpSchema& schema, std::vector<Status>& problems) {
  const ir::Attribute* to = node.attr("to");
  const TypeConstraint* allowed = schema.find_types("T2");
  if (to == nullptr || allowed == nullptr) return;
  const std::optional<DataType> target = cast1_target(to->s);
  std::string names;
  for (DataType t : allowed->types) {
    if (target == t) return;
    names += std::string(names.empty() ? "\"" : ", \"") + data_type_info(t).onnx_name + "\"";
  }
  problems.push_back(err(Code::kAttributeValueUnsupported, "attribute 'to' = \"", to->s,
                         "\" (allowed: ", names, ")"));
}

}  // namespace

void register_cast(OpRegistry& registry) {
  using ir::AttrType;
  // Cast-1 names the target type as a string; 6 switched to the enum's number.
  registry.add(OpSchema("Cast", 1)
                   .input("input", "T1")
                   .output("output", "T2")
                   .types("T1", cast_types(1))
                   .types("T2", cast_types(1))
                   .required_attr("to", AttrType::kString)
                   .check(check_cast1_to)
                   .fusion(FusionKind::kInjective)
                   .kernel(cast_kernel));
  for (int64_t since : {6, 9, 13, 19, 21}) {
    OpSchema s("Cast", since);
    s.input("input", "T1")
        .output("output", "T2")
        .types("T1", cast_types(since))
        .types("T2", cast_types(since))
        .required_attr("to", AttrType::kInt);
    // saturate only affects float8 targets, which arrived together with it.
    if (since >= 19) s.attr_int_enum("saturate", 1, {0, 1});
    s.check(check_cast_to).fusion(FusionKind::kInjective).kernel(cast_kernel).infer(cast_infer);
    registry.add(std::move(s));
  }
  // CastLike-15 matches Cast-13's type list.
  for (int64_t since : {15, 19, 21}) {
    OpSchema s("CastLike", since);
    s.input("input", "T1")
        .input("target_type", "T2")
        .output("output", "T2")
        .types("T1", cast_types(since == 15 ? 13 : since))
        .types("T2", cast_types(since == 15 ? 13 : since));
    if (since >= 19) s.attr_int_enum("saturate", 1, {0, 1});
    s.fusion(FusionKind::kInjective).kernel(cast_like_kernel).infer(cast_like_infer);
    registry.add(std::move(s));
  }
}

}  // namespace kiln::ops
