// Sweeping: every slot below a page's sweep top is live (marked), dead (unmarked, holds an
// object) or free (first word tagged, or 0 for a slot whose constructor threw).
#include "sweeper.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "memkit/base/sanitizers.h"
#include "memkit/gc/visitor.h"

namespace memkit::gc::detail {
namespace {

// Overwrites every Member and WeakMember of a dead object with the poison value.
class Poisoner final : public Visitor {
 protected:
  void visit_strong(const MemberBase& member, const char*) override { poison(member); }
  void visit_weak(const MemberBase& member, const char*) override { poison(member); }
  void visit_ephemeron(GcObject*, const MemberBase& value) override { poison(value); }
  void visit_weak_callback(WeakCallback, const void*) override {}

 private:
  static void poison(const MemberBase& member) { const_cast<MemberBase&>(member).poison(); }
};

std::size_t used_slots(const NormalPage* page, const char* top) {
  return static_cast<std::size_t>(top - page->payload) / page->slot_size;
}

std::size_t mark_words(const NormalPage* page) { return (used_slots(page, page->top) + 63) / 64; }

std::uint64_t count_marks(const NormalPage* page) {
  std::uint64_t live = 0;
  const std::size_t words = mark_words(page);
  for (std::size_t i = 0; i < words; ++i) live += std::popcount(page->mark_bits[i]);
  return live;
}

}  // namespace

void Sweeper::poison_dead_members() {
  Poisoner poisoner;
  for (NormalPage* page : internals_.pages) {
    std::uint32_t index = 0;
    for (char* slot = page->payload; slot < page->top; slot += page->slot_size, ++index) {
      if ((page->mark_bits[index / 64] >> (index % 64)) & 1U) continue;
      if (holds_object(slot)) reinterpret_cast<GcObject*>(slot)->gc_trace(poisoner);
    }
  }
  for (LargeObject* large : internals_.large_objects) {
    GcObject* object = large_object_start(large);
    if (!large->marked && holds_object(object)) object->gc_trace(poisoner);
  }
}

void Sweeper::count_frees(const TypeInfo* type, std::uint64_t count, std::uint64_t bytes) {
  if (count == 0) return;
  TypeTotals& totals = internals_.types[type];
  totals.frees += count;
  totals.freed_bytes += bytes;
}

bool Sweeper::sweep_page(NormalPage* page) {
  const std::uint32_t slot_size = page->slot_size;
  const std::size_t used = used_slots(page, page->sweep_top);
  const std::size_t words = (used + 63) / 64;
  FreeList& free_list = internals_.heap.classes_[page->size_class].free;
  // Empty: nothing marked, and nothing bumped since the collection.
  bool empty = page->top == page->sweep_top;
  for (std::size_t i = 0; empty && i < words; ++i) empty = page->mark_bits[i] == 0;
  // Frees are counted per run of one type (one lookup per run, not per object).
  const TypeInfo* type = nullptr;
  std::uint64_t run = 0;
  // From the top down, so the free list comes out in address order.
  for (std::size_t word = words; word-- > 0;) {
    const std::size_t base = word * 64;
    const std::size_t count = std::min<std::size_t>(64, used - base);
    const std::uint64_t valid = count == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << count) - 1;
    std::uint64_t unmarked = ~page->mark_bits[word] & valid;
    while (unmarked != 0) {
      const std::size_t bit = 63 - static_cast<std::size_t>(std::countl_zero(unmarked));
      unmarked &= ~(std::uint64_t{1} << bit);
      char* slot = page->payload + (base + bit) * slot_size;
      if (holds_object(slot)) {
        const TypeInfo& destroyed = reinterpret_cast<GcObject*>(slot)->gc_destroy();
        if (&destroyed != type) {
          count_frees(type, run, run * slot_size);
          type = &destroyed;
          run = 0;
        }
        ++run;
      }
      if (!empty) {
        free_list.push(slot);
        poison_memory(slot + sizeof(void*), slot_size - sizeof(void*));
      }
    }
    page->mark_bits[word] = 0;
  }
  count_frees(type, run, run * slot_size);
  return empty;
}

void Sweeper::retire(NormalPage* page) {
  Heap::SizeClassState& state = internals_.heap.classes_[page->size_class];
  if (state.page == page) state = Heap::SizeClassState{};
  internals_.page_set.erase(reinterpret_cast<std::uintptr_t>(page));
  page->top = page->payload;  // nothing lives here any more
  page->sweep_top = page->payload;
  page->spare = true;
  poison_memory(page->payload, kPageSize - kPayloadOffset);
  internals_.spare_pages.push_back(page);
}

