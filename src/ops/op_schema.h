// Operator schemas: what kiln knows about each ONNX operator revision.
//
// One file per op (or tight family) under src/ops/ defines the revisions kiln implements with
// the OpSchema builder and registers them through ops.def. Later stages hang type/shape
// inference and reference kernels off the same entries.
//
// Versioning: `since` is the ONNX since_version of the revision. An entry applies to models
// importing its domain at versions [since, next entry's since - 1], the last one up to
// kMaxOpset (max_opset() for other domains). Every ONNX revision of an op inside kiln's opset range
// needs an entry; one kiln does not implement is declared with .unsupported(reason) so it fails
// with a precise message instead of silently borrowing an older revision's semantics.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ir/attribute.h"
#include "ir/graph.h"
#include "kiln/status.h"
#include "kiln/types.h"
#include "ops/kernel.h"
#include "ops/shape_infer.h"

namespace kiln::ops {

// The ai.onnx opset range kiln supports; the single place this is declared.
inline constexpr int64_t kMinOpset = 1;
inline constexpr int64_t kMaxOpset = 21;

// The other domain kiln implements; ONNX defines it at version 1 only.
inline constexpr std::string_view kTrainingDomain = "ai.onnx.preview.training";
inline constexpr int64_t kTrainingOpset = 1;

// kiln's own operators: what the graph optimizer fuses nodes into (FusedConv, Attention, …).
// Models never import this domain; passes create its nodes at version kKilnOpset.
inline constexpr std::string_view kKilnDomain = "kiln";
inline constexpr int64_t kKilnOpset = 1;

// The newest version of `domain` whose revisions kiln registers: the last revision of an op
// applies up to it. kMaxOpset for ai.onnx.
int64_t max_opset(std::string_view domain);

// The version a node importing `domain` at `opset` is judged at: an ai.onnx opset outside
// kiln's range (reported once for the model) is clamped into it, other domains are exact.
int64_t effective_opset(std::string_view domain, int64_t opset);

// TVM-style fusion categories; the optimizer derives generic fusion from them.
enum class FusionKind : uint8_t { kElementwise, kBroadcast, kInjective, kReduction, kOpaque };
const char* fusion_kind_name(FusionKind kind);

enum class Arity : uint8_t { kSingle, kOptional, kVariadic };

struct IoSpec {
  std::string name;
  std::string type_var;  // key into the schema's type constraints ("T"), or a fixed type name
  Arity arity = Arity::kSingle;
  int min_count = 1;        // for kVariadic
  bool homogeneous = true;  // kVariadic: all values share one type (false: If/Loop/Scan values)
};

using AttrDefault = std::variant<std::monostate, int64_t, float, std::string, std::vector<int64_t>,
                                 std::vector<float>, std::vector<std::string>>;

struct AttrSpec {
  std::string name;
  ir::AttrType type = ir::AttrType::kUndefined;
  bool required = false;
  AttrDefault default_value;          // monostate: no default (optional without value)
  std::vector<std::string> allowed;   // string attributes: the values kiln implements
  std::vector<int64_t> allowed_ints;  // int attributes: the values kiln implements
};

struct TypeConstraint {
  std::string var;
  std::vector<DataType> types;
};

class OpSchema;
// Extra per-node validation beyond the declarative parts (attribute combinations, ranges).
// Append one Status per problem; the checker adds the node reference.
using NodeCheck = std::function<void(const ir::Node&, const OpSchema&, std::vector<Status>&)>;

class OpSchema {
 public:
  OpSchema(std::string op_type, int64_t since, std::string domain = "");

  OpSchema& input(std::string name, std::string type_var, Arity arity = Arity::kSingle,
                  int min_count = 1, bool homogeneous = true);
  OpSchema& output(std::string name, std::string type_var, Arity arity = Arity::kSingle,
                   int min_count = 1, bool homogeneous = true);
  OpSchema& types(std::string var, std::vector<DataType> types);
  OpSchema& attr(std::string name, ir::AttrType type, AttrDefault default_value = {});
  OpSchema& required_attr(std::string name, ir::AttrType type);
  // String attribute restricted to the listed values (first value need not be the default).
  OpSchema& attr_enum(std::string name, std::string default_value,
                      std::vector<std::string> allowed);
  // Int attribute restricted to the listed values.
  OpSchema& attr_int_enum(std::string name, int64_t default_value, std::vector<int64_t> allowed);
  OpSchema& fusion(FusionKind kind);
  OpSchema& check(NodeCheck fn);
  // This revision exists in ONNX but kiln does not implement it.
  OpSchema& unsupported(std::string reason);
  OpSchema& doc(std::string text);
  // The reference kernel (see ops/kernel.h). Revisions without one cannot run yet.
  OpSchema& kernel(KernelFn fn);
  // Type/shape inference (see ops/shape_infer.h); without one the fusion-kind default applies.
  OpSchema& infer(InferFn fn);

