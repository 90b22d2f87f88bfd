// memkit/alloc/tracking.h — TrackingResource and TrackingAllocator<T>: every byte counted, by tag.
//
// A TrackingResource is a std::pmr::memory_resource that passes each request to an upstream
// resource and counts it: allocations, frees, live bytes and blocks, the peak of live bytes and
// the bytes ever handed out — in total and per *tag*. A tag is a name: the resource's own name,
// a name you choose with tagged("..."), or the name of a type, which TrackingAllocator<T> uses.
//
// One example grows through this comment. A parser's memory, counted:
//
//   memkit::TrackingResource tracker(std::pmr::new_delete_resource(), "parser");
//   std::pmr::vector<Token> tokens(&tracker);          // counts under the tag "parser"
//   tokens.reserve(1000);
//   std::cout << tracker.stats();                      // parser: live 15.6 KiB in 1 block, ...
//
// Per type: a TrackingAllocator<T> counts under type_name<T>() — and a container rebinds it to
// the type it really allocates, so a std::list<int, TrackingAllocator<int>> is counted under
// "std::_List_node<int>", which is the truth about where its bytes go:
//
//   std::vector<Node, memkit::TrackingAllocator<Node>> nodes(tracker);   // tag "Node"
//
// Per part of the program: a view that counts under another tag, with the same upstream.
//
//   memkit::TaggedResource lexer = tracker.tagged("lexer");
//   std::pmr::string text(&lexer);                      // tag "lexer"
//
//   tracker.stats().by_tag                              // "Node", "lexer", "parser": one row
//                                                       // each, largest live bytes first
//
// Cost. Counting is one AllocCounts update (plain integers: a few adds and a compare) on the
// tag's slot, plus the tracker's live and peak bytes; a tag is resolved to its slot once per
// (tracker, type) or per view, never per request (no map lookup, no string compare). Through a
// memory_resource* that is one more virtual call than the upstream alone; TrackingAllocator<T>
// inlines it. Over new_delete_resource() the tracker calls operator new itself. Like
// std::pmr's unsynchronized resources, a TrackingResource is used by one thread at a time.
// TrackingOptions::thread_safe lets any thread use it (counts under a mutex: a lock and unlock
// per call); TrackingOptions::verify_frees checks every free exactly against a table of live
// blocks (on by default in debug builds: a hash-table insert and erase per pair).
//
// Bad input is never undefined behaviour:
//   * allocate() with an alignment that is not a power of two, or a size above PTRDIFF_MAX,
//     throws memkit::AllocError naming the tracker, the size and the alignment; nothing reaches
//     the upstream and nothing is counted. allocate(0) is a block of 0 bytes, as in std::pmr.
//   * TrackingAllocator<T>::allocate(n) with n * sizeof(T) above PTRDIFF_MAX throws AllocError.
//   * deallocate() of a null pointer, with a bad alignment, or of more bytes than are live under
//     its tag throws memkit::InvalidFree with the address. With verify_frees, any pointer the
//     tracker did not hand out, a double free, a wrong size, alignment or tag is an InvalidFree
//     too; without it a foreign pointer whose size fits in what is live goes to the upstream
//     unnoticed — the check costs a hash table, which is the price of detecting it.
//   * A null upstream throws memkit::NullPointer.
// An upstream's own exception (std::bad_alloc for a size it cannot satisfy) passes through,
// with nothing counted.
//
// A TrackingResource must outlive the containers, allocators and views that use it, as any
// std::pmr resource must.
#ifndef MEMKIT_ALLOC_TRACKING_H_
#define MEMKIT_ALLOC_TRACKING_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory_resource>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "memkit/alloc/stats.h"
#include "memkit/base/config.h"
#include "memkit/base/type_name.h"
#include "memkit/export.h"

