// memkit/gc/garbage_collected.h — GarbageCollected<T>: the base of every object the GC manages.
//
// A type becomes collectable by deriving from GarbageCollected<T> and saying what it points at:
//
//   struct Node : gc::GarbageCollected<Node> {
//     void trace(gc::Visitor& visitor) const { visitor.trace(next); }
//     gc::Member<Node> next;
//   };
//
// Only the heap creates such objects (gc::make<Node>(heap)). The base makes that a compile-time
// rule rather than a convention: GarbageCollected<T> declares the collector's hooks (trace,
// destroy, type) as pure virtual functions, so T itself is abstract. `Node n;`, `new Node` and
// `std::vector<Node>` do not compile; the heap constructs a detail::Allocated<Node>, a final class
// that derives from Node and implements the hooks by calling Node's trace() and destructor.
// `delete p` does not compile either: operator delete is protected (not deleted: a virtual
// destructor needs one to exist).
//
// The vtable pointer this costs is the object's only header: 8 bytes, the same as cppgc's object
// header. It carries the type (for statistics and the verifier's messages), trace and the
// destructor; mark bits live in a bitmap in the page header, the size in the page's size class.
//
// Requirements on T (checked by make at compile time, except the first):
//   * GarbageCollected<T> is T's first polymorphic base, so the object starts at its address
//     (checked at run time; memkit::GcUsageError otherwise);
//   * T is not final (the heap derives from it) and alignof(T) <= 16;
//   * T's constructors and destructor are public or protected.
// Optional members T may declare, found by name:
//   void trace(gc::Visitor&) const      every Member, WeakMember and ephemeron T holds
//   void pre_finalize()                 runs once before T dies, while all dead objects are intact
//   std::size_t external_size() const   native bytes T owns (counted in stats and pacing)
#ifndef MEMKIT_GC_GARBAGE_COLLECTED_H_
#define MEMKIT_GC_GARBAGE_COLLECTED_H_

#include <cstddef>
#include <cstdlib>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>

#include "memkit/base/type_name.h"

namespace memkit::gc {

class Visitor;

namespace detail {

// What the collector knows about a type, one constant per type.
struct TypeInfo {
  std::string_view name;
  bool has_pre_finalizer;
  bool has_external_size;
  // Destroys `count` objects of this type, `stride` bytes apart from `first`: the sweeper's way
  // to run the destructors of a run of dead objects with one indirect call, not one per object.
  void (*destroy_run)(void* first, std::size_t count, std::size_t stride) noexcept;
};

template <class T>
void destroy_run(void* first, std::size_t count, std::size_t stride) noexcept;

template <class T>
concept HasTrace = requires(const T& object, Visitor& visitor) {
  object.trace(visitor);
};
template <class T>
concept HasPreFinalizer = requires(T& object) {
  object.pre_finalize();
};
template <class T>
concept HasExternalSize = requires(const T& object) {
  { object.external_size() } -> std::convertible_to<std::size_t>;
};

template <class T>
inline constexpr TypeInfo kTypeInfo{type_name<T>(), HasPreFinalizer<T>, HasExternalSize<T>,
                                    &destroy_run<T>};

// The non-template root of every collectable object: the hooks the collector calls.
class GcObject {
 public:
  GcObject(const GcObject&) = delete;
  GcObject& operator=(const GcObject&) = delete;
  virtual ~GcObject() = default;

  // Calls T::trace (nothing for a T without one).
  virtual void gc_trace(Visitor& visitor) const = 0;
  // The type's constant description.
  virtual const TypeInfo& gc_type() const noexcept = 0;
  // Runs the destructor and returns the type: one virtual call per dead object in the sweep.
  virtual const TypeInfo& gc_destroy() noexcept = 0;
  virtual void gc_pre_finalize() = 0;
  virtual std::size_t gc_external_size() const noexcept = 0;

  // Only the heap allocates: `new T` does not compile (and T is abstract anyway).
  static void* operator new(std::size_t) = delete;
  static void* operator new[](std::size_t) = delete;
  static void operator delete[](void*) = delete;

 protected:
  GcObject() = default;
  // Protected, so `delete p` does not compile; it exists because a virtual destructor needs it.
  static void operator delete(void*) noexcept { std::abort(); }
};

}  // namespace detail

// GarbageCollected<T> — derive T from it (first) to make T collectable.
template <class T>
class GarbageCollected : public detail::GcObject {
 protected:
  GarbageCollected() = default;
};

namespace detail {

// The concrete class the heap constructs for a T: it is what makes T's hooks callable.
template <class T>
class Allocated final : public T {
 public:
  template <class... Args>
  explicit Allocated(Args&&... args) : T(std::forward<Args>(args)...) {}

  // Defined in visitor.h, which knows the Visitor.
  void gc_trace(Visitor& visitor) const override;
  const TypeInfo& gc_type() const noexcept override { return kTypeInfo<T>; }
  const TypeInfo& gc_destroy() noexcept override {
    const TypeInfo& type = kTypeInfo<T>;
    this->~Allocated();
    return type;
  }
  void gc_pre_finalize() override {
    if constexpr (HasPreFinalizer<T>) T::pre_finalize();
  }
  std::size_t gc_external_size() const noexcept override {
    if constexpr (HasExternalSize<T>) {
      return static_cast<std::size_t>(T::external_size());
    } else {
      return 0;
    }
  }
};

template <class T>
void destroy_run(void* first, std::size_t count, std::size_t stride) noexcept {
  char* slot = static_cast<char*>(first);
  for (std::size_t i = 0; i < count; ++i, slot += stride) {
    std::launder(reinterpret_cast<Allocated<T>*>(slot))->~Allocated();
  }
}

}  // namespace detail
}  // namespace memkit::gc

#endif  // MEMKIT_GC_GARBAGE_COLLECTED_H_
