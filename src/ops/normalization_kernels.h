// Reference kernels of the normalization family (normalization.cpp registers them).
#pragma once

#include "kiln/status.h"
#include "ops/kernel.h"

namespace kiln::ops::normalization {

Status batch_norm(KernelContext& ctx);
Status instance_norm(KernelContext& ctx);
Status layer_norm(KernelContext& ctx);
Status group_norm(KernelContext& ctx);
Status lrn(KernelContext& ctx);
Status mean_variance_norm(KernelContext& ctx);

}  // namespace kiln::ops::normalization
