// Shared harness for the kernel unit tests (tests/unit/test_kernels_*.cpp).
//
// Every kernel test builds small input tensors, runs a single node through the reference
// interpreter and compares the outputs with independently computed values. This header holds
// that harness once, so the test files only carry what is specific to their ops:
//
//   tensor makers   make<T>(dtype, shape, values) copies raw elements; make_from_doubles converts
//                   each double to the element type; f32/f64/i64/i32/i16/i8/u8/u16/u64/boolean,
//                   f16/bf16 (from floats), strings(shape, v), none() (an omitted input), iota_f32.
//   readers         values(t) (every numeric element as double), raw<T>(t), string_values(t).
//   comparisons     expect_near_all (default relative tolerance 1e-6), expect_near_all_loose
//                   (the same check with a default of 1e-5), expect_near(tensor, want) (1e-5).
//                   All three: NaN in `want` matches NaN, +-inf must match exactly, anything
//                   else within tol * max(1, |want|).
//   running a node  Attrs (chained attribute list), run_op (n outputs, some omitted, output
//                   dtypes optionally declared), run_op_in_domain, run_single (Result<Tensor>),
//                   run1 (must succeed, first output).
//   errors          expect_error(result, code) checks the code and returns the message;
//                   contains() and EXPECT_HAS for message checks.
//
// Test files pull it in with `using namespace kiln::test;` inside their own namespace; a local
// declaration of the same name (a file-specific maker, say) hides the shared one.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "interp/interpreter.h"
#include "ir/graph.h"
#include "ops/kernel_util.h"

