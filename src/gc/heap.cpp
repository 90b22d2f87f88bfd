// The heap: slow allocation paths, pacing, the collection sequence (docs/gc.md), teardown.
#include "memkit/gc/heap.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <string>

#include "heap_internals.h"
#include "marker.h"
#include "memkit/base/error.h"
#include "memkit/base/sanitizers.h"
#include "sweeper.h"
#include "verifier.h"

namespace memkit::gc {
namespace detail {

void HeapInternals::settle() noexcept {
  accounted_since += static_cast<std::uint64_t>(window - heap.budget_);
  window = 0;
  heap.budget_ = 0;
}

void HeapInternals::open_window() noexcept {
  std::int64_t budget = 0;
  if (!stress.enabled()) {
    const std::uint64_t accounted = live_total_after_collection() + accounted_since;
    if (threshold > accounted) {
      budget = static_cast<std::int64_t>(
          std::min<std::uint64_t>(threshold - accounted, std::numeric_limits<std::int32_t>::max()));
    }
  }
  window = budget;
  heap.budget_ = budget;
}

std::uint64_t HeapInternals::allocated_since() const noexcept {
  const std::uint64_t charged =
      collecting ? accounted_since
                 : accounted_since + static_cast<std::uint64_t>(window - heap.budget_);
  return charged - external_since;
}

void HeapInternals::note_mapping(std::uintptr_t begin, std::size_t size) noexcept {
  lowest_address = std::min(lowest_address, begin);
  highest_address = std::max(highest_address, begin + size);
}

void HeapInternals::finish_sweep() {
  if (unswept_pages != 0) run_destructors([&] { Sweeper(*this).finish(); });
}

NormalPage* HeapInternals::take_page(std::size_t size_class) {
  // Pages the lazy sweep has not reached may be empty: use them before mapping a new one.
  if (spare_pages.empty()) finish_sweep();
  NormalPage* page;
  if (!spare_pages.empty()) {
    page = spare_pages.back();
    spare_pages.pop_back();
    init_page(page, size_class);
  } else {
    page = map_page(&heap, &heap.handles_, size_class);
    note_mapping(reinterpret_cast<std::uintptr_t>(page), kPageSize);
  }
  pages.reserve(pages.size() + 1);
  page_set.insert(reinterpret_cast<std::uintptr_t>(page));
  pages.push_back(page);
  return page;
}

void HeapInternals::sync_tops() noexcept {
  for (Heap::SizeClassState& state : heap.classes_) {
    if (state.page != nullptr) state.page->top = state.bump;
  }
}

GcObject* HeapInternals::find_object(std::uintptr_t address) const noexcept {
  if (address < lowest_address || address >= highest_address) return nullptr;
  const std::uintptr_t base = address & kPageMask;
  if (page_set.count(base) != 0) {
    auto* page = reinterpret_cast<NormalPage*>(base);
    const char* at = reinterpret_cast<const char*>(address);
    if (at < page->payload || at >= page->top) return nullptr;
    char* slot = page->payload + std::size_t{slot_index(page, at)} * page->slot_size;
    return holds_object(slot) ? reinterpret_cast<GcObject*>(slot) : nullptr;
  }
  auto it = large_by_address.upper_bound(address);
  if (it == large_by_address.begin()) return nullptr;
  --it;
  LargeObject* large = it->second;
  GcObject* object = large_object_start(large);
  const auto begin = reinterpret_cast<std::uintptr_t>(object);
  if (address < begin || address >= begin + large->object_size) return nullptr;
  return holds_object(object) ? object : nullptr;
}

std::uint64_t HeapInternals::free_held_bytes() const noexcept {
  // Slot bytes, not page bytes: the threshold counts slots, and a page's header and tail hold
  // none (a spare page is counted at the payload of the 16-byte class, the most any class gets).
  std::uint64_t held = spare_pages.size() * std::uint64_t{kPageSize - kPayloadOffset};
  for (const NormalPage* page : pages) held += std::uint64_t{page->slot_count} * page->slot_size;
  return held > live_page_bytes ? held - live_page_bytes : 0;
}

void HeapInternals::trim_spare_pages() noexcept {
  // The pages the allocation until the next collection may need stay; the rest go back. The free
  // slots of pages in use count towards that room first.
  const std::uint64_t live = live_total_after_collection();
  const std::uint64_t room = threshold > live ? threshold - live : 0;
  std::uint64_t in_use = 0;
  for (const NormalPage* page : pages) in_use += std::uint64_t{page->slot_count} * page->slot_size;
  const std::uint64_t free_in_use = in_use > live_page_bytes ? in_use - live_page_bytes : 0;
  const std::uint64_t spare_room = room > free_in_use ? room - free_in_use : 0;
  constexpr std::uint64_t kPayload = kPageSize - kPayloadOffset;
  const std::size_t keep = static_cast<std::size_t>(spare_room / kPayload);
  while (spare_pages.size() > keep) {
    NormalPage* page = spare_pages.back();
    spare_pages.pop_back();
    unmap_page(page);
  }
}

}  // namespace detail

namespace {

bool verify_from_environment() {
  const char* value = std::getenv("MEMKIT_GC_VERIFY");
  if (value == nullptr) return false;
  const std::string_view text(value);
  if (text.empty() || text == "0" || text == "off") return false;
  if (text == "1" || text == "on") return true;
  std::string reason = "expected 0, off, 1 or on";
  ::memkit::detail::throw_gc_usage_error(
      "memkit::gc::Heap", std::string("MEMKIT_GC_VERIFY=\"").append(text).append("\""), reason);
}

std::uint64_t next_random(std::uint64_t& state) noexcept {  // splitmix64
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Stress mode: does this allocation collect?
bool stress_says_collect(detail::HeapInternals& in) noexcept {
  if (!in.stress.enabled()) return false;
  ++in.stress_allocations;
  if (in.stress.mode() == Stress::Mode::kEvery) {
    return in.stress_allocations % in.stress.interval() == 0;
  }
  const double draw = static_cast<double>(next_random(in.stress_random_state) >> 11) * 0x1p-53;
  return draw < in.stress.probability();
}

[[noreturn]] void fatal_allocation_during_collection() {
  ::memkit::detail::fatal(
      "memkit::gc::Heap: make() during a collection (from trace(), a weak callback, a "
      "pre-finalizer or a destructor): the heap cannot allocate while it collects");
}

}  // namespace

Heap::Heap() : internals_(std::make_unique<detail::HeapInternals>(*this)) {
  handles_.owner = std::this_thread::get_id();
  detail::HeapInternals& in = *internals_;
  in.stress = Stress::from_environment();
  in.stress_random_state = in.stress.seed();
  in.verify = verify_from_environment();
  in.threshold = in.policy.threshold(0);
  in.open_window();
}

Heap::~Heap() {
  detail::HeapInternals& in = *internals_;
  in.collecting = true;
  budget_ = std::numeric_limits<std::int64_t>::min() / 2;
  detail::Sweeper(in).finish();  // the last collection's garbage first (its marks are set)
  in.sync_tops();
  // Nothing is marked: every object is dead. Pre-finalizers first, while all are intact.
  for (detail::GcObject* object : in.pre_finalizable) object->gc_pre_finalize();
  in.pre_finalizable.clear();
  detail::Sweeper(in).sweep(poisons_dead_members());
  if (handles_.live() != 0) {
    std::string message = "memkit::gc::Heap destroyed while ";
    message.append(std::to_string(handles_.live()))
        .append(" handles still refer to it (")
        .append(std::to_string(handles_.locals.live()))
        .append(" Locals, ")
        .append(std::to_string(handles_.roots.live()))
        .append(" Roots, ")
        .append(std::to_string(handles_.weak_roots.live()))
        .append(" WeakRoots): the heap must outlive its handles");
    ::memkit::detail::fatal(message);
  }
  for (detail::NormalPage* page : in.pages) detail::unmap_page(page);
  for (detail::NormalPage* page : in.spare_pages) detail::unmap_page(page);
  for (detail::LargeObject* large : in.large_objects) detail::unmap_large_object(large);
}

void* Heap::allocate_small_slow(std::size_t size_class) {
  detail::HeapInternals& in = *internals_;
  if (in.collecting) fatal_allocation_during_collection();
  const std::uint32_t slot = detail::kSizeClasses[size_class];
  in.settle();  // this allocation is charged already
  bool collect_now = stress_says_collect(in);
  const CollectionReason reason =
      collect_now ? CollectionReason::kStress : CollectionReason::kAllocation;
  if (!collect_now && in.live_total_after_collection() + in.accounted_since > in.threshold) {
    collect_now = true;
  }
  if (collect_now) {
    in.accounted_since -= slot;  // not allocated yet: charged again after the collection
    collect_for(reason);
    in.settle();
    in.accounted_since += slot;
  }
  in.open_window();

  SizeClassState& state = classes_[size_class];
  // The free list, the bump range, then the pages of this class the lazy sweep has not reached.
  for (;;) {
    if (void* memory = state.free.pop()) return memory;
    if (static_cast<std::size_t>(state.end - state.bump) >= slot) break;
    if (in.unswept[size_class].empty()) break;
    in.run_destructors([&] { detail::Sweeper(in).sweep_next(size_class); });
  }
  if (static_cast<std::size_t>(state.end - state.bump) < slot) {
    if (state.page != nullptr) state.page->top = state.bump;
    detail::NormalPage* page = in.take_page(size_class);
    state.page = page;
    state.bump = page->payload;
    state.end = page->payload + std::size_t{page->slot_count} * slot;
  }
  void* memory = state.bump;
  state.bump += slot;
  return memory;
}

void* Heap::allocate_large(std::size_t size) {
  detail::HeapInternals& in = *internals_;
  if (in.collecting) fatal_allocation_during_collection();
  in.settle();
  bool collect_now = stress_says_collect(in);
  const CollectionReason reason =
      collect_now ? CollectionReason::kStress : CollectionReason::kAllocation;
  if (!collect_now && in.live_total_after_collection() + in.accounted_since + size > in.threshold) {
    collect_now = true;
  }
  if (collect_now) {
    collect_for(reason);
    in.settle();
  }
  detail::LargeObject* large = detail::map_large_object(this, &handles_, size);
  const auto address = reinterpret_cast<std::uintptr_t>(large);
  in.note_mapping(address, large->mapping_size);
  in.large_objects.reserve(in.large_objects.size() + 1);
  in.large_by_address.emplace(address, large);
  in.large_objects.push_back(large);
  in.accounted_since += size;
  in.open_window();
  return detail::large_object_start(large);
}

void Heap::abandon(void* memory, std::uint32_t handle) noexcept {
  handles_.locals.release(handle);
  detail::PageHeader* header = detail::page_of(memory);
  if (header->kind == detail::PageKind::kLarge) {
    // Zero first word: no object; the next sweep unmaps it.
    *static_cast<std::uintptr_t*>(memory) = 0;
    return;
  }
  auto* page = static_cast<detail::NormalPage*>(header);
  classes_[page->size_class].free.push(memory);
  poison_memory(static_cast<char*>(memory) + sizeof(void*), page->slot_size - sizeof(void*));
}

void Heap::reject_layout(detail::GcObject* object, void* memory, std::uint32_t handle,
                         std::string_view type) {
  object->gc_destroy();
  abandon(memory, handle);
  std::string reason(type);
  reason.append(" does not start with its memkit::gc::GarbageCollected base: it must be the ")
      .append("first polymorphic base class");
  std::string operation("make<");
  operation.append(type).append(">()");
  ::memkit::detail::throw_gc_usage_error("memkit::gc::Heap", operation, reason);
}

void Heap::register_pre_finalizer(detail::GcObject* object) {
  internals_->pre_finalizable.push_back(object);
}

void Heap::note_external(std::size_t bytes) noexcept {
  detail::HeapInternals& in = *internals_;
  in.object_external_since += bytes;
  in.external_since += bytes;
  budget_ -= static_cast<std::int64_t>(std::min<std::size_t>(bytes, INT32_MAX));
}

void Heap::adjust_external_bytes(std::int64_t delta) {
  check_thread("adjust_external_bytes()");
  detail::HeapInternals& in = *internals_;
  if (delta < 0) {
    const auto decrease = static_cast<std::uint64_t>(-(delta + 1)) + 1;
    if (decrease > in.external_bytes) {
      std::string reason = "the external bytes would go below zero (they are ";
      reason.append(std::to_string(in.external_bytes)).append(")");
      ::memkit::detail::throw_gc_usage_error(
          "memkit::gc::Heap", "adjust_external_bytes(" + std::to_string(delta) + ")", reason);
    }
    in.external_bytes -= decrease;
    return;
  }
  const auto increase = static_cast<std::uint64_t>(delta);
  in.external_bytes += increase;
  in.external_since += increase;
  budget_ -= static_cast<std::int64_t>(std::min<std::uint64_t>(increase, INT32_MAX));
}

void Heap::collect() {
  check_thread("collect()");
  collect_for(CollectionReason::kExplicit);
}

void Heap::collect_for(CollectionReason reason) {
  detail::HeapInternals& in = *internals_;
  if (in.collecting) {
    ::memkit::detail::fatal(
        "memkit::gc::Heap: collect() during a collection (from trace(), a weak callback, a "
        "pre-finalizer or a destructor)");
  }
  const auto start = std::chrono::steady_clock::now();
  in.settle();
  in.collecting = true;
  budget_ = std::numeric_limits<std::int64_t>::min() / 2;  // make() aborts until the end
  detail::Sweeper(in).finish();  // the previous collection's garbage, before its marks go
  in.sync_tops();

  // 1-4: roots, mark, ephemerons, weak processing.
  detail::Marker marker(in);
  marker.mark_roots();
  if (in.conservative) marker.scan_stack();
  marker.drain();
  marker.process_ephemerons();
  marker.process_weak();

  // 5: pre-finalizers of dead objects, while every dead object is intact.
  std::vector<detail::GcObject*> dying;
  auto& registered = in.pre_finalizable;
  for (std::size_t i = 0; i < registered.size();) {
    if (detail::is_marked(registered[i])) {
      ++i;
    } else {
      dying.push_back(registered[i]);
      registered[i] = registered.back();
      registered.pop_back();
    }
  }
  for (detail::GcObject* object : dying) object->gc_pre_finalize();

  // 6: the verifier.
  if (in.verify) {
    detail::Verifier verifier(in);
    std::string report = verifier.run();
    if (verifier.problems() != 0) {
      detail::Sweeper(in).clear_marks();
      in.collecting = false;
      in.open_window();
      throw GcVerificationError(verifier.problems(), report);
    }
  }

  // 7: sweep: all of it for an explicit collect() and in stress mode (the destructors have run
  // when the collection returns), lazily for the pacing (the allocator sweeps each page when it
  // reaches it).
  const detail::Sweeper::Result swept =
      reason != CollectionReason::kAllocation
          ? detail::Sweeper(in).sweep(poisons_dead_members())
          : detail::Sweeper(in).start_lazy_sweep(poisons_dead_members());

  in.live_object_bytes = swept.live_bytes;
  in.live_page_bytes = swept.live_page_bytes;
  in.peak_live_bytes = std::max(in.peak_live_bytes, swept.live_bytes);
  in.live_object_external = marker.external_bytes();
  in.external_at_collection = in.external_bytes;
  in.accounted_since = 0;
  in.external_since = 0;
  in.object_external_since = 0;
  in.retain_basis = std::max(in.live_total_after_collection(), in.retain_basis / 2);
  in.threshold =
      in.policy.threshold(in.live_total_after_collection(), in.free_held_bytes(), in.retain_basis);
  in.trim_spare_pages();
  in.collecting = false;
  in.open_window();

  const auto pause = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count());
  ++in.collections;
  in.total_pause_ns += pause;
  in.max_pause_ns = std::max(in.max_pause_ns, pause);
  in.last_pause_ns = pause;
  in.last_reason = reason;
}

GcStats Heap::stats() const {
  check_thread("stats()");
  detail::HeapInternals& in = *internals_;
  in.finish_sweep();  // so the per-type counts are exact
  in.sync_tops();
  GcStats stats;
  stats.collections = in.collections;
  stats.total_pause_ns = in.total_pause_ns;
  stats.max_pause_ns = in.max_pause_ns;
  stats.last_pause_ns = in.last_pause_ns;
  stats.last_reason = in.last_reason;
  stats.pages = in.pages.size() + in.spare_pages.size();
  stats.large_objects = in.large_objects.size();
  stats.heap_bytes = stats.pages * detail::kPageSize;
  for (const detail::LargeObject* large : in.large_objects) stats.heap_bytes += large->mapping_size;
  stats.live_bytes_after_last_collection = in.live_total_after_collection();
  stats.allocated_since_last_collection = in.allocated_since();
  stats.external_bytes = in.external_bytes;
  stats.object_external_bytes = in.live_object_external + in.object_external_since;
  stats.next_collection_at = in.threshold;
  stats.stress = in.stress.to_string();

  // Live objects per type by walking the heap; collected ones from the sweeper's totals.
  std::unordered_map<const detail::TypeInfo*, AllocCounts> live;
  in.for_each_object([&](detail::GcObject* object, std::size_t size) {
    AllocCounts& counts = live[&object->gc_type()];
    ++counts.live_blocks;
    counts.live_bytes += size;
  });
  for (auto& [type, totals] : in.types) live[type];  // types with no live object left
  MemoryStats& objects = stats.objects;
  objects.source = "memkit::gc::Heap";
  for (auto& [type, counts] : live) {
    detail::TypeTotals& totals = in.types[type];
    totals.peak_bytes = std::max(totals.peak_bytes, counts.live_bytes);
    counts.frees = totals.frees;
    counts.allocations = counts.live_blocks + totals.frees;
    counts.total_bytes = counts.live_bytes + totals.freed_bytes;
    counts.peak_bytes = totals.peak_bytes;
    objects.counts.allocations += counts.allocations;
    objects.counts.frees += counts.frees;
    objects.counts.live_blocks += counts.live_blocks;
    objects.counts.live_bytes += counts.live_bytes;
    objects.counts.total_bytes += counts.total_bytes;
    objects.by_tag.push_back(TagStats{std::string(type->name), counts});
  }
  in.peak_live_bytes = std::max(in.peak_live_bytes, objects.counts.live_bytes);
  objects.counts.peak_bytes = in.peak_live_bytes;
  Footprint footprint;
  footprint.capacity_bytes = stats.heap_bytes;
  footprint.chunks = stats.pages + stats.large_objects;
  footprint.wasted_bytes = 0;
  objects.footprint = footprint;
  sort_tags(objects.by_tag);
  return stats;
}

void Heap::set_stress(Stress stress) {
  check_thread("set_stress()");
  detail::HeapInternals& in = *internals_;
  in.settle();
  in.stress = stress;
  in.stress_allocations = 0;
  in.stress_random_state = stress.seed();
  in.open_window();
}
const Stress& Heap::stress() const noexcept { return internals_->stress; }
void Heap::set_verify(bool on) noexcept { internals_->verify = on; }
bool Heap::verify() const noexcept { return internals_->verify; }
void Heap::set_conservative_stack_scan(bool on) noexcept { internals_->conservative = on; }
bool Heap::conservative_stack_scan() const noexcept { return internals_->conservative; }
void Heap::set_growing_policy(GrowingPolicy policy) {
  check_thread("set_growing_policy()");
  policy.validate();
  detail::HeapInternals& in = *internals_;
  in.settle();
  in.policy = policy;
  in.threshold =
      policy.threshold(in.live_total_after_collection(), in.free_held_bytes(), in.retain_basis);
  in.open_window();
}
const GrowingPolicy& Heap::growing_policy() const noexcept { return internals_->policy; }
bool Heap::poisons_dead_members() const noexcept {
  return MEMKIT_DEBUG != 0 || internals_->stress.enabled();
}
std::uint64_t Heap::collections() const noexcept { return internals_->collections; }

}  // namespace memkit::gc
