// Parsing trtexec-style shape options: "x:1x3x224x224,mask:1x128" (a name may itself contain
// ':'; the last one separates the dims). Scalars are written "name:" (no dims).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kiln/builder.h"
#include "kiln/status.h"

namespace kiln::tools {

using ShapeMap = std::map<std::string, std::vector<int64_t>>;

// Several options may be given (each may hold several comma-separated specs).
Result<ShapeMap> parse_shape_specs(const std::vector<std::string>& specs, const char* option);

// Profile 0 from --shapes / --min-shapes / --opt-shapes / --max-shapes (trtexec rules: --shapes
// sets all three; an input given only some of min/opt/max is an error naming what is missing),
// then one more profile per --profile "NAME:MIN:OPT:MAX[,…]" option.
Result<std::vector<OptimizationProfile>> profiles_from_options(
    const std::vector<std::string>& shapes, const std::vector<std::string>& min,
    const std::vector<std::string>& opt, const std::vector<std::string>& max,
    const std::vector<std::string>& extra_profiles);

}  // namespace kiln::tools
