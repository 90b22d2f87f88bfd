// Marking (docs/gc.md, steps 1-4). The work list is a std::vector used as a stack: the depth of
// the object graph costs heap memory for pending objects, never native stack.
#include "marker.h"

#include <pthread.h>

#include <csetjmp>
#include <cstdio>
#include <string>

#include "memkit/base/error.h"
#include "memkit/base/sanitizers.h"

namespace memkit::gc::detail {
namespace {

std::uintptr_t current_stack_base() {
  pthread_attr_t attributes;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0) {
    ::memkit::detail::fatal("memkit::gc::Heap: pthread_getattr_np failed: cannot find the stack");
  }
  void* lowest = nullptr;
  std::size_t size = 0;
  pthread_attr_getstack(&attributes, &lowest, &size);
  pthread_attr_destroy(&attributes);
  return reinterpret_cast<std::uintptr_t>(lowest) + size;
}

}  // namespace

Marker::Marker(HeapInternals& internals) : Visitor(&worklist_), internals_(internals) {
  worklist_.reserve(1024);
}

void Marker::mark_roots() {
  const std::span<const std::uintptr_t> locals = internals_.heap.handles_.locals.slots();
  // Objects under construction first: marked but never traced (their type is not known yet).
  for (std::uintptr_t entry : locals) {
    if ((entry & kFreeTag) != 0) set_mark(reinterpret_cast<GcObject*>(entry & ~kFreeTag));
  }
  for (std::uintptr_t entry : locals) {
    if (entry == 0) continue;
    if ((entry & kFreeTag) != 0) {
      auto* slot = reinterpret_cast<const GcObject*>(entry & ~kFreeTag);
      const char* begin = reinterpret_cast<const char*>(slot);
      scan_words(begin, begin + allocated_size(slot));
    } else {
      mark(reinterpret_cast<GcObject*>(entry));
    }
  }
  for (GcObject* object : internals_.heap.handles_.roots.slots()) {
    if (object != nullptr) mark(object);
  }
}

void Marker::scan_words(const void* begin, const void* end) {
  auto* word = static_cast<const std::uintptr_t*>(begin);
  auto* last = static_cast<const std::uintptr_t*>(end);
  for (; word < last; ++word) {
    if (GcObject* object = internals_.find_object(*word)) mark(object);
  }
}

// The stack is read word by word, including bytes ASan has poisoned (redzones): not sanitized.
__attribute__((noinline, no_sanitize("address"))) void Marker::scan_stack_from_here() {
  const auto* word = static_cast<const std::uintptr_t*>(__builtin_frame_address(0));
  const auto* base = reinterpret_cast<const std::uintptr_t*>(internals_.stack_base);
#if MEMKIT_ASAN
  void* fake_stack = __asan_get_current_fake_stack();
#endif
  for (; word < base; ++word) {
    const std::uintptr_t value = *word;
    if (GcObject* object = internals_.find_object(value)) mark(object);
#if MEMKIT_ASAN
    // With detect_stack_use_after_return, locals live in ASan's fake frames, which the real stack
    // points to: scan each frame it points into.
    void* frame_begin = nullptr;
    void* frame_end = nullptr;
    if (fake_stack != nullptr &&
        __asan_addr_is_in_fake_stack(fake_stack, reinterpret_cast<void*>(value), &frame_begin,
                                     &frame_end) != nullptr) {
      for (auto* inner = static_cast<const std::uintptr_t*>(frame_begin);
           inner < static_cast<const std::uintptr_t*>(frame_end); ++inner) {
        if (GcObject* object = internals_.find_object(*inner)) mark(object);
      }
    }
#endif
  }
}

__attribute__((noinline)) void Marker::scan_stack() {
  if (internals_.stack_base == 0) internals_.stack_base = current_stack_base();
  // Callee-saved registers go to this frame; setjmp spills the rest into `registers`.
  __builtin_unwind_init();
  std::jmp_buf registers;
  if (setjmp(registers) == 0) scan_stack_from_here();
  asm volatile("" : : "r"(&registers) : "memory");
}

void Marker::drain() {
  // Tracing an object first reads its vtable pointer: a cache miss for most objects of a big
  // heap. A small ring of popped objects, each prefetched when it enters, keeps several misses
  // in flight instead of one at a time.
  constexpr std::size_t kAhead = 8;
  GcObject* ring[kAhead];
  std::size_t head = 0;
  std::size_t count = 0;
  for (;;) {
    while (count < kAhead && !worklist_.empty()) {
      GcObject* object = worklist_.back();
      worklist_.pop_back();
      __builtin_prefetch(object);
      ring[(head + count) % kAhead] = object;
      ++count;
    }
    if (count == 0) break;
    GcObject* object = ring[head];
    head = (head + 1) % kAhead;
    --count;
    holder_ = object;
    object->gc_trace(*this);
  }
  holder_ = nullptr;
}

void Marker::process_ephemerons() {
  drain();
  bool progress = true;
  while (progress) {
    progress = false;
    for (std::size_t i = 0; i < ephemerons_.size();) {
      if (is_marked(ephemerons_[i].key)) {
        if (GcObject* value = ephemerons_[i].value->raw_object()) mark(value);
        ephemerons_[i] = ephemerons_.back();
        ephemerons_.pop_back();
        progress = true;
      } else {
        ++i;
      }
    }
    drain();  // may add ephemerons whose keys are marked already or later
  }
}

void Marker::process_weak() {
  for (MemberBase* member : weak_members_) {
    if (!is_marked(member->raw_object())) member->set_raw_object(nullptr);
  }
  for (GcObject*& object : internals_.heap.handles_.weak_roots.slots()) {
    if (object != nullptr && !is_marked(object)) object = nullptr;
  }
  const LivenessBroker broker;
  for (const auto& [callback, data] : weak_callbacks_) callback(broker, data);
}

void Marker::visit_strong(const MemberBase& member, const char*) {
  if (GcObject* object = member.raw_object()) mark(object);
}

void Marker::visit_weak(const MemberBase& member, const char*) {
  weak_members_.push_back(const_cast<MemberBase*>(&member));
}

void Marker::visit_ephemeron(GcObject* key, const MemberBase& value) {
  if (key == nullptr) return;
  if (is_marked(key)) {
    if (GcObject* object = value.raw_object()) mark(object);
  } else {
    ephemerons_.push_back({key, &value});
  }
}

void Marker::visit_weak_callback(WeakCallback callback, const void* data) {
  weak_callbacks_.emplace_back(callback, data);
}

void Marker::check_target(const MemberBase& member, const char* field) {
  std::string message = "memkit::gc::Heap: marking found a Member ";
  if (holder_ != nullptr) {
    const auto offset =
        reinterpret_cast<const char*>(&member) - reinterpret_cast<const char*>(holder_);
    message.append("(");
    if (field != nullptr) {
      message.append("field \"").append(field).append("\"");
    } else {
      message.append("at offset ").append(std::to_string(offset));
    }
    message.append(") of a ").append(holder_->gc_type().name);
  } else {
    message.append("of a root");
  }
  message.append(
      " that points to memory where no object lives (freed by an earlier collection?): a "
      "Member that trace() does not visit lets its target be freed while still referenced");
  ::memkit::detail::fatal(message);
}

}  // namespace memkit::gc::detail
