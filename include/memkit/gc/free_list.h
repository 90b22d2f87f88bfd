// memkit/gc/free_list.h — the free slots of one size class, linked through the slots themselves.
//
// A free slot's first word holds the next free slot with the low bit set. A live object's first
// word is its vtable pointer (even), so one word tells the sweeper, the stats walk and the
// conservative scan whether a slot is free — no separate allocation bitmap, and popping stays two
// loads and a store.
#ifndef MEMKIT_GC_FREE_LIST_H_
#define MEMKIT_GC_FREE_LIST_H_

#include <cstdint>

#include "memkit/base/config.h"
#include "memkit/gc/page.h"

namespace memkit::gc::detail {

class FreeList {
 public:
  // The next free slot, or null.
  void* pop() noexcept {
    void* slot = head_;
    if (MEMKIT_LIKELY(slot != nullptr)) {
      head_ = reinterpret_cast<void*>(*static_cast<std::uintptr_t*>(slot) & ~kFreeTag);
    }
    return slot;
  }

  // Puts `slot` in front; the slot's first word becomes the tagged link.
  void push(void* slot) noexcept {
    *static_cast<std::uintptr_t*>(slot) = reinterpret_cast<std::uintptr_t>(head_) | kFreeTag;
    head_ = slot;
  }

  bool empty() const noexcept { return head_ == nullptr; }
  void clear() noexcept { head_ = nullptr; }

 private:
  void* head_ = nullptr;
};

}  // namespace memkit::gc::detail

#endif  // MEMKIT_GC_FREE_LIST_H_