namespace kiln::test {

using Shape = std::vector<int64_t>;
using D = DataType;

// ---- tensors ----------------------------------------------------------------------------------

// Raw element copy: `values` must already have the element type's representation.
template <typename T>
Tensor make(D dtype, Shape shape, const std::vector<T>& values) {
  Tensor t = Tensor::allocate(dtype, std::move(shape)).value();
  EXPECT_EQ(static_cast<size_t>(t.numel()), values.size());
  if constexpr (std::is_same_v<T, bool>) {
    // std::vector<bool> is packed, so it cannot be memcpy'd.
    for (size_t i = 0; i < values.size() && i < static_cast<size_t>(t.numel()); ++i)
      t.data_as<bool>()[i] = values[i];
  } else {
    if (!values.empty() && values.size() == static_cast<size_t>(t.numel()))
      std::memcpy(t.data(), values.data(), values.size() * sizeof(T));
  }
  return t;
}

// Converts every double to `dtype` (any numeric type), for tests that compute inputs in double.
inline Tensor make_from_doubles(D dtype, Shape shape, const std::vector<double>& v) {
  Result<Tensor> r = Tensor::allocate(dtype, std::move(shape));
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  if (!r.ok()) return Tensor();
  Tensor t = std::move(r).value();
  EXPECT_EQ(static_cast<size_t>(t.numel()), v.size());
  Status s = ops::dispatch_numeric(dtype, "test", [&]<typename T>() -> Status {
    for (size_t i = 0; i < v.size() && i < static_cast<size_t>(t.numel()); ++i)
      t.data_as<T>()[i] = static_cast<T>(static_cast<ops::compute_t<T>>(v[i]));
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.to_string();
  return t;
}

inline Tensor f32(Shape s, std::vector<float> v) {
  return make(D::kFloat32, std::move(s), v);
}
inline Tensor f64(Shape s, std::vector<double> v) {
  return make(D::kFloat64, std::move(s), v);
}
inline Tensor i64(Shape s, std::vector<int64_t> v) {
  return make(D::kInt64, std::move(s), v);
}
inline Tensor i32(Shape s, std::vector<int32_t> v) {
  return make(D::kInt32, std::move(s), v);
}
inline Tensor i16(Shape s, std::vector<int16_t> v) {
  return make(D::kInt16, std::move(s), v);
}
inline Tensor i8(Shape s, std::vector<int8_t> v) {
  return make(D::kInt8, std::move(s), v);
}
inline Tensor u8(Shape s, std::vector<uint8_t> v) {
  return make(D::kUInt8, std::move(s), v);
}
inline Tensor u16(Shape s, std::vector<uint16_t> v) {
  return make(D::kUInt16, std::move(s), v);
}
inline Tensor u64(Shape s, std::vector<uint64_t> v) {
  return make(D::kUInt64, std::move(s), v);
}
inline Tensor boolean(Shape s, std::vector<bool> v) {
  return make(D::kBool, std::move(s), v);
}
inline Tensor f16(Shape s, const std::vector<float>& v) {
  std::vector<ops::Half> h;
  for (float f : v) h.emplace_back(f);
  return make(D::kFloat16, std::move(s), h);
}
inline Tensor bf16(Shape s, const std::vector<float>& v) {
  std::vector<ops::BFloat16> h;
  for (float f : v) h.emplace_back(f);
  return make(D::kBFloat16, std::move(s), h);
}
inline Tensor strings(Shape s, std::vector<std::string> v) {
  return Tensor::strings(std::move(s), std::move(v)).value();
}
// An omitted optional input.
inline Tensor none() {
  return Tensor();
}
// 0, 1, 2, ... in row-major order.
inline Tensor iota_f32(Shape s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return f32(std::move(s), v);
}

// ---- readers ----------------------------------------------------------------------------------

// Every element as double (any numeric type, bool as 0/1).
inline std::vector<double> values(const Tensor& t) {
  std::vector<double> out;
  Status s = ops::dispatch_numeric(t.dtype(), "test", [&]<typename T>() -> Status {
    for (int64_t i = 0; i < t.numel(); ++i)
      out.push_back(static_cast<double>(static_cast<ops::compute_t<T>>(t.data_as<T>()[i])));
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.to_string();
  return out;
}
template <typename T>
std::vector<T> raw(const Tensor& t) {
  EXPECT_EQ(t.dtype(), ops::data_type_of<T>());
  if (t.dtype() != ops::data_type_of<T>()) return {};
  return std::vector<T>(t.data_as<T>(), t.data_as<T>() + t.numel());
}
inline std::vector<std::string> string_values(const Tensor& t) {
  EXPECT_EQ(t.dtype(), D::kString);
  if (t.dtype() != D::kString) return {};
  return std::vector<std::string>(t.data_as<std::string>(), t.data_as<std::string>() + t.numel());
}

// ---- comparisons ------------------------------------------------------------------------------

// NaN in `want` matches NaN and +-inf must match exactly (checking either with EXPECT_NEAR would
// always fail); other elements may be off by tol * max(1, |want|).
inline void expect_near_all(const std::vector<double>& got, const std::vector<double>& want,
                            double tol = 1e-6) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "element " << i << " = " << got[i];
    } else if (std::isinf(want[i])) {
      EXPECT_EQ(got[i], want[i]) << "element " << i;
    } else {
      EXPECT_NEAR(got[i], want[i], tol * std::max(1.0, std::fabs(want[i]))) << "element " << i;
    }
  }
}
// The same check with a default tolerance of 1e-5, for files whose golden values are looser
// (reductions, convolutions) and whose calls rely on that default.
inline void expect_near_all_loose(const std::vector<double>& got, const std::vector<double>& want,
                                  double tol = 1e-5) {
  expect_near_all(got, want, tol);
}
// Every element of `t` against `want`, default tolerance 1e-5.
inline void expect_near(const Tensor& t, const std::vector<double>& want, double tol = 1e-5) {
  expect_near_all(values(t), want, tol);
}

// ---- running one node -------------------------------------------------------------------------

// Move-only (attributes are), built by chaining on a temporary: Attrs().i("axis", 1).f(...).
struct Attrs {
  std::vector<ir::Attribute> list;
  Attrs&& i(const std::string& n, int64_t v) && {
    list.push_back(ir::Attribute::make_int(n, v));
    return std::move(*this);
  }
  Attrs&& f(const std::string& n, float v) && {
    list.push_back(ir::Attribute::make_float(n, v));
    return std::move(*this);
  }
  Attrs&& s(const std::string& n, std::string v) && {
    list.push_back(ir::Attribute::make_string(n, std::move(v)));
    return std::move(*this);
  }
  Attrs&& ints(const std::string& n, std::vector<int64_t> v) && {
    list.push_back(ir::Attribute::make_ints(n, std::move(v)));
    return std::move(*this);
  }
  Attrs&& floats(const std::string& n, std::vector<float> v) && {
    list.push_back(ir::Attribute::make_floats(n, std::move(v)));
    return std::move(*this);
  }
  Attrs&& strings(const std::string& n, std::vector<std::string> v) && {
    ir::Attribute a;
    a.name = n;
    a.type = ir::AttrType::kStrings;
    a.strings = std::move(v);
    list.push_back(std::move(a));
    return std::move(*this);
  }
  Attrs&& tensor(const std::string& n, Tensor t) && {
    ir::Attribute a;
    a.name = n;
    a.type = ir::AttrType::kTensor;
    a.t = std::move(t);
    list.push_back(std::move(a));
    return std::move(*this);
  }
};

// Runs one node of `domain` in a model importing `opset` for it. outputs: how many the node has;
// `skip` names output slots left omitted (they come back empty); `declared` gives output dtypes
// (missing or undefined = not declared). Empty input tensors become omitted inputs.
inline Result<std::vector<Tensor>> run_op_in_domain(const std::string& op,
                                                    const std::string& domain, int64_t opset,
                                                    std::vector<Tensor> inputs, Attrs attrs = {},
                                                    size_t outputs = 1,
                                                    std::vector<size_t> skip = {},
                                                    std::vector<D> declared = {}) {
  auto g = std::make_unique<ir::Graph>("main");
  std::vector<ir::Value*> ins, outs;
  interp::TensorMap feed;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].empty()) {
      ins.push_back(nullptr);
      continue;
    }
    ir::ValueType type;
    type.dtype = inputs[i].dtype();
    type.shape = Dims::of(inputs[i].shape());
    const std::string name = "in" + std::to_string(i);
    ins.push_back(g->add_input(name, type).value());
    feed[name] = std::move(inputs[i]);
  }
  for (size_t i = 0; i < outputs; ++i) {
    if (std::find(skip.begin(), skip.end(), i) != skip.end()) {
      outs.push_back(nullptr);
      continue;
    }
    ir::ValueType type;
    if (i < declared.size()) type.dtype = declared[i];
    ir::Value* v = g->add_value("out" + std::to_string(i), type).value();
    g->add_output(v);
    outs.push_back(v);
  }
  g->add_node(op, domain, op + "_0", ins, outs, std::move(attrs.list), opset, 0);
  ir::Model model;
  model.opsets[domain] = opset;
  model.graph = std::move(g);
  KILN_ASSIGN_OR_RETURN(interp::TensorMap result, interp::run(model, feed));
  std::vector<Tensor> out;
  for (size_t i = 0; i < outputs; ++i) {
    auto it = result.find("out" + std::to_string(i));
    out.push_back(it == result.end() ? Tensor() : it->second);
  }
  return out;
}

