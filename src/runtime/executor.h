// Running a Program: the per-context state and the layer loop.
#pragma once

#include <optional>
#include <vector>

#include "kiln/engine.h"
#include "runtime/program.h"

namespace kiln::runtime {

struct Binding {
  void* data = nullptr;
  size_t bytes = 0;
  const Tensor* tensor = nullptr;  // set_input's tensor (strings are read through it)
};

// Everything one execution context owns. Reused across runs so a run allocates nothing but
// the activations whose size was unknown at build time.
struct RunState {
  explicit RunState(const Program& p);
  Status use_profile(int profile);

  const Program& program;
  std::unique_ptr<backends::Buffer> arena;
  std::vector<std::optional<std::vector<int64_t>>> input_shapes;  // per Program::inputs
  std::vector<Binding> bindings;                                  // per Program::io
  std::vector<Tensor> kept_inputs;                                // per Program::inputs
  std::vector<Tensor> results;                                    // per Program::outputs
  std::vector<std::vector<int64_t>> last_run_shapes;              // input shapes of that run

  // Per-layer milliseconds summed over profiled runs (empty: profiling off).
  std::vector<double> layer_ms;
  int64_t profiled_runs = 0;

  // ExecutionContext::set_tensor_observer's tap (empty: off).
  ExecutionContext::TensorObserver observer;

  // The saturation monitor: per step, its entry in `saturation` or -1 (empty: off).
  struct Saturation {
    int step = 0;
    float lo = 0, hi = 0;
    int64_t values = 0, saturated = 0;
  };
  std::vector<int> saturation_index;
  std::vector<Saturation> saturation;

  // Scratch of one run.
  std::vector<Tensor> values;
  std::vector<const Tensor*> ptrs;
};

Status run_program(const Program& p, int profile, RunState& state);

}  // namespace kiln::runtime
