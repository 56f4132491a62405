#include "builder/profiles.h"

#include "core/errors.h"

namespace kiln::builder {
namespace {

// Largest element count a profile may ask for; beyond it the planned arena could not exist.
constexpr int64_t kMaxProfileElements = int64_t{1} << 40;

bool is_dynamic(const ir::ValueType& t) {
  if (!t.shape.rank_known()) return true;
  for (size_t i = 0; i < t.shape.rank(); ++i)
    if (!t.shape[i].is_static()) return true;
  return false;
}

std::vector<int64_t> static_shape(const ir::ValueType& t) {
  std::vector<int64_t> s;
  for (size_t i = 0; i < t.shape.rank(); ++i) s.push_back(t.shape[i].value);
  return s;
}

// A shape to suggest in fixes: the declared one with dynamic dims replaced by `fill`.
std::string example_shape(const ir::ValueType& t, int64_t fill) {
  if (!t.shape.rank_known()) return "AxBxC";
  std::vector<int64_t> s;
  for (size_t i = 0; i < t.shape.rank(); ++i)
    s.push_back(t.shape[i].is_static() ? t.shape[i].value : fill);
  return shape_x(s);
}

std::string dynamic_dims(const ir::ValueType& t) {
  if (!t.shape.rank_known()) return "its rank is unknown";
  std::string out;
  for (size_t i = 0; i < t.shape.rank(); ++i)
    if (!t.shape[i].is_static())
      out += str(out.empty() ? "" : ", ", i, " (", t.shape[i].to_string(), ")");
  return "dynamic dims " + out;
}

void check_range(const ir::Value& v, size_t p, const ShapeRangeSpec& r,
                 std::vector<Status>& problems) {
  const std::string& name = v.name();
  if (r.min.size() != r.opt.size() || r.opt.size() != r.max.size()) {
    problems.push_back(err(Code::kProfileRangeInvalid, "profile ", p, " input '", name, "': min ",
                           Dims::of(r.min).to_string(), ", opt ", Dims::of(r.opt).to_string(),
                           " and max ", Dims::of(r.max).to_string(), " have different ranks"));
    return;
  }
  const Dims& declared = v.type.shape;
  if (declared.rank_known() && declared.rank() != r.min.size()) {
    problems.push_back(
        err(Code::kProfileShapeMismatch, "profile ", p, " input '", name, "' is given rank-",
            r.min.size(), " shapes (", shape_x(r.min), ") but the model declares rank ",
            declared.rank(), " ", v.type.to_string())
            .with_fix(str("give '", name, "' shapes like ", example_shape(v.type, 1))));
    return;
  }
  for (size_t d = 0; d < r.min.size(); ++d) {
    if (r.min[d] < 0 || r.min[d] > r.opt[d] || r.opt[d] > r.max[d])
      problems.push_back(err(Code::kProfileRangeInvalid, "profile ", p, " input '", name, "' dim ",
                             d, ": min ", r.min[d], ", opt ", r.opt[d], ", max ", r.max[d],
                             " (min ", shape_x(r.min), ", opt ", shape_x(r.opt), ", max ",
                             shape_x(r.max), "); need 0 <= min <= opt <= max"));
    else if (declared.rank_known() && declared[d].is_static() &&
             (r.min[d] != declared[d].value || r.max[d] != declared[d].value))
      problems.push_back(
          err(Code::kProfileShapeMismatch, "profile ", p, " input '", name, "' dim ", d,
              " ranges over [", r.min[d], ", ", r.max[d], "] but the model fixes it to ",
              declared[d].value, " (", v.type.to_string(), ")")
              .with_fix(str("use ", declared[d].value, " for dim ", d, " in min, opt and max")));
  }
  const std::optional<int64_t> n = checked_numel(r.max);
  if (!n || *n > kMaxProfileElements)
    problems.push_back(err(Code::kInvalidOption, "profile ", p, " input '", name, "' max shape ",
                           shape_x(r.max), " has more than 2^40 elements"));
}

}  // namespace

std::string shape_x(const std::vector<int64_t>& shape) {
  std::string out;
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? "x" : "") + std::to_string(shape[i]);
  return out.empty() ? "scalar" : out;
}

InputRanges resolve_profiles(const ir::Graph& graph,
                             const std::vector<OptimizationProfile>& profiles,
                             std::vector<Status>& problems) {
  InputRanges out;
  std::string names;
  for (const ir::Value* v : graph.inputs())
    if (!v->is_initializer()) {
      out.inputs.push_back(v);
      names += (names.empty() ? "'" : ", '") + v->name() + "'";
    }
  std::vector<OptimizationProfile> given = profiles;
  if (given.empty()) given.emplace_back();  // static models need no profile
  for (size_t p = 0; p < given.size(); ++p) {
    for (const auto& [name, range] : given[p].shapes()) {
      const ir::Value* v = graph.find(name);
      if (v == nullptr || !v->is_graph_input() || v->is_initializer())
        problems.push_back(err(Code::kProfileUnknownInput, "profile ", p, " gives shapes for '",
                               name, "', which is not an input of the model (inputs: ",
                               names.empty() ? "none" : names, ")"));
    }
    std::vector<engine::ShapeRange> ranges;
    for (const ir::Value* v : out.inputs) {
      auto it = given[p].shapes().find(v->name());
      if (it == given[p].shapes().end()) {
        if (is_dynamic(v->type)) {
          const std::string ex = example_shape(v->type, 1);
          const std::string ex_max = example_shape(v->type, 8);
          problems.push_back(
              err(Code::kDynamicInputNeedsProfile, "input '", v->name(), "' ", v->type.to_string(),
                  " has ", dynamic_dims(v->type), " but ",
                  profiles.empty() ? "no optimization profile was given"
                                   : str("profile ", p, " gives no range for it"))
                  .with_fix(str("give its range: --min-shapes ", v->name(), ":", ex,
                                " --opt-shapes ", v->name(), ":", ex_max, " --max-shapes ",
                                v->name(), ":", ex_max, " (or --shapes ", v->name(), ":", ex,
                                " for one fixed shape)")));
          ranges.push_back({});
          continue;
        }
        const std::vector<int64_t> s = static_shape(v->type);
        ranges.push_back({s, s, s});
        continue;
      }
      check_range(*v, p, it->second, problems);
      ranges.push_back({it->second.min, it->second.opt, it->second.max});
    }
    out.ranges.push_back(std::move(ranges));
  }
  return out;
}

}  // namespace kiln::builder
