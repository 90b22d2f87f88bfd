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
  if (type != last_type_) {
    last_type_ = type;
    last_totals_ = &internals_.types[type];
  }
  last_totals_->frees += count;
  last_totals_->freed_bytes += bytes;
}

void Sweeper::destroy_run(char* first, std::size_t count, std::size_t slot_size) {
  if (count == 0) return;
  const TypeInfo& type = reinterpret_cast<GcObject*>(first)->gc_type();
  type.destroy_run(first, count, slot_size);
  count_frees(&type, count, std::uint64_t{count} * slot_size);
}

bool Sweeper::sweep_page(NormalPage* page) {
  const std::uint32_t slot_size = page->slot_size;
  const std::size_t used = used_slots(page, page->sweep_top);
  const std::size_t words = (used + 63) / 64;
  auto unmarked_in = [&](std::size_t word) {
    const std::size_t count = std::min<std::size_t>(64, used - word * 64);
    const std::uint64_t valid = count == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << count) - 1;
    return ~page->mark_bits[word] & valid;
  };
  // Empty: nothing marked, and nothing bumped since the collection.
  bool empty = page->top == page->sweep_top;
  for (std::size_t i = 0; empty && i < words; ++i) empty = page->mark_bits[i] == 0;

  // 1. Destructors, by runs of adjacent dead objects of one type (one indirect call per run,
  //    the type's destructor inlined in its loop). A slot's first word is its vtable pointer,
  //    so a run is a sequence of unmarked slots with equal first words.
  char* run = nullptr;
  std::size_t run_length = 0;
  std::uintptr_t run_vtable = 0;
  for (std::size_t word = 0; word < words; ++word) {
    for (std::uint64_t unmarked = unmarked_in(word); unmarked != 0; unmarked &= unmarked - 1) {
      const auto bit = static_cast<std::size_t>(std::countr_zero(unmarked));
      char* slot = page->payload + (word * 64 + bit) * slot_size;
      const std::uintptr_t first = *reinterpret_cast<const std::uintptr_t*>(slot);
      if (!holds_object(slot)) {
        destroy_run(run, run_length, slot_size);
        run_length = 0;
        continue;
      }
      if (run_length != 0 && first == run_vtable && slot == run + run_length * slot_size) {
        ++run_length;
        continue;
      }
      destroy_run(run, run_length, slot_size);
      run = slot;
      run_length = 1;
      run_vtable = first;
    }
  }
  destroy_run(run, run_length, slot_size);

  // 2. The free list (not for an empty page: it is reused whole), from the top down so it comes
  //    out in address order; then the marks are cleared.
  FreeList& free_list = internals_.heap.classes_[page->size_class].free;
  for (std::size_t word = words; word-- > 0;) {
    if (!empty) {
      std::uint64_t unmarked = unmarked_in(word);
      while (unmarked != 0) {
        const std::size_t bit = 63 - static_cast<std::size_t>(std::countl_zero(unmarked));
        unmarked &= ~(std::uint64_t{1} << bit);
        char* slot = page->payload + (word * 64 + bit) * slot_size;
        free_list.push(slot);
        poison_memory(slot + sizeof(void*), slot_size - sizeof(void*));
      }
    }
    page->mark_bits[word] = 0;
  }
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
