// The pacing rule: threshold = max(min_bytes, growth_factor × L, min(L + F, retain_factor × L)).
#include "memkit/gc/growing_policy.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "memkit/base/error.h"

namespace memkit::gc {
namespace {

std::uint64_t scale(std::uint64_t bytes, double factor) noexcept {
  const double grown = static_cast<double>(bytes) * factor;
  const double limit = 0x1p62;
  return grown >= limit ? std::uint64_t{1} << 62 : static_cast<std::uint64_t>(grown);
}

}  // namespace

std::uint64_t GrowingPolicy::threshold(std::uint64_t live_bytes, std::uint64_t free_held_bytes,
                                       std::uint64_t recent_live_bytes) const noexcept {
  const std::uint64_t grown = std::max(min_bytes, scale(live_bytes, growth_factor));
  const std::uint64_t held = live_bytes + std::min(free_held_bytes, std::uint64_t{1} << 62);
  if (retain_factor == 0) return grown;
  const std::uint64_t basis = std::max(live_bytes, recent_live_bytes);
  return std::max(grown, std::min(held, scale(basis, retain_factor)));
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
  if (retain_factor != 0 &&
      (std::isnan(retain_factor) || retain_factor < growth_factor || retain_factor > 1000.0)) {
    char text[96];
    std::snprintf(text, sizeof(text), "set_growing_policy(retain_factor %g)", retain_factor);
    ::memkit::detail::throw_gc_usage_error(
        "memkit::gc::Heap", text,
        "the retain factor must be 0 (keep no pages beyond the growth factor) or a number from "
        "the growth factor to 1000 (the heap may keep pages for that many times its recent live "
        "bytes)");
  }
}

}  // namespace memkit::gc