namespace memkit {
namespace detail {

// A tag's index in the process-wide tag registry: names and type names, each interned once.
using TagId = std::uint32_t;

// intern_tag(name) — the name's index, registered on first use (a lock and a hash lookup).
MEMKIT_EXPORT TagId intern_tag(std::string_view name);

// tag_name(id) — the interned name; the view stays valid until the program ends.
MEMKIT_EXPORT std::string_view tag_name(TagId id);

// type_tag<T>() — the index of type_name<T>(), looked up once per type.
template <class T>
TagId type_tag() {
  static const TagId id = intern_tag(type_name<T>());
  return id;
}

// x & (x - 1) rather than std::has_single_bit, which is a call to libgcc's popcount on x86-64
// without -mpopcnt.
constexpr bool is_power_of_two(std::size_t x) noexcept { return x != 0 && (x & (x - 1)) == 0; }

// The largest size a tracker hands to its upstream (std::allocator's limit too).
inline constexpr std::size_t kMaxRequestBytes = PTRDIFF_MAX;

// Throws AllocError for TrackingAllocator<T>::allocate(n) when n objects exceed kMaxRequestBytes.
[[noreturn, gnu::cold]] MEMKIT_EXPORT void throw_too_many_objects(std::string_view allocator,
                                                                  std::size_t count,
                                                                  std::size_t object_size,
                                                                  std::size_t alignment);

}  // namespace detail

// How a TrackingResource counts. Set the fields by name:
//   memkit::TrackingOptions options;
//   options.thread_safe = true;
struct TrackingOptions {
  // Any thread may allocate and free through the tracker at any time: counts are kept under a
  // mutex (a lock and an unlock per call, ≈ +20–30 ns a pair uncontended). The upstream must be
  // thread-safe too (new_delete_resource is; a monotonic_buffer_resource is not).
  bool thread_safe = false;
  // Every live block is remembered (address, size, alignment, tag), so that every bad free is
  // an InvalidFree naming what is wrong. A hash-table insert and erase per pair (≈ +40–100 ns)
  // and one table entry per live block. On by default when MEMKIT_DEBUG is.
  bool verify_frees = MEMKIT_DEBUG != 0;
};

class TaggedResource;
template <class T>
class TrackingAllocator;

class MEMKIT_EXPORT TrackingResource : public std::pmr::memory_resource {
 public:
  // The name a tracker gets when none is given; also the source of its stats.
  static constexpr std::string_view kDefaultName = "memkit::TrackingResource";

  // A tracker over std::pmr::new_delete_resource(), named kDefaultName.
  TrackingResource() : TrackingResource(std::pmr::new_delete_resource()) {}

  // TrackingResource(upstream, name, options) — counts what it passes to `upstream` (not owned;
  // it must outlive the tracker). Direct allocations count under the tag `name`, which is also
  // the source of stats(). Throws NullPointer for a null upstream.
  explicit TrackingResource(std::pmr::memory_resource* upstream,
                            std::string_view name = kDefaultName, TrackingOptions options = {});

  // A tracker is an identity (containers hold its address): no copy, no move.
  TrackingResource(const TrackingResource&) = delete;
  TrackingResource& operator=(const TrackingResource&) = delete;
  ~TrackingResource() override;

  const std::string& name() const noexcept { return name_; }
  std::pmr::memory_resource* upstream_resource() const noexcept { return upstream_; }
  const TrackingOptions& options() const noexcept { return options_; }

  // tagged(tag) — a resource that allocates through this tracker but counts under `tag`. The
  // tag is resolved here, once; the view is a small value that must not outlive the tracker.
  [[nodiscard]] TaggedResource tagged(std::string_view tag);

  // counts() — the totals over all tags. No allocation; locks in thread-safe mode.
  AllocCounts counts() const;

  // stats() — source = name(), the totals, and one TagStats per tag that has allocated at least
  // once, sorted with sort_tags (largest live bytes first). memory_stats() is the same, under
  // the name every memkit allocator reports with.
  MemoryStats stats() const;
  MemoryStats memory_stats() const { return stats(); }

