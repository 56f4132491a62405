#include "tools/shape_spec.h"

#include <charconv>

#include "core/errors.h"

namespace kiln::tools {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

Result<std::vector<int64_t>> parse_dims(const std::string& text, const std::string& spec,
                                        const char* option) {
  std::vector<int64_t> dims;
  if (text.empty()) return dims;
  for (const std::string& part : split(text, 'x')) {
    int64_t v = -1;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size() || v < 0)
      return err(Code::kInvalidOption, option, " '", spec, "': '", part,
                 "' is not a dimension (a whole number >= 0)")
          .with_fix(str("write shapes as NAME:AxBxC, e.g. ", option, " input:1x3x224x224"));
    dims.push_back(v);
  }
  return dims;
}

}  // namespace

Result<ShapeMap> parse_shape_specs(const std::vector<std::string>& specs, const char* option) {
  ShapeMap out;
  for (const std::string& arg : specs)
    for (const std::string& spec : split(arg, ',')) {
      if (spec.empty()) continue;
      const size_t colon = spec.rfind(':');
      if (colon == std::string::npos || colon == 0)
        return err(Code::kInvalidOption, option, " '", spec, "' is not NAME:AxBxC")
            .with_fix(str("e.g. ", option, " input:1x3x224x224"));
      KILN_ASSIGN_OR_RETURN(std::vector<int64_t> dims,
                            parse_dims(spec.substr(colon + 1), spec, option));
      out[spec.substr(0, colon)] = std::move(dims);
    }
  return out;
}

Result<std::vector<OptimizationProfile>> profiles_from_options(
    const std::vector<std::string>& shapes, const std::vector<std::string>& min,
    const std::vector<std::string>& opt, const std::vector<std::string>& max,
    const std::vector<std::string>& extra_profiles) {
  std::vector<OptimizationProfile> out;
  KILN_ASSIGN_OR_RETURN(ShapeMap fixed, parse_shape_specs(shapes, "--shapes"));
  KILN_ASSIGN_OR_RETURN(ShapeMap lo, parse_shape_specs(min, "--min-shapes"));
  KILN_ASSIGN_OR_RETURN(ShapeMap mid, parse_shape_specs(opt, "--opt-shapes"));
  KILN_ASSIGN_OR_RETURN(ShapeMap hi, parse_shape_specs(max, "--max-shapes"));
  if (!fixed.empty() || !lo.empty() || !mid.empty() || !hi.empty()) {
    OptimizationProfile p;
    for (const auto& [name, s] : fixed) p.set(name, s);
    std::map<std::string, int> seen;
    for (const ShapeMap* m : {&lo, &mid, &hi})
      for (const auto& entry : *m) ++seen[entry.first];
    for (const auto& [name, count] : seen) {
      if (fixed.count(name))
        return err(Code::kInvalidOption, "input '", name,
                   "' is given both --shapes and --min/--opt/--max-shapes");
      if (!lo.count(name) || !hi.count(name))
        return err(Code::kInvalidOption, "input '", name, "' needs both --min-shapes and "
                   "--max-shapes (", lo.count(name) ? "--max-shapes" : "--min-shapes",
                   " is missing)");
      // trtexec: opt defaults to max when not given.
      p.set(name, lo[name], mid.count(name) ? mid[name] : hi[name], hi[name]);
    }
    out.push_back(std::move(p));
  }
  for (const std::string& arg : extra_profiles) {
    OptimizationProfile p;
    for (const std::string& spec : split(arg, ',')) {
      const std::vector<std::string> parts = split(spec, ':');
      if (parts.size() < 4)
        return err(Code::kInvalidOption, "--profile '", spec, "' is not NAME:MIN:OPT:MAX")
            .with_fix("e.g. --profile x:1x3x224x224:8x3x224x224:16x3x224x224");
      std::string name = parts[0];
      for (size_t i = 1; i + 3 < parts.size(); ++i) name += ":" + parts[i];
      const size_t n = parts.size();
      KILN_ASSIGN_OR_RETURN(auto a, parse_dims(parts[n - 3], spec, "--profile"));
      KILN_ASSIGN_OR_RETURN(auto b, parse_dims(parts[n - 2], spec, "--profile"));
      KILN_ASSIGN_OR_RETURN(auto c, parse_dims(parts[n - 1], spec, "--profile"));
      p.set(name, a, b, c);
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace kiln::tools
