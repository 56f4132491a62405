// Reference kernels of the assorted tensor ops (tensor_misc.cpp registers them).
#pragma once

#include "kiln/status.h"
#include "ops/kernel.h"

namespace kiln::ops::tensor_misc {

Status trilu(KernelContext& ctx);
Status one_hot(KernelContext& ctx);
Status non_zero(KernelContext& ctx);
Status top_k(KernelContext& ctx);
Status cum_sum(KernelContext& ctx);
Status einsum(KernelContext& ctx);
Status eye_like(KernelContext& ctx);
Status reverse_sequence(KernelContext& ctx);
Status compress(KernelContext& ctx);
Status unique(KernelContext& ctx);

}  // namespace kiln::ops::tensor_misc
