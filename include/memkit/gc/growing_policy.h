// memkit/gc/growing_policy.h — when the next collection starts.
//
// After a collection the heap knows its live bytes L (object slots plus external bytes). The next
// collection starts when the accounted bytes — L plus everything allocated (slot bytes) and
// reported as external since — would exceed
//
//     threshold = max(min_bytes, growth_factor × L)
//
// growth_factor is dimensionless (>= 1; the default 1.5 is cppgc's), min_bytes is in bytes (so a
// small program is not collecting all the time). With 10 MiB live the next collection comes after
// 5 MiB of allocation: the work of a collection (proportional to L) is paid for by allocation
// proportional to L, and the heap stays within about growth_factor × L.
#ifndef MEMKIT_GC_GROWING_POLICY_H_
#define MEMKIT_GC_GROWING_POLICY_H_

#include <cstdint>

#include "memkit/export.h"

namespace memkit::gc {

struct MEMKIT_EXPORT GrowingPolicy {
  double growth_factor = 1.5;
  std::uint64_t min_bytes = std::uint64_t{4} << 20;

  // The threshold for the next collection, given the live bytes after this one.
  std::uint64_t threshold(std::uint64_t live_bytes) const noexcept;
  // Throws memkit::GcUsageError unless growth_factor is a number >= 1 (and at most 1000).
  void validate() const;

  friend bool operator==(const GrowingPolicy&, const GrowingPolicy&) = default;
};

}  // namespace memkit::gc

#endif  // MEMKIT_GC_GROWING_POLICY_H_
