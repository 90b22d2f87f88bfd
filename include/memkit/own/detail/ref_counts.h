// memkit/own/detail/ref_counts.h — the two counting policies behind Rc and Arc.
//
// Both keep Rust's layout of counts: `strong` counts the owning handles; `weak` counts the Weak
// handles plus one implicit weak reference held by all strong handles together, so the memory
// outlives the value until the last Weak is gone.
//
// LocalCounts (Rc) uses plain integers: a clone is one add, a drop one subtract and one compare.
// In debug builds it remembers the creating thread and refuses any other.
// AtomicCounts (Arc) uses Rust's orderings: increments are relaxed (a new handle is made from an
// existing one, which already keeps the value alive); the decrement is a release, and the thread
// that drops the last reference acquires before destroying, so every other thread's use of the
// value happens-before its destruction.
#ifndef MEMKIT_OWN_DETAIL_REF_COUNTS_H_
#define MEMKIT_OWN_DETAIL_REF_COUNTS_H_

#include <atomic>
#include <cstddef>
#include <string_view>
#include <thread>

#include "memkit/base/config.h"
#include "memkit/base/error.h"

namespace memkit::detail {

struct LocalCounts {
  static constexpr std::string_view kStrongName = "memkit::Rc<";
  static constexpr std::string_view kWeakName = "memkit::Weak<";
  static constexpr bool kThreadSafe = false;

  using Count = std::size_t;

  static std::size_t load(const Count& count) noexcept { return count; }
  static void increment(Count& count) noexcept { ++count; }
  // Returns true when this was the last reference.
  static bool decrement(Count& count) noexcept { return --count == 0; }
  // upgrade(): a new strong reference only while the value is alive.
  static bool increment_if_alive(Count& strong) noexcept {
    if (strong == 0) return false;
    ++strong;
    return true;
  }
  // try_unwrap(): claims the value when this is the only strong reference (strong 1 -> 0).
  static bool claim_unique(Count& strong) noexcept {
    if (strong != 1) return false;
    strong = 0;
    return true;
  }
  // get_mut(): no other Rc and no Weak can reach the value.
  static bool is_unique(Count& strong, Count& weak) noexcept { return strong == 1 && weak == 1; }
  static void increment_weak(Count& weak) noexcept { ++weak; }

#if MEMKIT_DEBUG
  // Rc is not thread-safe: debug builds record the thread that made the value and refuse others.
  struct Owner {
    std::thread::id id = std::this_thread::get_id();
  };
  static void check_thread(const Owner& owner, std::string_view type, std::string_view operation) {
    if (MEMKIT_UNLIKELY(owner.id != std::this_thread::get_id())) {
      throw_wrong_thread(type, operation, owner.id);
    }
  }
  // For destructors, which cannot throw: report and abort.
  static void check_thread_or_die(const Owner& owner, std::string_view type,
                                  std::string_view operation) noexcept {
    if (MEMKIT_UNLIKELY(owner.id != std::this_thread::get_id())) {
      fatal_wrong_thread(type, operation, owner.id);
    }
  }
#else
  struct Owner {};
  static void check_thread(const Owner&, std::string_view, std::string_view) noexcept {}
  static void check_thread_or_die(const Owner&, std::string_view, std::string_view) noexcept {}
#endif
};

struct AtomicCounts {
  static constexpr std::string_view kStrongName = "memkit::Arc<";
  static constexpr std::string_view kWeakName = "memkit::ArcWeak<";
  static constexpr bool kThreadSafe = true;

  using Count = std::atomic<std::size_t>;

  // A count this high means handles are being leaked in a loop; wrapping around would free a live
  // value, so abort instead (Rust does the same).
  static constexpr std::size_t kMaxCount = static_cast<std::size_t>(PTRDIFF_MAX);
  // The weak count while get_mut() checks uniqueness: downgrade() waits for it.
  static constexpr std::size_t kLockedWeak = SIZE_MAX;

  static std::size_t load(const Count& count) noexcept {
    return count.load(std::memory_order_acquire);
  }
  static void increment(Count& count) noexcept {
    if (MEMKIT_UNLIKELY(count.fetch_add(1, std::memory_order_relaxed) > kMaxCount)) {
      fatal("memkit::Arc: reference count overflow");
    }
  }
  static bool decrement(Count& count) noexcept {
    if (count.fetch_sub(1, std::memory_order_release) != 1) return false;
    // Synchronizes with every release decrement before ours. An acquire load rather than an
    // acquire fence, because ThreadSanitizer understands loads and not fences.
    (void)count.load(std::memory_order_acquire);
    return true;
  }
  static bool increment_if_alive(Count& strong) noexcept {
    std::size_t n = strong.load(std::memory_order_relaxed);
    do {
      if (n == 0) return false;
      if (MEMKIT_UNLIKELY(n > kMaxCount)) fatal("memkit::Arc: reference count overflow");
    } while (!strong.compare_exchange_weak(n, n + 1, std::memory_order_acquire,
                                           std::memory_order_relaxed));
    return true;
  }
  static bool claim_unique(Count& strong) noexcept {
    std::size_t one = 1;
    return strong.compare_exchange_strong(one, 0, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }
  // Rust's Arc::is_unique: lock the weak count so no Weak can be made from another strong handle
  // between the two reads, then look at the strong count.
  static bool is_unique(Count& strong, Count& weak) noexcept {
    std::size_t one = 1;
    if (!weak.compare_exchange_strong(one, kLockedWeak, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
      return false;
    }
    const bool unique = strong.load(std::memory_order_acquire) == 1;
    weak.store(1, std::memory_order_release);
    return unique;
  }
  static void increment_weak(Count& weak) noexcept {
    std::size_t n = weak.load(std::memory_order_relaxed);
    for (;;) {
      if (n == kLockedWeak) {  // get_mut() is looking: it will put 1 back in a moment
        std::this_thread::yield();
        n = weak.load(std::memory_order_relaxed);
        continue;
      }
      if (MEMKIT_UNLIKELY(n > kMaxCount)) fatal("memkit::ArcWeak: reference count overflow");
      if (weak.compare_exchange_weak(n, n + 1, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
        return;
      }
    }
  }

  struct Owner {};
  static void check_thread(const Owner&, std::string_view, std::string_view) noexcept {}
  static void check_thread_or_die(const Owner&, std::string_view, std::string_view) noexcept {}
};

}  // namespace memkit::detail

#endif  // MEMKIT_OWN_DETAIL_REF_COUNTS_H_
