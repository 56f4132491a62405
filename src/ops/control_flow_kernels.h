// Reference kernels for If, Loop and Scan (control_flow_kernels.cpp), and the Loop iteration cap.
#pragma once

#include <cstdint>

#include "kiln/status.h"
#include "ops/kernel.h"

namespace kiln::ops {

Status if_reference_kernel(KernelContext& ctx);
Status loop_reference_kernel(KernelContext& ctx);
Status scan_reference_kernel(KernelContext& ctx);

// A Loop whose trip count M is absent (or larger than this) and whose condition never turns
// false would run forever; the reference kernel stops it with KernelFailed (K7001) after this
// many iterations. Scan refuses up front to run its body more often than this (a scan input
// with empty slices can claim any step count without holding data). Ten million iterations of even
// a one-node body take tens of seconds in the interpreter, far beyond any real model's loop.
inline constexpr int64_t kDefaultLoopIterationCap = 10'000'000;

// The cap in force (kDefaultLoopIterationCap unless a test lowered it).
int64_t loop_iteration_cap();
// Lowers or restores the cap (tests only: lets the runaway-loop path run in milliseconds).
void set_loop_iteration_cap(int64_t cap);

}  // namespace kiln::ops
