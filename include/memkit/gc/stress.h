// memkit/gc/stress.h — Stress: collect far more often than needed, to find GC bugs early.
//
// A missing trace() entry, a raw pointer kept across an allocation or a destructor that follows a
// Member only bites when a collection happens at the wrong moment. Stress mode makes collections
// happen at every moment (like Ruby's GC.stress), at every N-th allocation (usable on real
// workloads), or at random allocations with a seed (reproducible: same seed, same collections).
//
//   heap.set_stress(gc::Stress::every_allocation());
//   heap.set_stress(gc::Stress::every(100));
//   heap.set_stress(gc::Stress::random(0.01, /*seed=*/42));
//
// Every heap reads MEMKIT_GC_STRESS when it is created, so a whole test suite runs stressed
// without code changes:   off | 0 | 1 | every | every:N | random:P:SEED
// Stress mode also poisons the Members of dead objects before destructors run (see member.h).
#ifndef MEMKIT_GC_STRESS_H_
#define MEMKIT_GC_STRESS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "memkit/export.h"

namespace memkit::gc {

class MEMKIT_EXPORT Stress {
 public:
  enum class Mode { kOff, kEvery, kRandom };

  static Stress off() noexcept { return Stress(); }
  static Stress every_allocation() { return every(1); }
  // Collect at every n-th allocation; n >= 1 (GcUsageError otherwise).
  static Stress every(std::uint64_t n);
  // Collect at each allocation with probability p, 0 < p <= 1 (GcUsageError otherwise).
  static Stress random(double probability, std::uint64_t seed);
  // "off", "0", "1", "every", "every:N", "random:P:SEED"; GcUsageError on anything else.
  static Stress parse(std::string_view text);
  // MEMKIT_GC_STRESS parsed, or off when the variable is unset or empty.
  static Stress from_environment();

  Mode mode() const noexcept { return mode_; }
  bool enabled() const noexcept { return mode_ != Mode::kOff; }
  std::uint64_t interval() const noexcept { return interval_; }
  double probability() const noexcept { return probability_; }
  std::uint64_t seed() const noexcept { return seed_; }
  // The MEMKIT_GC_STRESS spelling: "off", "every:3", "random:0.25:7".
  std::string to_string() const;

  friend bool operator==(const Stress&, const Stress&) = default;

 private:
  Stress() = default;

  Mode mode_ = Mode::kOff;
  std::uint64_t interval_ = 0;
  double probability_ = 0.0;
  std::uint64_t seed_ = 0;
};

}  // namespace memkit::gc

#endif  // MEMKIT_GC_STRESS_H_
