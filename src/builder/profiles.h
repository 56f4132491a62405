// Optimization profiles: checks the user's min/opt/max ranges against the network's inputs
// and resolves one range per input per profile (static inputs get their fixed shape).
#pragma once

#include <vector>

#include "engine/engine_data.h"
#include "ir/graph.h"
#include "kiln/builder.h"

namespace kiln::builder {

struct InputRanges {
  std::vector<const ir::Value*> inputs;                 // graph inputs the caller feeds
  std::vector<std::vector<engine::ShapeRange>> ranges;  // [profile][input]
};

// Every problem goes to `problems` (K4001–K4004, K4006); the result is complete only when none
// was added.
InputRanges resolve_profiles(const ir::Graph& graph,
                             const std::vector<OptimizationProfile>& profiles,
                             std::vector<Status>& problems);

// "1x3x224x224"
std::string shape_x(const std::vector<int64_t>& shape);

}  // namespace kiln::builder
