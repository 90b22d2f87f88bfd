// memkit/alloc/tracked.h — Tracked<T>: a Box that counts the live bytes of its type.
//
// Tracked<T> owns one T on the heap exactly as memkit::Box<T> does — never null while valid,
// moved-from means empty, and any use of an empty one throws memkit::UseAfterMove — and, in
// addition, every Tracked<T> alive is counted, per type, for the whole process:
//
//   auto player = memkit::Tracked<Player>::make("Ann", 100);
//   auto enemy = memkit::Tracked<Enemy>::make(7);
//   memkit::Tracked<Player>::live_count();   // 1
//   memkit::Tracked<Player>::live_bytes();   // sizeof(Player)
//   std::cout << memkit::tracked_stats();    // memkit::Tracked: live 312 B in 2 blocks, ...
//                                            //   one row per type: "Enemy", "Player"
//
// It answers "how many of these are alive, and how much do they take" for the types you choose
// to ask about, with nothing to set up: no allocator to pass around, no hook to link. What is
// counted is sizeof(T) per object — the block Tracked<T> allocates — not what T owns in turn
// (a std::string member's buffer is the string's business; link memkit::track_global and use a
// HeapTag for that).
//
// Threads: the counters are per-type atomics, so Tracked values may be made and destroyed on any
// thread; make() and the destructor each cost a few uncontended atomic read-modify-writes
// (about 15–20 ns) on top of new and delete. The peak is exact.
//
// Errors: a moved-from Tracked throws UseAfterMove naming "memkit::Tracked<T>" and the
// operation. An exception from T's constructor leaves nothing counted and nothing allocated.
#ifndef MEMKIT_ALLOC_TRACKED_H_
#define MEMKIT_ALLOC_TRACKED_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

#include "memkit/alloc/stats.h"
#include "memkit/base/config.h"
#include "memkit/base/error.h"
#include "memkit/base/type_name.h"
#include "memkit/export.h"
#include "memkit/own/detail/construct.h"

namespace memkit {
namespace detail {

// One type's counters: made once per type (a function-local static) and linked into the
// process-wide list that tracked_stats() reads. Never destroyed.
struct TrackedTypeCounters {
  MEMKIT_EXPORT TrackedTypeCounters(std::string_view type, std::size_t object_size) noexcept;

  std::string_view type;
  std::uint64_t object_size;
  std::atomic<std::uint64_t> made{0};  // objects ever made
  std::atomic<std::uint64_t> live{0};  // objects alive now
  std::atomic<std::uint64_t> peak{0};  // the most ever alive at once
  TrackedTypeCounters* next = nullptr;
};

MEMKIT_EXPORT void tracked_record_make(TrackedTypeCounters& counters) noexcept;
MEMKIT_EXPORT void tracked_record_destroy(TrackedTypeCounters& counters) noexcept;
MEMKIT_EXPORT AllocCounts tracked_counts(const TrackedTypeCounters& counters) noexcept;

}  // namespace detail

// tracked_stats() — source "memkit::Tracked", the totals over every type (with the exact peak of
// their sum), and one TagStats per type that was ever made, named type_name<T>().
MEMKIT_EXPORT MemoryStats tracked_stats();

template <class T>
class Tracked {
  static_assert(!std::is_reference_v<T> && !std::is_array_v<T>,
                "Tracked<T> owns one object: T may be neither a reference nor an array");

 public:
  using element_type = T;

  // Tracked<T>::make(args...) — constructs T(args...) (or T{args...}) on the heap; counts it.
  template <class... Args>
  [[nodiscard]] static Tracked make(Args&&... args) {
    detail::TrackedTypeCounters& c = counters();
    T* value = detail::new_object<T>(std::forward<Args>(args)...);
    detail::tracked_record_make(c);
    return Tracked(value);
  }

  Tracked(const Tracked&) = delete;
  Tracked& operator=(const Tracked&) = delete;

  Tracked(Tracked&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  Tracked& operator=(Tracked&& other) noexcept {
    T* old = std::exchange(ptr_, std::exchange(other.ptr_, nullptr));
    destroy(old);
    return *this;
  }
  ~Tracked() { destroy(ptr_); }

  T& operator*() const { return *checked("operator*"); }
  T* operator->() const { return checked("operator->"); }
  T* get() const { return checked("get()"); }
  bool valid() const noexcept { return ptr_ != nullptr; }

  // clone() — a new Tracked holding a copy of the value (counted like any other).
  [[nodiscard]] Tracked clone() const requires std::is_copy_constructible_v<T> {
    return make(*checked("clone()"));
  }

  // How many Tracked<T> are alive in the process, and their bytes (live_count() * sizeof(T)).
  static std::uint64_t live_count() noexcept {
    return counters().live.load(std::memory_order_relaxed);
  }
  static std::uint64_t live_bytes() noexcept { return live_count() * sizeof(T); }
  // counts() — this type's row of tracked_stats().
  static AllocCounts counts() noexcept { return detail::tracked_counts(counters()); }

 private:
  explicit Tracked(T* p) noexcept : ptr_(p) {}

  static constexpr std::string_view name() { return type_name<Tracked>(); }

  static detail::TrackedTypeCounters& counters() noexcept {
    static detail::TrackedTypeCounters counters(type_name<T>(), sizeof(T));
    return counters;
  }

  T* checked(std::string_view operation) const {
    if (MEMKIT_UNLIKELY(ptr_ == nullptr)) detail::throw_use_after_move(name(), operation);
    return ptr_;
  }

  static void destroy(T* value) noexcept {
    if (value == nullptr) return;
    delete value;
    detail::tracked_record_destroy(counters());
  }

  T* ptr_;
};

}  // namespace memkit

#endif  // MEMKIT_ALLOC_TRACKED_H_