 protected:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    return allocate_tagged(*own_slot_, bytes, alignment);
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    deallocate_tagged(*own_slot_, p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

 private:
  friend class TaggedResource;
  template <class T>
  friend class TrackingAllocator;

  // One tag's counts in this tracker. Slots never move (a deque), so allocators and views keep a
  // pointer to theirs: a request touches its slot directly, with no index and no lookup.
  struct TagSlot {
    detail::TagId tag;
    AllocCounts counts;
  };

  struct BlockRecord {
    std::size_t bytes;
    std::size_t alignment;
    const TagSlot* slot;
  };

  static bool is_valid_request(std::size_t bytes, std::size_t alignment) noexcept {
    return bytes <= detail::kMaxRequestBytes && detail::is_power_of_two(alignment);
  }

  // slot_for(tag) — this tracker's slot for `tag`, made on first use.
  TagSlot& slot_for(detail::TagId tag) {
    if (MEMKIT_UNLIKELY(slow_path_ || tag >= slot_of_tag_.size() || slot_of_tag_[tag] == nullptr)) {
      return slot_for_slow(tag);
    }
    return *slot_of_tag_[tag];
  }

  // The hot path: a check, the upstream call, the slot's counts and the tracker's live bytes.
  // Everything unusual (a bad request, thread-safe or verifying mode) is out of line. The totals
  // other than live and peak bytes are sums over the slots, made when read.
  void* allocate_tagged(TagSlot& slot, std::size_t bytes, std::size_t alignment) {
    if (MEMKIT_UNLIKELY(slow_path_ || !is_valid_request(bytes, alignment))) {
      return allocate_slow(slot, bytes, alignment);
    }
    void* p = upstream_allocate(bytes, alignment);
    slot.counts.record_allocation(bytes);
    live_bytes_ += bytes;
    if (live_bytes_ > peak_bytes_) peak_bytes_ = live_bytes_;
    return p;
  }

  void deallocate_tagged(TagSlot& slot, void* p, std::size_t bytes, std::size_t alignment) {
    if (MEMKIT_UNLIKELY(slow_path_ || !is_plausible_free(slot.counts, p, bytes, alignment))) {
      return deallocate_slow(slot, p, bytes, alignment);
    }
    upstream_deallocate(p, bytes, alignment);  // first: if it throws, the block stays counted
    slot.counts.record_free(bytes);
    live_bytes_ -= bytes;
  }

  // Over new_delete_resource() — the default, and the common case — the tracker calls operator
  // new and delete itself, exactly as that resource does: one virtual call fewer per request.
  void* upstream_allocate(std::size_t bytes, std::size_t alignment) {
    if (MEMKIT_LIKELY(upstream_is_new_delete_)) {
      // The plain operator new already aligns to __STDCPP_DEFAULT_NEW_ALIGNMENT__, and skips the
      // aligned form's checks and memalign: about 40 instructions per allocate+deallocate pair.
      if (alignment <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) return ::operator new(bytes);
      return ::operator new(bytes, static_cast<std::align_val_t>(alignment));
    }
    return upstream_->allocate(bytes, alignment);
  }
  void upstream_deallocate(void* p, std::size_t bytes, std::size_t alignment) {
    if (MEMKIT_LIKELY(upstream_is_new_delete_)) {
      if (alignment <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) return ::operator delete(p, bytes);
      return ::operator delete(p, bytes, static_cast<std::align_val_t>(alignment));
    }
    upstream_->deallocate(p, bytes, alignment);
  }

  // What can be checked without a table: the pointer, the alignment, and that the tag has that
  // many bytes live at all.
  static bool is_plausible_free(const AllocCounts& counts, const void* p, std::size_t bytes,
                                std::size_t alignment) noexcept {
    return (p != nullptr) & detail::is_power_of_two(alignment) & (counts.live_blocks != 0) &
           (counts.live_bytes >= bytes);
  }

  TagSlot& slot_for_slow(detail::TagId tag);
  void* allocate_slow(TagSlot& slot, std::size_t bytes, std::size_t alignment);
  void deallocate_slow(TagSlot& slot, void* p, std::size_t bytes, std::size_t alignment);
  [[noreturn, gnu::cold]] void throw_implausible_free(const TagSlot& slot, const void* p,
                                                      std::size_t bytes,
                                                      std::size_t alignment) const;
  // 'memkit::TrackingResource "parser"' — how errors name this tracker.
  std::string description() const;
  std::unique_lock<std::mutex> lock_if_shared() const;

  std::pmr::memory_resource* upstream_;
  std::uint64_t live_bytes_ = 0;  // all tags; the peak needs it at every allocation
  std::uint64_t peak_bytes_ = 0;
  TagSlot* own_slot_ = nullptr;
  bool slow_path_;  // options_.thread_safe || options_.verify_frees
  bool upstream_is_new_delete_;
  TrackingOptions options_;
  std::string name_;
  std::deque<TagSlot> slots_;          // in the order tags were first used here
  std::vector<TagSlot*> slot_of_tag_;  // indexed by TagId; null where unused
  std::unordered_map<const void*, BlockRecord> live_blocks_;  // verify_frees only
  mutable std::mutex mutex_;                                  // thread_safe only
};

// TaggedResource — a view of a TrackingResource that counts under its own tag. Two views are
// equal (memory from one may be freed through the other) when they share tracker and tag.
class MEMKIT_EXPORT TaggedResource : public std::pmr::memory_resource {
 public:
  TrackingResource& tracker() const noexcept { return *tracker_; }
  std::string_view tag() const { return detail::tag_name(slot_->tag); }