// run_op_in_domain for the default ONNX domain.
inline Result<std::vector<Tensor>> run_op(const std::string& op, int64_t opset,
                                          std::vector<Tensor> inputs, Attrs attrs = {},
                                          size_t outputs = 1, std::vector<size_t> skip = {},
                                          std::vector<D> declared = {}) {
  return run_op_in_domain(op, "", opset, std::move(inputs), std::move(attrs), outputs,
                          std::move(skip), std::move(declared));
}

// A single-output node; its one output or the run's failure.
inline Result<Tensor> run_single(const std::string& op, int64_t opset, std::vector<Tensor> inputs,
                                 Attrs attrs = {}) {
  KILN_ASSIGN_OR_RETURN(std::vector<Tensor> out,
                        run_op(op, opset, std::move(inputs), std::move(attrs)));
  return std::move(out[0]);
}

// A run that must succeed; its first output (empty after a reported failure).
inline Tensor run1(const std::string& op, int64_t opset, std::vector<Tensor> inputs,
                   Attrs attrs = {}) {
  auto r = run_op(op, opset, std::move(inputs), std::move(attrs));
  EXPECT_TRUE(r.ok()) << op << " at opset " << opset << ": " << r.status().to_string();
  return r.ok() ? (*r)[0] : Tensor();
}

// ---- errors -----------------------------------------------------------------------------------

// The failure of a run that must fail, with its code checked and its message returned.
template <typename T>
std::string expect_error(const Result<T>& r, Code code) {
  EXPECT_FALSE(r.ok()) << "expected " << format_code(static_cast<int>(code));
  if (r.ok()) return {};
  EXPECT_EQ(r.status().code(), static_cast<int>(code)) << r.status().to_string();
  return r.status().message();
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace kiln::test

// Checks that `text` (evaluated once) contains `part`.
#define EXPECT_HAS(text, part)                                                                \
  do {                                                                                        \
    const std::string text_ = (text);                                                         \
    EXPECT_NE(text_.find(part), std::string::npos) << "'" << (part) << "' not in: " << text_; \
  } while (0)
