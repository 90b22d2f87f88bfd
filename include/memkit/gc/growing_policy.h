// memkit/gc/growing_policy.h — when the next collection starts.
//
// After a collection the heap knows its live bytes L (object slots plus external bytes), the free
// slot bytes F in the pages it still holds, and its recent live bytes R_L (the larger of L and half
// the previous R_L, so a drop in live size is forgotten over a few collections). The next
// collection starts when the accounted bytes — L plus everything allocated (slot bytes) and
// reported as external since — would exceed
//
//     threshold = max(min_bytes, growth_factor × L, min(L + F, retain_factor × R_L))
//
// growth_factor and retain_factor are dimensionless (1 <= growth_factor <= retain_factor, or
// retain_factor 0 for off); L, F, R_L and min_bytes are in bytes.
//
// The second term grows the heap: with 12 MiB live the next collection comes after 4 MiB of
// allocation (4/3, Boehm GC's default free-space divisor of 3), so the work of a collection
// (proportional to L) is paid for by allocation proportional to L. The third term reuses memory
// the heap already has: pages it mapped for an earlier, larger live set are filled before the
// next collection, as long as they are at most retain_factor × R_L — after a 16 MiB structure
// dies, a program with 4 MiB live collects every 12 MiB of allocation instead of every 1.3 MiB,
// at no cost in peak memory. Pages beyond the threshold go back to the OS at the end of a
// collection, so the heap stays within about retain_factor × R_L (and growth_factor × L while it
// grows); min_bytes keeps a small program from collecting all the time.
#ifndef MEMKIT_GC_GROWING_POLICY_H_
#define MEMKIT_GC_GROWING_POLICY_H_

#include <cstdint>

#include "memkit/export.h"

namespace memkit::gc {

struct MEMKIT_EXPORT GrowingPolicy {
  double growth_factor = 4.0 / 3.0;
  double retain_factor = 3.0;
  std::uint64_t min_bytes = std::uint64_t{4} << 20;

  // The threshold for the next collection, given the live bytes after this one and the free
  // bytes in the pages the heap holds.
  std::uint64_t threshold(std::uint64_t live_bytes, std::uint64_t free_held_bytes = 0,
                          std::uint64_t recent_live_bytes = 0) const noexcept;
  // Throws memkit::GcUsageError unless growth_factor is a number >= 1 (and at most 1000) and
  // retain_factor is 0 (off: pages beyond growth_factor × L go back at once) or a number from
  // growth_factor to 1000.
  void validate() const;

  friend bool operator==(const GrowingPolicy&, const GrowingPolicy&) = default;
};

}  // namespace memkit::gc

#endif  // MEMKIT_GC_GROWING_POLICY_H_
