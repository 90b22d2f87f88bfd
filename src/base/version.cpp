#include "memkit/version.h"

namespace memkit {

const char* version() noexcept { return MEMKIT_VERSION_STRING; }

}  // namespace memkit
