#include "kiln/kiln.h"

namespace kiln {

const char* version() { return KILN_VERSION; }

}  // namespace kiln
