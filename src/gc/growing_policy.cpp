// The pacing rule: threshold = max(min_bytes, growth_factor × live bytes).
#include "memkit/gc/growing_policy.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "memkit/base/error.h"

namespace memkit::gc {

std::uint64_t GrowingPolicy::threshold(std::uint64_t live_bytes) const noexcept {
  const double grown = static_cast<double>(live_bytes) * growth_factor;
  const double limit = 0x1p62;
  const std::uint64_t scaled =
      grown >= limit ? std::uint64_t{1} << 62 : static_cast<std::uint64_t>(grown);
  return std::max(min_bytes, scaled);
}

void GrowingPolicy::validate() const {
  if (std::isnan(growth_factor) || growth_factor < 1.0 || growth_factor > 1000.0) {
    char text[96];
    std::snprintf(text, sizeof(text), "set_growing_policy(growth_factor %g)", growth_factor);
    ::memkit::detail::throw_gc_usage_error(
        "memkit::gc::Heap", text,
        "the growth factor must be a number from 1 to 1000 (the heap may grow to that many "
        "times its live bytes)");
  }
}

}  // namespace memkit::gc
