// kiln/kiln.h — umbrella header of the public API.
#pragma once

#include "kiln/status.h"
#include "kiln/tensor.h"
#include "kiln/types.h"

namespace kiln {

// "0.1.0"
const char* version();

}  // namespace kiln
