// Sweeping: every slot below a page's top is live (marked), dead (unmarked, holds an object) or
// free (first word tagged, or 0 for a slot whose constructor threw).
#include "sweeper.h"

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

std::size_t mark_words(const NormalPage* page) {
  const std::size_t used = static_cast<std::size_t>(page->top - page->payload) / page->slot_size;
  return (used + 63) / 64;
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

void Sweeper::destroy(GcObject* object, std::uint64_t size) noexcept {
  const TypeInfo& type = object->gc_destroy();
  if (&type != last_type_) {
    last_type_ = &type;
    last_totals_ = &internals_.types[&type];
  }
  ++last_totals_->frees;
  last_totals_->freed_bytes += size;
}

void Sweeper::sweep_page(NormalPage* page, Result& result, bool& empty) {
  const std::size_t words = mark_words(page);
  std::uint64_t live = 0;
  for (std::size_t i = 0; i < words; ++i) live += std::popcount(page->mark_bits[i]);
  const std::uint32_t slot_size = page->slot_size;
  const std::size_t used = static_cast<std::size_t>(page->top - page->payload) / slot_size;
  FreeList& free_list = internals_.heap.classes_[page->size_class].free;
  empty = live == 0;
  // From the top down, so the free list comes out in address order.
  for (std::size_t index = used; index-- > 0;) {
    char* slot = page->payload + index * slot_size;
    if ((page->mark_bits[index / 64] >> (index % 64)) & 1U) continue;
    if (holds_object(slot)) {
      destroy(reinterpret_cast<GcObject*>(slot), slot_size);
      ++result.freed_objects;
      result.freed_bytes += slot_size;
    }
    if (!empty) {
      free_list.push(slot);
      poison_memory(slot + sizeof(void*), slot_size - sizeof(void*));
    }
  }
  std::memset(page->mark_bits.data(), 0, words * sizeof(std::uint64_t));
  result.live_objects += live;
  result.live_bytes += live * slot_size;
  result.live_page_bytes += live * slot_size;
}

Sweeper::Result Sweeper::sweep(bool poison_members) {
  if (poison_members) poison_dead_members();
  Result result;
  Heap& heap = internals_.heap;
  for (Heap::SizeClassState& state : heap.classes_) state.free.clear();

  std::vector<NormalPage*>& pages = internals_.pages;
  std::size_t kept = 0;
  for (NormalPage* page : pages) {
    bool empty = false;
    sweep_page(page, result, empty);
    if (!empty) {
      pages[kept++] = page;
      continue;
    }
    Heap::SizeClassState& state = heap.classes_[page->size_class];
    if (state.page == page) state = Heap::SizeClassState{};
    internals_.page_set.erase(reinterpret_cast<std::uintptr_t>(page));
    page->top = page->payload;  // nothing lives here any more
    poison_memory(page->payload, kPageSize - kPayloadOffset);
    internals_.spare_pages.push_back(page);
  }
  pages.resize(kept);

  std::vector<LargeObject*>& large_objects = internals_.large_objects;
  kept = 0;
  for (LargeObject* large : large_objects) {
    if (large->marked) {
      large->marked = false;
      large_objects[kept++] = large;
      result.live_objects += 1;
      result.live_bytes += large->object_size;
      continue;
    }
    GcObject* object = large_object_start(large);
    if (holds_object(object)) {
      destroy(object, large->object_size);
      ++result.freed_objects;
      result.freed_bytes += large->object_size;
    }
    internals_.large_by_address.erase(reinterpret_cast<std::uintptr_t>(large));
    unmap_large_object(large);
  }
  large_objects.resize(kept);
  return result;
}

void Sweeper::clear_marks() noexcept {
  for (NormalPage* page : internals_.pages) {
    std::memset(page->mark_bits.data(), 0, mark_words(page) * sizeof(std::uint64_t));
  }
  for (LargeObject* large : internals_.large_objects) large->marked = false;
}

}  // namespace memkit::gc::detail
