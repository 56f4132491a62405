// Per-layer tactic selection. For a layer several tactics (or several variants of one: oneDNN
// implementations, algorithms) can run, the autotuner times each on synthetic inputs at the
// profile's opt shapes and keeps the fastest; the timing cache (keyed by the layer's
// signature, per machine) makes a rebuild skip the timing.
#pragma once

#include <string>
#include <vector>

#include "backends/backend.h"
#include "builder/timing_cache.h"

namespace kiln::builder {

struct TacticChoice {
  const backends::Tactic* tactic = nullptr;
  backends::Tactic::Variant variant;
  double ms = -1;      // measured (or cached) time of the winner; -1 when not timed
  int candidates = 0;  // (tactic, variant) pairs considered
  int timed = 0;       // of which timed now (the rest came from the cache)
};

// What identifies a layer's timing: op, attributes, operand shapes/types, which operands are
// constant. Two layers with one signature run the same code on the same sizes.
std::string layer_signature(const ir::Node& node_at_opt);

// Picks among `tactics` (each supports the node) for `node_at_opt` (a copy of the layer whose
// values carry the opt shapes). `timing` false: the first tactic's default variant.
TacticChoice choose_tactic(const ir::Node& node_at_opt, const ops::OpSchema& schema,
                           const std::vector<const backends::Tactic*>& tactics, bool timing,
                           TimingCache& cache);

}  // namespace kiln::builder
