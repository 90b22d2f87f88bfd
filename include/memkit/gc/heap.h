// memkit/gc/heap.h — Heap and make<T>(): where GC objects are born, and the collector itself.
//
// A Heap owns every object made in it and collects the unreachable ones: when asked
// (heap.collect()), when allocation crosses the pacing threshold (growing_policy.h), and as often
// as stress mode says (stress.h). It belongs to the thread that created it (one heap per thread;
// debug builds throw memkit::WrongThread on use from another thread).
//
//   gc::Heap heap;
//   gc::Local<Person> ana = gc::make<Person>(heap, "Ana");
//   ana->friend_ = gc::make<Person>(heap, "Ben");
//   heap.collect();                       // both survive: `ana` is a root, Ben is her Member
//   ana->friend_ = nullptr;
//   heap.collect();                       // Ben is collected: his destructor runs now
//   std::cout << heap.stats();
//
// Roots are precise by default: Locals, Roots and objects under construction. A program that
// keeps raw T* in local variables across allocations can turn on the conservative scan of the
// thread's stack and registers (heap.set_conservative_stack_scan(true)), as Ruby and Oilpan do.
//
// make<T>(heap, args...) allocates a slot of T's size class — a free-list pop or a bump, one
// compare against the pacing budget, all inline — zeroes it, pushes it on the handle stack as
// "under construction" (so a collection triggered by T's constructor keeps it and the Members it
// has already filled), constructs T and returns the handle as a Local<T>. If T's constructor
// throws, the slot is given back and the exception propagates.
//
// The heap must outlive its handles; destroying it runs every remaining object's destructor.
#ifndef MEMKIT_GC_HEAP_H_
#define MEMKIT_GC_HEAP_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

#include "memkit/base/config.h"
#include "memkit/base/error.h"
#include "memkit/base/sanitizers.h"
#include "memkit/base/type_name.h"
#include "memkit/export.h"
#include "memkit/gc/free_list.h"
#include "memkit/gc/garbage_collected.h"
#include "memkit/gc/growing_policy.h"
#include "memkit/gc/page.h"
#include "memkit/gc/roots.h"
#include "memkit/gc/stats.h"
#include "memkit/gc/stress.h"
#include "memkit/gc/visitor.h"

namespace memkit::gc {

namespace detail {
struct HeapInternals;
class Marker;
class Sweeper;
class Verifier;
}  // namespace detail

class MEMKIT_EXPORT Heap {
 public:
  // Reads MEMKIT_GC_STRESS and MEMKIT_GC_VERIFY (GcUsageError if malformed).
  Heap();
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;
  // Runs pre-finalizers and destructors of every object still in the heap and returns all memory.
  // Aborts if Locals, Roots or WeakRoots still refer to the heap.
  ~Heap();

  // A full, stop-the-world collection. Throws GcVerificationError if the verifier is on and finds
  // the heap broken (nothing is freed then).
  void collect();

  GcStats stats() const;

  // Native memory that objects of this heap hold but no external_size() reports: counted in the
  // stats and towards the next collection. Throws GcUsageError if the total would go below 0.
  void adjust_external_bytes(std::int64_t delta);

  void set_stress(Stress stress);
  const Stress& stress() const noexcept;
  // The verifier (docs/gc.md, step 6) after every collection's marking. Also MEMKIT_GC_VERIFY=1.
  void set_verify(bool on) noexcept;
  bool verify() const noexcept;
  // Treats every word of the stack and registers that points into an object as a root.
  void set_conservative_stack_scan(bool on) noexcept;
  bool conservative_stack_scan() const noexcept;
  // Throws GcUsageError for an invalid policy.
  void set_growing_policy(GrowingPolicy policy);
  const GrowingPolicy& growing_policy() const noexcept;
  // True in debug builds and in stress mode: Members of dead objects are poisoned before
  // destructors run.
  bool poisons_dead_members() const noexcept;

  std::uint64_t collections() const noexcept;
  std::thread::id owner() const noexcept { return handles_.owner; }

 private:
  template <class T, class... Args>
  friend Local<T> make(Heap& heap, Args&&... args);
  friend struct detail::HeapInternals;
  friend class detail::Marker;
  friend class detail::Sweeper;
  friend class detail::Verifier;