  const std::string& op_type() const { return op_type_; }
  const std::string& domain() const { return domain_; }
  int64_t since() const { return since_; }
  int64_t until() const { return until_; }  // set by the registry
  const std::vector<IoSpec>& inputs() const { return inputs_; }
  const std::vector<IoSpec>& outputs() const { return outputs_; }
  const std::vector<AttrSpec>& attrs() const { return attrs_; }
  const std::vector<TypeConstraint>& type_constraints() const { return type_constraints_; }
  const AttrSpec* find_attr(std::string_view name) const;
  const TypeConstraint* find_types(std::string_view var) const;
  FusionKind fusion_kind() const { return fusion_; }
  const NodeCheck& node_check() const { return check_; }
  bool is_supported() const { return unsupported_reason_.empty(); }
  const std::string& unsupported_reason() const { return unsupported_reason_; }
  const std::string& doc_text() const { return doc_; }
  const KernelFn& reference_kernel() const { return kernel_; }
  const InferFn& infer_fn() const { return infer_; }

  // Allowed input/output counts.
  int min_inputs() const;
  int max_inputs() const;  // INT32_MAX when variadic
  int min_outputs() const;
  int max_outputs() const;

 private:
  friend class OpRegistry;
  std::string op_type_, domain_;
  int64_t since_;
  int64_t until_ = kMaxOpset;
  std::vector<IoSpec> inputs_, outputs_;
  std::vector<AttrSpec> attrs_;
  std::vector<TypeConstraint> type_constraints_;
  FusionKind fusion_ = FusionKind::kOpaque;
  NodeCheck check_;
  std::string unsupported_reason_;
  std::string doc_;
  KernelFn kernel_;
  InferFn infer_;
};

class OpRegistry {
 public:
  // The built-in operators (ops.def), built on first use.
  static const OpRegistry& builtin();

  // Adds a revision; the registry recomputes `until` of the op's revisions.
  void add(OpSchema schema);

  // The revision that applies at `opset` of the schema's domain, or nullptr.
  const OpSchema* find(std::string_view domain, std::string_view op_type, int64_t opset) const;
  // Every registered revision of an op, oldest first (empty if the op is unknown).
  std::vector<const OpSchema*> revisions(std::string_view domain, std::string_view op_type) const;
  bool knows_domain(std::string_view domain) const;
  // Every schema, sorted by (domain, op_type, since).
  std::vector<const OpSchema*> all() const;
  // Op types of a domain, sorted.
  std::vector<std::string> op_types(std::string_view domain) const;

 private:
  std::vector<OpSchema> schemas_;
  void relink(std::string_view domain, std::string_view op_type);
};

// Common type sets for schema definitions.
namespace type_sets {
std::vector<DataType> floats();         // f16, bf16, f32, f64
std::vector<DataType> signed_ints();    // i8, i16, i32, i64
std::vector<DataType> unsigned_ints();  // u8, u16, u32, u64
std::vector<DataType> ints();           // signed + unsigned
std::vector<DataType> numeric();        // ints + floats
std::vector<DataType> all_tensor();     // numeric + bool + string + complex
std::vector<DataType> index();          // i32, i64
std::vector<DataType> ieee_floats();    // f16, f32, f64 (no bfloat16)
// ONNX's "all tensor types" as the list grew for ops revised at `since`: bfloat16 from
// `bf16_since` (13 for most ops, 16 for control flow), float8 from 19, int4/uint4 from 21.
std::vector<DataType> all_tensor_at(int64_t since, int64_t bf16_since = 13);
std::vector<DataType> with(std::vector<DataType> types, std::initializer_list<DataType> extra);
}  // namespace type_sets

}  // namespace kiln::ops
