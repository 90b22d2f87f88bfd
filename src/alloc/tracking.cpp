// The out-of-line half of tracking: the tag registry, TrackingResource's slow paths, the counters
// of Tracked<T>, and the storage of the global hook's counters (so that heap_stats() works, and
// says "off", in a program that does not link memkit::track_global).
//
// Chapters: tag registry · TrackingResource · Tracked<T> · heap counters.
#include "memkit/alloc/tracking.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <deque>
#include <limits>
#include <string>

#include "memkit/alloc/heap_stats.h"
#include "memkit/alloc/tracked.h"
#include "memkit/base/error.h"

namespace memkit {
namespace {

// The peak of a shared live counter: raise `peak` to `value` unless it is already higher.
void raise_peak(std::atomic<std::uint64_t>& peak, std::uint64_t value) noexcept {
  std::uint64_t seen = peak.load(std::memory_order_relaxed);
  while (seen < value && !peak.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

}  // namespace

namespace detail {
namespace {

// ---- tag registry ------------------------------------------------------------------------------
// Names are interned once and never freed, so a TagId (and the string_view of its name) is valid
// until the program ends. The registry is leaked on purpose: trackers may be destroyed by static
// destructors that run after it would have been.
class TagRegistry {
 public:
  TagId intern(std::string_view name) {
    std::lock_guard lock(mutex_);
    if (auto it = ids_.find(name); it != ids_.end()) return it->second;
    const auto id = static_cast<TagId>(names_.size());
    const std::string& stored = names_.emplace_back(name);
    ids_.emplace(stored, id);
    return id;
  }

  std::string_view name(TagId id) {
    std::lock_guard lock(mutex_);
    return id < names_.size() ? std::string_view(names_[id]) : std::string_view("(unknown tag)");
  }

 private:
  std::mutex mutex_;
  std::deque<std::string> names_;  // a deque never moves its elements: the views stay valid
  std::unordered_map<std::string_view, TagId> ids_;
};

TagRegistry& tag_registry() {
  static TagRegistry& registry = *new TagRegistry;
  return registry;
}

}  // namespace

TagId intern_tag(std::string_view name) { return tag_registry().intern(name); }

std::string_view tag_name(TagId id) { return tag_registry().name(id); }

void throw_too_many_objects(std::string_view allocator, std::size_t count, std::size_t object_size,
                            std::size_t alignment) {
  const std::size_t size = count > std::numeric_limits<std::size_t>::max() / object_size
                               ? std::numeric_limits<std::size_t>::max()
                               : count * object_size;
  std::string reason = std::to_string(count);
  reason.append(" objects of ")
      .append(std::to_string(object_size))
      .append(object_size == 1 ? " byte" : " bytes")
      .append(" exceed PTRDIFF_MAX bytes");
  throw_alloc_error(allocator, "allocate", size, alignment, reason);
}

}  // namespace detail

// ---- TrackingResource --------------------------------------------------------------------------

namespace {

// A lock from lock_if_shared() holds nothing in single-thread mode: unlock and relock only when
// it has a mutex.
void release(std::unique_lock<std::mutex>& lock) {
  if (lock.owns_lock()) lock.unlock();
}
void reacquire(std::unique_lock<std::mutex>& lock) {
  if (lock.mutex() != nullptr) lock.lock();
}

// Undoes AllocCounts::record_free, when the upstream refused a free that was already counted.
void unrecord_free(AllocCounts& counts, std::uint64_t bytes) noexcept {
  --counts.frees;
  ++counts.live_blocks;
  counts.live_bytes += bytes;
}

std::string quoted(std::string_view text) {
  std::string out = "\"";
  out.append(text).append("\"");
  return out;
}

std::string bytes_phrase(std::uint64_t bytes) {
  std::string out = std::to_string(bytes);
  out.append(bytes == 1 ? " byte" : " bytes");
  return out;
}

}  // namespace

TrackingResource::TrackingResource(std::pmr::memory_resource* upstream, std::string_view name,
                                   TrackingOptions options)
    : upstream_(upstream),
      slow_path_(options.thread_safe || options.verify_frees),
      upstream_is_new_delete_(upstream == std::pmr::new_delete_resource()),
      options_(options),
      name_(name) {
  if (upstream == nullptr) {
    detail::throw_null_pointer("memkit::TrackingResource", "TrackingResource(upstream, name)");
  }
  own_slot_ = &slot_for_slow(detail::intern_tag(name));
}

TrackingResource::~TrackingResource() = default;

std::unique_lock<std::mutex> TrackingResource::lock_if_shared() const {
  return options_.thread_safe ? std::unique_lock(mutex_) : std::unique_lock<std::mutex>();
}

std::string TrackingResource::description() const {
  if (name_ == kDefaultName) return name_;
  std::string out = "memkit::TrackingResource ";
  out.append(quoted(name_));
  return out;
}

TaggedResource TrackingResource::tagged(std::string_view tag) {
  return TaggedResource(*this, slot_for(detail::intern_tag(tag)));
}

TrackingResource::TagSlot& TrackingResource::slot_for_slow(detail::TagId tag) {
  auto lock = lock_if_shared();
  if (tag >= slot_of_tag_.size()) slot_of_tag_.resize(tag + 1, nullptr);
  if (slot_of_tag_[tag] == nullptr) slot_of_tag_[tag] = &slots_.emplace_back(TagSlot{tag, {}});
  return *slot_of_tag_[tag];
}

AllocCounts TrackingResource::counts() const {
  AllocCounts total;
  auto lock = lock_if_shared();
  for (const TagSlot& slot : slots_) {
    total.allocations += slot.counts.allocations;
    total.frees += slot.counts.frees;
    total.live_blocks += slot.counts.live_blocks;
    total.total_bytes += slot.counts.total_bytes;
  }
  total.live_bytes = live_bytes_;
  total.peak_bytes = peak_bytes_;
  return total;
}

MemoryStats TrackingResource::stats() const {
  MemoryStats stats;
  stats.source = name_;
  stats.counts = counts();
  std::vector<TagSlot> used;
  {
    auto lock = lock_if_shared();
    for (const TagSlot& slot : slots_) {
      if (slot.counts.allocations != 0) used.push_back(slot);
    }
  }
  for (const TagSlot& slot : used) {
    stats.by_tag.push_back(TagStats{std::string(detail::tag_name(slot.tag)), slot.counts});
  }
  sort_tags(stats.by_tag);
  return stats;
}

void* TrackingResource::allocate_slow(TagSlot& slot, std::size_t bytes, std::size_t alignment) {
  if (!detail::is_power_of_two(alignment)) {
    detail::throw_alloc_error(description(), "allocate", bytes, alignment,
                              "alignment is not a power of two");
  }
  if (bytes > detail::kMaxRequestBytes) {
    detail::throw_alloc_error(description(), "allocate", bytes, alignment,
                              "size exceeds PTRDIFF_MAX");
  }
  void* p = upstream_allocate(bytes, alignment);
  auto lock = lock_if_shared();
  if (options_.verify_frees) {
    bool inserted = false;
    try {
      inserted = live_blocks_.try_emplace(p, BlockRecord{bytes, alignment, &slot}).second;
    } catch (...) {
      release(lock);
      upstream_deallocate(p, bytes, alignment);
      throw;
    }
    if (!inserted) {
      // Not given back upstream: the address belongs to the block that is already live.
      detail::throw_alloc_error(description(), "allocate", bytes, alignment,
                                "the upstream resource returned an address that is still live");
    }
  }
  slot.counts.record_allocation(bytes);
  live_bytes_ += bytes;
  if (live_bytes_ > peak_bytes_) peak_bytes_ = live_bytes_;
  return p;
}

void TrackingResource::deallocate_slow(TagSlot& slot, void* p, std::size_t bytes,
                                       std::size_t alignment) {
  auto lock = lock_if_shared();
  if (options_.verify_frees && p != nullptr && detail::is_power_of_two(alignment)) {
    const auto it = live_blocks_.find(p);
    std::string problem;
    if (it == live_blocks_.end()) {
      problem = "not a live block of this tracker (never allocated by it, or already freed)";
    } else if (it->second.bytes != bytes) {
      problem = "size ";
      problem.append(std::to_string(bytes))
          .append(" does not match the ")
          .append(bytes_phrase(it->second.bytes))
          .append(" it was allocated with");
    } else if (it->second.alignment != alignment) {
      problem = "alignment ";
      problem.append(std::to_string(alignment))
          .append(" does not match the alignment ")
          .append(std::to_string(it->second.alignment))
          .append(" it was allocated with");
    } else if (it->second.slot != &slot) {
      problem = "freed under the tag ";
      problem.append(quoted(detail::tag_name(slot.tag)))
          .append(" but allocated under the tag ")
          .append(quoted(detail::tag_name(it->second.slot->tag)));
    }
    if (!problem.empty()) {
      release(lock);
      detail::throw_invalid_free(description(), "deallocate", p, problem);
    }
    live_blocks_.erase(it);
  } else if (!is_plausible_free(slot.counts, p, bytes, alignment)) {
    release(lock);
    throw_implausible_free(slot, p, bytes, alignment);
  }
  slot.counts.record_free(bytes);
  live_bytes_ -= bytes;
  release(lock);
  try {
    upstream_deallocate(p, bytes, alignment);
  } catch (...) {
    // The upstream kept the block: it is still live, and still ours to count.
    reacquire(lock);
    unrecord_free(slot.counts, bytes);
    live_bytes_ += bytes;
    if (options_.verify_frees) live_blocks_.try_emplace(p, BlockRecord{bytes, alignment, &slot});
    throw;
  }
}

void TrackingResource::throw_implausible_free(const TagSlot& slot, const void* p, std::size_t bytes,
                                              std::size_t alignment) const {
  if (p == nullptr) detail::throw_invalid_free(description(), "deallocate", p, "null pointer");
  if (!detail::is_power_of_two(alignment)) {
    std::string reason = "alignment ";
    reason.append(std::to_string(alignment)).append(" is not a power of two");
    detail::throw_invalid_free(description(), "deallocate", p, reason);
  }
  const AllocCounts counts = [&] {
    auto lock = lock_if_shared();
    return slot.counts;
  }();
  std::string reason = "frees ";
  reason.append(bytes_phrase(bytes))
      .append(" under the tag ")
      .append(quoted(detail::tag_name(slot.tag)))
      .append(", which has ")
      .append(bytes_phrase(counts.live_bytes))
      .append(" live in ")
      .append(std::to_string(counts.live_blocks))
      .append(counts.live_blocks == 1 ? " block" : " blocks")
      .append(" (a pointer this tracker did not hand out, a double free, or a wrong size)");
  detail::throw_invalid_free(description(), "deallocate", p, reason);
}

// ---- Tracked<T> --------------------------------------------------------------------------------

namespace {

struct TrackedRegistry {
  std::mutex mutex;
  detail::TrackedTypeCounters* head = nullptr;
  std::atomic<std::uint64_t> live_bytes{0};  // all types together, for the exact shared peak
  std::atomic<std::uint64_t> peak_bytes{0};
};

constinit TrackedRegistry g_tracked;

}  // namespace

namespace detail {

TrackedTypeCounters::TrackedTypeCounters(std::string_view type_name_, std::size_t size) noexcept
    : type(type_name_), object_size(size) {
  std::lock_guard lock(g_tracked.mutex);
  next = g_tracked.head;
  g_tracked.head = this;
}

void tracked_record_make(TrackedTypeCounters& counters) noexcept {
  counters.made.fetch_add(1, std::memory_order_relaxed);
  raise_peak(counters.peak, counters.live.fetch_add(1, std::memory_order_relaxed) + 1);
  raise_peak(g_tracked.peak_bytes,
             g_tracked.live_bytes.fetch_add(counters.object_size, std::memory_order_relaxed) +
                 counters.object_size);
}

void tracked_record_destroy(TrackedTypeCounters& counters) noexcept {
  counters.live.fetch_sub(1, std::memory_order_relaxed);
  g_tracked.live_bytes.fetch_sub(counters.object_size, std::memory_order_relaxed);
}

AllocCounts tracked_counts(const TrackedTypeCounters& counters) noexcept {
  // `live` first: an object counted in it was counted in `made` before, so live <= made.
  const std::uint64_t live = counters.live.load(std::memory_order_relaxed);
  const std::uint64_t made = std::max(live, counters.made.load(std::memory_order_relaxed));
  const std::uint64_t size = counters.object_size;
  AllocCounts counts;
  counts.allocations = made;
  counts.frees = made - live;
  counts.live_blocks = live;
  counts.live_bytes = live * size;
  counts.peak_bytes = std::max(live, counters.peak.load(std::memory_order_relaxed)) * size;
  counts.total_bytes = made * size;
  return counts;
}

}  // namespace detail

MemoryStats tracked_stats() {
  MemoryStats stats;
  stats.source = "memkit::Tracked";
  std::vector<TagStats> types;
  {
    std::lock_guard lock(g_tracked.mutex);
    for (const detail::TrackedTypeCounters* c = g_tracked.head; c != nullptr; c = c->next) {
      const AllocCounts counts = detail::tracked_counts(*c);
      if (counts.allocations == 0) continue;
      types.push_back(TagStats{std::string(c->type), counts});
    }
  }
  for (const TagStats& type : types) {
    stats.counts.allocations += type.counts.allocations;
    stats.counts.frees += type.counts.frees;
    stats.counts.live_bytes += type.counts.live_bytes;
    stats.counts.live_blocks += type.counts.live_blocks;
    stats.counts.total_bytes += type.counts.total_bytes;
  }
  stats.counts.peak_bytes =
      std::max(stats.counts.live_bytes, g_tracked.peak_bytes.load(std::memory_order_relaxed));
  stats.by_tag = std::move(types);
  sort_tags(stats.by_tag);
  return stats;
}

// ---- heap counters -----------------------------------------------------------------------------
// Each thread that allocates through the hook owns a HeapThreadCounters (in its thread-local
// storage, see track_global.cpp) linked into g_heap.threads. A reader sums the live threads'
// counters and the retired totals under g_heap.mutex; a thread retires (adds its counts to the
// retired totals, leaves the list) under the same mutex, so a reader sees every count exactly
// once. Nothing here allocates while holding the mutex: an allocation could be the calling
// thread's first and try to register.

namespace {

struct SharedTagCounters {
  std::atomic<std::uint64_t> allocations{0};
  std::atomic<std::uint64_t> frees{0};
  std::atomic<std::uint64_t> bytes_allocated{0};
  std::atomic<std::uint64_t> bytes_freed{0};
  // The shared live total the peak is taken from: flushed thread deltas plus orphans. Signed
  // arithmetic in an unsigned word: transiently "negative" while frees are flushed first.
  std::atomic<std::uint64_t> live_bytes{0};
  std::atomic<std::uint64_t> peak_bytes{0};
};

struct HeapRegistry {
  std::atomic<bool> hook_linked{false};
  std::mutex mutex;
  detail::HeapThreadCounters* threads = nullptr;
  // Retired threads and orphan calls, per tag.
  std::array<SharedTagCounters, detail::kHeapTagSlots> retired{};
  std::atomic<std::uint64_t> live_bytes{0};  // as SharedTagCounters::live_bytes, all tags
  std::atomic<std::uint64_t> peak_bytes{0};

  std::mutex names_mutex;  // the heap tag names; separate: heap_tag() allocates
  std::array<std::string_view, detail::kHeapTagSlots> names{};
  std::uint32_t name_count = 0;
};

constinit HeapRegistry g_heap;

std::int64_t as_signed(std::uint64_t value) noexcept { return static_cast<std::int64_t>(value); }

void add_live(std::atomic<std::uint64_t>& live, std::atomic<std::uint64_t>& peak,
              std::int64_t delta) noexcept {
  const std::uint64_t now =
      live.fetch_add(static_cast<std::uint64_t>(delta), std::memory_order_relaxed) +
      static_cast<std::uint64_t>(delta);
  if (delta > 0 && as_signed(now) > 0) raise_peak(peak, now);
}

std::uint64_t load(const std::atomic<std::uint64_t>& counter) noexcept {
  return counter.load(std::memory_order_relaxed);
}

// What one read sees for one tag: sums over threads and the retired totals.
struct TagSnapshot {
  std::uint64_t allocations = 0;
  std::uint64_t frees = 0;
  std::uint64_t bytes_allocated = 0;
  std::uint64_t bytes_freed = 0;
};

// The counts of a tag (or of all), given the sums and the shared peak. The peak is raised to the
// exact live bytes now, so it is never below what a read has seen.
AllocCounts to_counts(const TagSnapshot& s, std::atomic<std::uint64_t>& peak) noexcept {
  AllocCounts counts;
  counts.allocations = s.allocations;
  counts.frees = std::min(s.frees, s.allocations);
  counts.live_blocks = s.allocations - counts.frees;
  counts.total_bytes = s.bytes_allocated;
  counts.live_bytes = s.bytes_allocated - std::min(s.bytes_freed, s.bytes_allocated);
  raise_peak(peak, counts.live_bytes);
  counts.peak_bytes = std::max(load(peak), counts.live_bytes);
  return counts;
}

// Sums the counters of every tag (or only `only`), under g_heap.mutex; never allocates.
void snapshot(std::array<TagSnapshot, detail::kHeapTagSlots>& out, std::uint32_t first,
              std::uint32_t last) noexcept {
  std::lock_guard lock(g_heap.mutex);
  for (std::uint32_t t = first; t < last; ++t) {
    const SharedTagCounters& r = g_heap.retired[t];
    // Frees before allocations, in every source: a free seen implies its allocation was counted
    // earlier on the same thread, so live counts do not go below zero within a thread.
    out[t].frees = load(r.frees);
    out[t].bytes_freed = load(r.bytes_freed);
    out[t].allocations = load(r.allocations);
    out[t].bytes_allocated = load(r.bytes_allocated);
  }
  for (const detail::HeapThreadCounters* c = g_heap.threads; c != nullptr; c = c->next) {
    for (std::uint32_t t = first; t < last; ++t) {
      const detail::HeapTagCounters& tc = c->tags[t];
      out[t].frees += load(tc.frees);
      out[t].bytes_freed += load(tc.bytes_freed);
      out[t].allocations += load(tc.allocations);
      out[t].bytes_allocated += load(tc.bytes_allocated);
    }
  }
}

constexpr std::string_view kUntaggedName = "(untagged)";
constexpr std::string_view kOtherTagsName = "(other tags)";

std::string_view heap_tag_name_locked(std::uint32_t index) {
  if (index == 0) return kUntaggedName;
  if (index == detail::kOtherHeapTags) return kOtherTagsName;
  return index < g_heap.name_count ? g_heap.names[index] : std::string_view("(unknown tag)");
}

}  // namespace

namespace detail {

constinit thread_local std::uint32_t current_heap_tag = 0;

void heap_hook_linked() noexcept { g_heap.hook_linked.store(true, std::memory_order_relaxed); }

void heap_register_thread(HeapThreadCounters& counters) noexcept {
  heap_hook_linked();
  std::lock_guard lock(g_heap.mutex);
  counters.prev = nullptr;
  counters.next = g_heap.threads;
  if (g_heap.threads != nullptr) g_heap.threads->prev = &counters;
  g_heap.threads = &counters;
}

void heap_retire_thread(HeapThreadCounters& counters) noexcept {
  for (std::uint32_t t = 0; t < kHeapTagSlots; ++t) {
    if (counters.unflushed_tag_bytes[t] != 0) {
      add_live(g_heap.retired[t].live_bytes, g_heap.retired[t].peak_bytes,
               counters.unflushed_tag_bytes[t]);
      counters.unflushed_tag_bytes[t] = 0;
    }
  }
  add_live(g_heap.live_bytes, g_heap.peak_bytes, counters.unflushed_bytes);
  counters.unflushed_bytes = 0;

  std::lock_guard lock(g_heap.mutex);
  for (std::uint32_t t = 0; t < kHeapTagSlots; ++t) {
    const HeapTagCounters& from = counters.tags[t];
    SharedTagCounters& to = g_heap.retired[t];
    to.allocations.fetch_add(load(from.allocations), std::memory_order_relaxed);
    to.frees.fetch_add(load(from.frees), std::memory_order_relaxed);
    to.bytes_allocated.fetch_add(load(from.bytes_allocated), std::memory_order_relaxed);
    to.bytes_freed.fetch_add(load(from.bytes_freed), std::memory_order_relaxed);
  }
  if (counters.prev != nullptr) {
    counters.prev->next = counters.next;
  } else {
    g_heap.threads = counters.next;
  }
  if (counters.next != nullptr) counters.next->prev = counters.prev;
  counters.prev = counters.next = nullptr;
}

void heap_flush(HeapThreadCounters& counters, std::uint32_t tag) noexcept {
  constexpr auto kLimit = static_cast<std::int64_t>(kHeapPeakFlushBytes);
  std::int64_t& all = counters.unflushed_bytes;
  if (all >= kLimit || all <= -kLimit) {
    add_live(g_heap.live_bytes, g_heap.peak_bytes, all);
    all = 0;
  }
  std::int64_t& one = counters.unflushed_tag_bytes[tag];
  if (one >= kLimit || one <= -kLimit) {
    add_live(g_heap.retired[tag].live_bytes, g_heap.retired[tag].peak_bytes, one);
    one = 0;
  }
}

void heap_count_orphan_allocation(std::uint32_t tag, std::uint64_t bytes) noexcept {
  SharedTagCounters& to = g_heap.retired[tag];
  to.allocations.fetch_add(1, std::memory_order_relaxed);
  to.bytes_allocated.fetch_add(bytes, std::memory_order_relaxed);
  add_live(to.live_bytes, to.peak_bytes, as_signed(bytes));
  add_live(g_heap.live_bytes, g_heap.peak_bytes, as_signed(bytes));
}

void heap_count_orphan_free(std::uint32_t tag, std::uint64_t bytes) noexcept {
  SharedTagCounters& to = g_heap.retired[tag];
  to.frees.fetch_add(1, std::memory_order_relaxed);
  to.bytes_freed.fetch_add(bytes, std::memory_order_relaxed);
  add_live(to.live_bytes, to.peak_bytes, -as_signed(bytes));
  add_live(g_heap.live_bytes, g_heap.peak_bytes, -as_signed(bytes));
}

}  // namespace detail

bool heap_tracking_enabled() noexcept { return g_heap.hook_linked.load(std::memory_order_relaxed); }

AllocCounts heap_counts() noexcept {
  std::array<TagSnapshot, detail::kHeapTagSlots> tags{};
  snapshot(tags, 0, detail::kHeapTagSlots);
  TagSnapshot all;
  for (const TagSnapshot& t : tags) {
    all.allocations += t.allocations;
    all.frees += t.frees;
    all.bytes_allocated += t.bytes_allocated;
    all.bytes_freed += t.bytes_freed;
  }
  return to_counts(all, g_heap.peak_bytes);
}

AllocCounts heap_counts(HeapTagId tag) noexcept {
  std::array<TagSnapshot, detail::kHeapTagSlots> tags{};
  snapshot(tags, tag.index(), tag.index() + 1);
  return to_counts(tags[tag.index()], g_heap.retired[tag.index()].peak_bytes);
}

MemoryStats heap_stats() {
  std::array<TagSnapshot, detail::kHeapTagSlots> tags{};
  snapshot(tags, 0, detail::kHeapTagSlots);  // before anything here allocates
  MemoryStats stats;
  stats.source = kHeapStatsSource;
  TagSnapshot all;
  for (std::uint32_t t = 0; t < detail::kHeapTagSlots; ++t) {
    all.allocations += tags[t].allocations;
    all.frees += tags[t].frees;
    all.bytes_allocated += tags[t].bytes_allocated;
    all.bytes_freed += tags[t].bytes_freed;
  }
  stats.counts = to_counts(all, g_heap.peak_bytes);
  std::array<std::string_view, detail::kHeapTagSlots> names{};
  {
    std::lock_guard lock(g_heap.names_mutex);
    for (std::uint32_t t = 0; t < detail::kHeapTagSlots; ++t) names[t] = heap_tag_name_locked(t);
  }
  for (std::uint32_t t = 0; t < detail::kHeapTagSlots; ++t) {
    if (tags[t].allocations == 0) continue;
    stats.by_tag.push_back(
        TagStats{std::string(names[t]), to_counts(tags[t], g_heap.retired[t].peak_bytes)});
  }
  sort_tags(stats.by_tag);
  return stats;
}

HeapTagId heap_tag(std::string_view name) {
  if (name == kUntaggedName) return HeapTagId::untagged();
  if (name == kOtherTagsName) return HeapTagId(detail::kOtherHeapTags);
  const std::string_view stored = detail::tag_name(detail::intern_tag(name));  // may allocate
  std::lock_guard lock(g_heap.names_mutex);
  for (std::uint32_t i = 1; i < g_heap.name_count; ++i) {
    if (g_heap.names[i] == stored) return HeapTagId(i);
  }
  if (g_heap.name_count == 0) g_heap.name_count = 1;  // slot 0 is "(untagged)"
  if (g_heap.name_count == detail::kOtherHeapTags) return HeapTagId(detail::kOtherHeapTags);
  g_heap.names[g_heap.name_count] = stored;
  return HeapTagId(g_heap.name_count++);
}

std::string_view heap_tag_name(HeapTagId tag) {
  std::lock_guard lock(g_heap.names_mutex);
  return heap_tag_name_locked(tag.index());
}

}  // namespace memkit
