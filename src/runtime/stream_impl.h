// kiln::Stream over a backend queue.
#pragma once

#include "backends/backend.h"
#include "kiln/engine.h"

namespace kiln::runtime {

// The queue behind a stream created by Stream::create (nullptr for foreign subclasses).
backends::Queue* queue_of(Stream& stream);

}  // namespace kiln::runtime