 protected:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    return tracker_->allocate_tagged(*slot_, bytes, alignment);
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    tracker_->deallocate_tagged(*slot_, p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    const auto* view = dynamic_cast<const TaggedResource*>(&other);
    return view != nullptr && view->slot_ == slot_;  // one slot belongs to one tracker
  }

 private:
  friend class TrackingResource;
  TaggedResource(TrackingResource& tracker, TrackingResource::TagSlot& slot) noexcept
      : tracker_(&tracker), slot_(&slot) {}

  TrackingResource* tracker_;
  TrackingResource::TagSlot* slot_;
};

// TrackingAllocator<T> — a standard allocator that allocates through a TrackingResource and
// counts under type_name<T>(). Rebinding (which every node-based container does) re-resolves the
// tag for the new type, once. Allocators of one tracker compare equal, whatever their type.
template <class T>
class TrackingAllocator {
 public:
  using value_type = T;

  // Implicit, as polymorphic_allocator's is: `std::vector<int, TrackingAllocator<int>> v(tracker)`.
  TrackingAllocator(TrackingResource& tracker)  // NOLINT(google-explicit-constructor)
      : tracker_(&tracker), slot_(&tracker.slot_for(detail::type_tag<T>())) {}

  template <class U>
  TrackingAllocator(const TrackingAllocator<U>& other)  // NOLINT(google-explicit-constructor)
      : tracker_(other.tracker_), slot_(&tracker_->slot_for(detail::type_tag<T>())) {}

  // allocate(n) — n * sizeof(T) bytes aligned for T; throws AllocError when that exceeds
  // PTRDIFF_MAX (or overflows std::size_t).
  [[nodiscard]] T* allocate(std::size_t n) {
    if (MEMKIT_UNLIKELY(n > kMaxCount)) {
      detail::throw_too_many_objects(name(), n, sizeof(T), alignof(T));
    }
    return static_cast<T*>(tracker_->allocate_tagged(*slot_, n * sizeof(T), alignof(T)));
  }

  void deallocate(T* p, std::size_t n) {
    tracker_->deallocate_tagged(*slot_, p, n * sizeof(T), alignof(T));
  }

  TrackingResource& tracker() const noexcept { return *tracker_; }
  std::string_view tag() const { return detail::tag_name(slot_->tag); }

  template <class U>
  bool operator==(const TrackingAllocator<U>& other) const noexcept {
    return tracker_ == other.tracker_;
  }

 private:
  template <class U>
  friend class TrackingAllocator;

  static constexpr std::size_t kMaxCount = detail::kMaxRequestBytes / sizeof(T);
  static constexpr std::string_view name() { return type_name<TrackingAllocator>(); }

  TrackingResource* tracker_;
  TrackingResource::TagSlot* slot_;
};

}  // namespace memkit

#endif  // MEMKIT_ALLOC_TRACKING_H_
