// Cross-checks kiln's operator registry against libonnx's operator definitions.
//
// Every op kiln registers in the default domain is compared, so a new op file is covered without
// touching this test. libonnx (Debian 1.12) knows revisions up to opset 17; revisions introduced
// later are only checked for registry consistency. Each test collects every mismatch and fails
// once, so one run shows the whole list.
#include <onnx/defs/schema.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "ops/op_schema.h"

namespace kiln::ops {
namespace {

constexpr int64_t kOnnxMaxOpset = 17;  // newest opset libonnx 1.12 defines

const onnx::OpSchema* onnx_schema(const std::string& op, int64_t opset) {
  return onnx::OpSchemaRegistry::Schema(op, static_cast<int>(opset), "");
}

std::string rev_name(const OpSchema& s) {
  return s.op_type() + "-" + std::to_string(s.since());
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += "  " + l + "\n";
  return out;
}

// ONNX spells element types in lower case inside type strings: "tensor(float16)".
std::string onnx_type_name(DataType t) {
  std::string name = data_type_info(t).onnx_name;
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

// The element type of an ONNX type string. kiln describes sequence/optional values by their
// element type, so "seq(tensor(float))" and "optional(tensor(float))" both yield "float".
std::string element_of(const std::string& type_str) {
  size_t pos = type_str.rfind("tensor(");
  if (pos == std::string::npos) return type_str;
  pos += 7;
  return type_str.substr(pos, type_str.find(')', pos) - pos);
}

std::string io_arity(Arity a, int min_count) {
  switch (a) {
    case Arity::kSingle:
      return "single";
    case Arity::kOptional:
      return "optional";
    case Arity::kVariadic:
      return "variadic(min " + std::to_string(min_count) + ")";
  }
  return "?";
}

std::string onnx_arity(const onnx::OpSchema::FormalParameter& p) {
  switch (p.GetOption()) {
    case onnx::OpSchema::Single:
      return "single";
    case onnx::OpSchema::Optional:
      return "optional";
    case onnx::OpSchema::Variadic:
      return "variadic(min " + std::to_string(p.GetMinArity()) + ")";
  }
  return "?";
}

const onnx::OpSchema::TypeConstraintParam* onnx_constraint(const onnx::OpSchema& s,
                                                           const std::string& var) {
  for (const auto& c : s.typeConstraintParams())
    if (c.type_param_str == var) return &c;
  return nullptr;
}

// The element types an ONNX slot accepts: its constraint's list, or its single fixed type.
std::set<std::string> onnx_slot_types(const onnx::OpSchema& s,
                                      const onnx::OpSchema::FormalParameter& p) {
  std::set<std::string> out;
  if (const auto* c = onnx_constraint(s, p.GetTypeStr())) {
    for (const std::string& t : c->allowed_type_strs) out.insert(element_of(t));
  } else {
    out.insert(element_of(p.GetTypeStr()));
  }
  return out;
}

// The element types a kiln slot declares: its constraint's list, or a fixed type spelled either
// the ONNX way ("tensor(int64)") or kiln's ("int64"). Empty when the var resolves to nothing.
std::vector<std::string> kiln_slot_types(const OpSchema& s, const IoSpec& io) {
  std::vector<std::string> out;
  if (const TypeConstraint* c = s.find_types(io.type_var)) {
    for (DataType t : c->types) out.push_back(onnx_type_name(t));
  } else if (io.type_var.rfind("tensor(", 0) == 0) {
    out.push_back(element_of(io.type_var));
  } else if (auto t = parse_data_type(io.type_var)) {
    out.push_back(onnx_type_name(*t));
  }
  return out;
}

void compare_slots(const OpSchema& k, const onnx::OpSchema& o, bool is_input,
                   std::vector<std::string>& problems) {
  const char* kind = is_input ? "input" : "output";
  const std::vector<IoSpec>& ks = is_input ? k.inputs() : k.outputs();
  const auto& os = is_input ? o.inputs() : o.outputs();
  const std::string rev = rev_name(k);
  if (ks.size() != os.size())
    problems.push_back(rev + ": " + std::to_string(ks.size()) + " " + kind + "s, ONNX has " +
                       std::to_string(os.size()));
  for (size_t i = 0; i < std::min(ks.size(), os.size()); ++i) {
    const IoSpec& kio = ks[i];
    const auto& oio = os[i];
    const std::string where = rev + ": " + kind + " " + std::to_string(i) + " '" + kio.name + "'";
    if (kio.name != oio.GetName())
      problems.push_back(where + ": ONNX names it '" + oio.GetName() + "'");
    std::string ka = io_arity(kio.arity, kio.min_count), oa = onnx_arity(oio);
    if (ka != oa) problems.push_back(where + ": " + ka + ", ONNX " + oa);
    const bool onnx_var = onnx_constraint(o, oio.GetTypeStr()) != nullptr;
    if (onnx_var && kio.type_var != oio.GetTypeStr())
      problems.push_back(where + ": type var '" + kio.type_var + "', ONNX '" + oio.GetTypeStr() +
                         "'");
    std::vector<std::string> kt = kiln_slot_types(k, kio);
    if (kt.empty()) {
      problems.push_back(where + ": type var '" + kio.type_var + "' is not declared");
      continue;
    }
    std::set<std::string> ot = onnx_slot_types(o, oio);
    std::string extra;
    for (const std::string& t : kt)
      if (!ot.count(t)) extra += (extra.empty() ? "" : ", ") + t;
    if (!extra.empty())
      problems.push_back(where + " (" + kio.type_var + "): types not allowed by ONNX: " + extra);
  }
}

// kiln constraint vars must be ONNX's, except a var kiln introduces for a slot whose ONNX type
// is fixed ("I" = {int64} for a tensor(int64) slot); compare_slots checks those slots' types.
void compare_type_vars(const OpSchema& k, const onnx::OpSchema& o,
                       std::vector<std::string>& problems) {
  for (const TypeConstraint& c : k.type_constraints()) {
    if (onnx_constraint(o, c.var) != nullptr) continue;
    bool used = false, only_fixed = true;
    auto scan = [&](const std::vector<IoSpec>& ks, const auto& os) {
      for (size_t i = 0; i < ks.size(); ++i) {
        if (ks[i].type_var != c.var) continue;
        used = true;
        if (i >= os.size() || onnx_constraint(o, os[i].GetTypeStr()) != nullptr) only_fixed = false;
      }
    };
    scan(k.inputs(), o.inputs());
    scan(k.outputs(), o.outputs());
    if (!used || !only_fixed)
      problems.push_back(rev_name(k) + ": type var '" + c.var + "' does not exist in ONNX");
  }
}

// Nine significant digits round-trip a float, so equal renderings mean equal values.
std::string onnx_default(const onnx::AttributeProto& a) {
  std::ostringstream os;
  os << std::setprecision(9);
  switch (a.type()) {
    case onnx::AttributeProto::INT:
      os << a.i();
      break;
    case onnx::AttributeProto::FLOAT:
      os << a.f();
      break;
    case onnx::AttributeProto::STRING:
      os << '"' << a.s() << '"';
      break;
    case onnx::AttributeProto::INTS:
      os << '[';
      for (int i = 0; i < a.ints_size(); ++i) os << (i ? "," : "") << a.ints(i);
      os << ']';
      break;
    case onnx::AttributeProto::FLOATS:
      os << '[';
      for (int i = 0; i < a.floats_size(); ++i) os << (i ? "," : "") << a.floats(i);
      os << ']';
      break;
    case onnx::AttributeProto::STRINGS:
      os << '[';
      for (int i = 0; i < a.strings_size(); ++i) os << (i ? "," : "") << '"' << a.strings(i) << '"';
      os << ']';
      break;
    default:
      os << "<" << onnx::AttributeProto_AttributeType_Name(a.type()) << ">";
  }
  return os.str();
}

std::string kiln_default(const AttrDefault& d) {
  std::ostringstream os;
  os << std::setprecision(9);
  auto list = [&](const auto& v, bool quote) {
    os << '[';
    for (size_t i = 0; i < v.size(); ++i)
      os << (i ? "," : "") << (quote ? "\"" : "") << v[i] << (quote ? "\"" : "");
    os << ']';
  };
  if (std::holds_alternative<std::monostate>(d)) return "<none>";
  if (auto* i = std::get_if<int64_t>(&d)) os << *i;
  if (auto* f = std::get_if<float>(&d)) os << *f;
  if (auto* s = std::get_if<std::string>(&d)) os << '"' << *s << '"';
  if (auto* v = std::get_if<std::vector<int64_t>>(&d)) list(*v, false);
  if (auto* v = std::get_if<std::vector<float>>(&d)) list(*v, false);
  if (auto* v = std::get_if<std::vector<std::string>>(&d)) list(*v, true);
  return os.str();
}

void compare_attrs(const OpSchema& k, const onnx::OpSchema& o, std::vector<std::string>& problems) {
  const std::string rev = rev_name(k);
  for (const auto& [name, oa] : o.attributes()) {
    const AttrSpec* ka = k.find_attr(name);
    if (ka == nullptr) {
      problems.push_back(rev + ": missing attribute '" + name + "'");
      continue;
    }
    if (static_cast<int>(ka->type) != static_cast<int>(oa.type))
      problems.push_back(rev + ": attribute '" + name + "' is " + ir::attr_type_name(ka->type) +
                         ", ONNX " + ir::attr_type_name(static_cast<ir::AttrType>(oa.type)));
    if (ka->required != oa.required)
      problems.push_back(rev + ": attribute '" + name +
                         "' required=" + (ka->required ? "true" : "false") + ", ONNX " +
                         (oa.required ? "true" : "false"));
    if (oa.default_value.has_type() || !oa.default_value.name().empty()) {
      std::string od = onnx_default(oa.default_value), kd = kiln_default(ka->default_value);
      if (od != kd)
        problems.push_back(rev + ": attribute '" + name + "' default " + kd + ", ONNX " + od);
    }
  }
  for (const AttrSpec& ka : k.attrs())
    if (!o.attributes().count(ka.name))
      problems.push_back(rev + ": attribute '" + ka.name + "' does not exist in ONNX");
}

// At each opset ONNX 1.12 knows, kiln must resolve to the same revision ONNX does.
TEST(OpsVsOnnx, RevisionInEffectMatchesOnnx) {
  const OpRegistry& registry = OpRegistry::builtin();
  std::vector<std::string> problems;
  for (const std::string& op : registry.op_types("")) {
    for (int64_t v = kMinOpset; v <= kOnnxMaxOpset; ++v) {
      const onnx::OpSchema* o = onnx_schema(op, v);
      const OpSchema* k = registry.find("", op, v);
      const std::string at = op + " at opset " + std::to_string(v) + ": ";
      if (o == nullptr && k != nullptr) {
        problems.push_back(at + "kiln has " + rev_name(*k) + ", ONNX has no revision");
      } else if (o != nullptr && k == nullptr) {
        problems.push_back(at + "ONNX has revision " + std::to_string(o->SinceVersion()) +
                           (o->Deprecated() ? " (deprecated)" : "") + ", kiln none");
      } else if (o != nullptr && k->since() != o->SinceVersion()) {
        problems.push_back(at + "kiln has " + rev_name(*k) + ", ONNX revision " +
                           std::to_string(o->SinceVersion()) +
                           (o->Deprecated() ? " (deprecated)" : ""));
      }
    }
  }
  if (!problems.empty())
    ADD_FAILURE() << problems.size() << " revision mismatches:\n" << join(problems);
}

// Attributes, inputs/outputs and type constraints of each supported revision ONNX 1.12 knows.
TEST(OpsVsOnnx, SignatureMatchesOnnx) {
  const OpRegistry& registry = OpRegistry::builtin();
  std::vector<std::string> problems;
  int compared = 0;
  for (const std::string& op : registry.op_types("")) {
    for (const OpSchema* k : registry.revisions("", op)) {
      if (k->since() > kOnnxMaxOpset || !k->is_supported()) continue;
      const onnx::OpSchema* o = onnx_schema(op, k->since());
      if (o == nullptr || o->SinceVersion() != k->since()) {
        problems.push_back(rev_name(*k) + ": ONNX has no such revision");
        continue;
      }
      ++compared;
      compare_attrs(*k, *o, problems);
      compare_slots(*k, *o, /*is_input=*/true, problems);
      compare_slots(*k, *o, /*is_input=*/false, problems);
      compare_type_vars(*k, *o, problems);
    }
  }
  EXPECT_GT(compared, 0);
  if (!problems.empty())
    ADD_FAILURE() << problems.size() << " signature mismatches:\n" << join(problems);
}

// The registry's version ranges: every revision covers a non-empty range inside kiln's opsets,
// ranges of one op do not overlap, and find() resolves each opset to the revision covering it.
TEST(OpsRegistry, RevisionRangesAreConsistent) {
  const OpRegistry& registry = OpRegistry::builtin();
  std::vector<std::string> problems;
  std::map<std::pair<std::string, std::string>, bool> seen;
  for (const OpSchema* s : registry.all()) {
    if (seen[{s->domain(), s->op_type()}]) continue;
    seen[{s->domain(), s->op_type()}] = true;
    const std::vector<const OpSchema*> revs = registry.revisions(s->domain(), s->op_type());
    const std::string op = (s->domain().empty() ? "" : s->domain() + ".") + s->op_type();
    for (size_t i = 0; i < revs.size(); ++i) {
      const OpSchema& r = *revs[i];
      const std::string rev = op + "-" + std::to_string(r.since());
      if (r.until() < r.since())
        problems.push_back(rev + ": until " + std::to_string(r.until()) + " < since");
      if (i + 1 < revs.size() && r.until() >= revs[i + 1]->since())
        problems.push_back(rev + ": range up to " + std::to_string(r.until()) + " overlaps " + op +
                           "-" + std::to_string(revs[i + 1]->since()));
      for (int64_t v = std::max(r.since(), kMinOpset); v <= std::min(r.until(), kMaxOpset); ++v)
        if (registry.find(r.domain(), r.op_type(), v) != &r)
          problems.push_back(rev + ": find() at opset " + std::to_string(v) +
                             " resolves to another revision");
    }
  }
  if (!problems.empty()) ADD_FAILURE() << problems.size() << " range problems:\n" << join(problems);
}

// Every input/output names a declared type var (or a fixed type), for revisions ONNX 1.12
// cannot check too.
TEST(OpsRegistry, TypeVarsResolve) {
  std::vector<std::string> problems;
  for (const OpSchema* s : OpRegistry::builtin().all()) {
    if (!s->is_supported()) continue;
    for (const auto* list : {&s->inputs(), &s->outputs()})
      for (const IoSpec& io : *list)
        if (kiln_slot_types(*s, io).empty())
          problems.push_back(rev_name(*s) + ": '" + io.name + "' uses undeclared type var '" +
                             io.type_var + "'");
    for (const TypeConstraint& c : s->type_constraints())
      if (c.types.empty()) problems.push_back(rev_name(*s) + ": type var '" + c.var + "' is empty");
  }
  if (!problems.empty())
    ADD_FAILURE() << problems.size() << " type var problems:\n" << join(problems);
}

}  // namespace
}  // namespace kiln::ops