Sweeper::Result Sweeper::sweep_large_objects() {
  Result result;
  std::vector<LargeObject*>& large_objects = internals_.large_objects;
  std::size_t kept = 0;
  for (LargeObject* large : large_objects) {
    if (large->marked) {
      large->marked = false;
      large_objects[kept++] = large;
      result.live_objects += 1;
      result.live_bytes += large->object_size;
      continue;
    }
    GcObject* object = large_object_start(large);
    if (holds_object(object)) count_frees(&object->gc_destroy(), 1, large->object_size);
    internals_.large_by_address.erase(reinterpret_cast<std::uintptr_t>(large));
    unmap_large_object(large);
  }
  large_objects.resize(kept);
  return result;
}

Sweeper::Result Sweeper::sweep(bool poison_members) {
  if (poison_members) poison_dead_members();
  Heap& heap = internals_.heap;
  for (Heap::SizeClassState& state : heap.classes_) state.free.clear();

  Result result;
  std::vector<NormalPage*>& pages = internals_.pages;
  std::size_t kept = 0;
  for (NormalPage* page : pages) {
    const std::uint64_t live = count_marks(page);
    result.live_objects += live;
    result.live_page_bytes += live * page->slot_size;
    page->sweep_top = page->top;
    if (sweep_page(page)) {
      retire(page);
    } else {
      pages[kept++] = page;
    }
  }
  pages.resize(kept);
  const Result large = sweep_large_objects();
  result.live_objects += large.live_objects;
  result.live_bytes = result.live_page_bytes + large.live_bytes;
  return result;
}

Sweeper::Result Sweeper::start_lazy_sweep(bool poison_members) {
  if (poison_members) poison_dead_members();
  Heap& heap = internals_.heap;
  for (Heap::SizeClassState& state : heap.classes_) state.free.clear();

  Result result;
  for (NormalPage* page : internals_.pages) {
    const std::uint64_t live = count_marks(page);
    result.live_objects += live;
    result.live_page_bytes += live * page->slot_size;
    page->sweep_top = page->top;
    if (live == used_slots(page, page->top)) {
      // Every slot handed out is alive: nothing to free, nothing to put on a free list.
      std::memset(page->mark_bits.data(), 0, mark_words(page) * sizeof(std::uint64_t));
      continue;
    }
    internals_.unswept[page->size_class].push_back(page);
    ++internals_.unswept_pages;
  }
  const Result large = sweep_large_objects();
  result.live_objects += large.live_objects;
  result.live_bytes = result.live_page_bytes + large.live_bytes;
  return result;
}

bool Sweeper::sweep_next(std::size_t size_class) {
  std::vector<NormalPage*>& queue = internals_.unswept[size_class];
  if (queue.empty()) return false;
  NormalPage* page = queue.back();
  queue.pop_back();
  --internals_.unswept_pages;
  Heap::SizeClassState& state = internals_.heap.classes_[size_class];
  if (state.page != nullptr) state.page->top = state.bump;
  if (sweep_page(page)) {
    // Empty: its objects are destroyed, so the whole page is bump space for the class (which
    // asked because its bump range ran out).
    page->top = page->payload;
    page->sweep_top = page->payload;
    poison_memory(page->payload, kPageSize - kPayloadOffset);
    state.page = page;
    state.bump = page->payload;
    state.end = page->payload + std::size_t{page->slot_count} * page->slot_size;
  }
  return true;
}

void Sweeper::finish() {
  if (internals_.unswept_pages == 0) return;
  Heap& heap = internals_.heap;
  for (Heap::SizeClassState& state : heap.classes_) {
    if (state.page != nullptr) state.page->top = state.bump;
  }
  bool retired = false;
  for (std::vector<NormalPage*>& queue : internals_.unswept) {
    for (NormalPage* page : queue) {
      if (sweep_page(page)) {
        retire(page);
        retired = true;
      }
    }
    queue.clear();
  }
  internals_.unswept_pages = 0;
  if (retired) std::erase_if(internals_.pages, [](const NormalPage* page) { return page->spare; });
}

void Sweeper::clear_marks() noexcept {
  for (NormalPage* page : internals_.pages) {
    std::memset(page->mark_bits.data(), 0, mark_words(page) * sizeof(std::uint64_t));
  }
  for (LargeObject* large : internals_.large_objects) large->marked = false;
}

}  // namespace memkit::gc::detail