  struct SizeClassState {
    detail::FreeList free;
    char* bump = nullptr;
    char* end = nullptr;
    detail::NormalPage* page = nullptr;
  };

  template <std::size_t kSize>
  void* allocate();
  void check_thread(std::string_view operation) const {
#if MEMKIT_DEBUG
    if (MEMKIT_UNLIKELY(std::this_thread::get_id() != handles_.owner)) {
      ::memkit::detail::throw_wrong_thread("memkit::gc::Heap", operation, handles_.owner);
    }
#else
    (void)operation;
#endif
  }
  MEMKIT_COLD void* allocate_small_slow(std::size_t size_class);
  void* allocate_large(std::size_t size);
  void abandon(void* memory, std::uint32_t handle) noexcept;
  [[noreturn]] void reject_layout(detail::GcObject* object, void* memory, std::uint32_t handle,
                                  std::string_view type);
  void collect_for(CollectionReason reason);
  void register_pre_finalizer(detail::GcObject* object);
  void note_external(std::size_t bytes) noexcept;

  // Bytes the fast path may still hand out before it must take the slow path (which collects when
  // the pacing or the stress mode says so). Negative during a collection: make() then aborts.
  std::int64_t budget_ = 0;
  std::array<SizeClassState, detail::kSizeClassCount> classes_{};
  detail::Handles handles_;
  std::unique_ptr<detail::HeapInternals> internals_;
};

template <std::size_t kSize>
void* Heap::allocate() {
  check_thread("make()");
  if constexpr (kSize <= detail::kMaxSmallSize) {
    constexpr std::size_t kClass = detail::size_class_index(kSize);
    constexpr std::size_t kSlot = detail::kSizeClasses[kClass];
    SizeClassState& state = classes_[kClass];
    void* memory = nullptr;
    budget_ -= static_cast<std::int64_t>(kSlot);
    if (MEMKIT_LIKELY(budget_ >= 0)) {
      memory = state.free.pop();
      if (memory == nullptr && static_cast<std::size_t>(state.end - state.bump) >= kSlot) {
        memory = state.bump;
        state.bump += kSlot;
      }
    }
    if (MEMKIT_UNLIKELY(memory == nullptr)) memory = allocate_small_slow(kClass);
    unpoison_memory(memory, kSlot);
    std::memset(memory, 0, kSlot);
    return memory;
  } else {
    return allocate_large(kSize);
  }
}

// make<T>(heap, args...) — a new T(args...) in `heap`, held by the Local it returns.
template <class T, class... Args>
Local<T> make(Heap& heap, Args&&... args) {
  static_assert(std::is_base_of_v<detail::GcObject, T>,
                "memkit::gc::make<T>: T must derive from memkit::gc::GarbageCollected<T>");
  static_assert(!std::is_final_v<T>,
                "memkit::gc::make<T>: T must not be final: the heap constructs a class derived "
                "from T (which is what keeps T from being created any other way)");
  static_assert(alignof(T) <= detail::kGranule,
                "memkit::gc::make<T>: GC objects are aligned to 16 bytes at most");
  using Object = detail::Allocated<T>;
  void* memory = heap.allocate<sizeof(Object)>();
  // The zeroed slot is "under construction" for as long as the tagged handle says so.
  const std::uint32_t handle =
      heap.handles_.locals.push(reinterpret_cast<std::uintptr_t>(memory) | detail::kFreeTag);
  Object* object;
  try {
    object = ::new (memory) Object(std::forward<Args>(args)...);
  } catch (...) {
    heap.abandon(memory, handle);
    throw;
  }
  if (MEMKIT_UNLIKELY(static_cast<void*>(static_cast<detail::GcObject*>(object)) != memory)) {
    heap.reject_layout(object, memory, handle, type_name<T>());
  }
  heap.handles_.locals.set(handle, reinterpret_cast<std::uintptr_t>(memory));
  if constexpr (detail::HasPreFinalizer<T>) heap.register_pre_finalizer(object);
  if constexpr (detail::HasExternalSize<T>) {
    heap.note_external(static_cast<std::size_t>(object->external_size()));
  }
  return Local<T>(object, &heap.handles_.locals, handle);
}

}  // namespace memkit::gc

#endif  // MEMKIT_GC_HEAP_H_
