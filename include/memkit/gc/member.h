// memkit/gc/member.h — Member<T> and WeakMember<T>: references from one GC object to another.
//
// A Member is what a GC object holds instead of a T*: the collector follows it (when the holder's
// trace() visits it) and keeps the target alive. A WeakMember is followed by nobody: it does not
// keep its target alive and becomes null when the target dies.
//
//   struct Person : gc::GarbageCollected<Person> {
//     void trace(gc::Visitor& visitor) const {
//       visitor.trace(name, "name");          // field names are optional; the verifier's
//       visitor.trace(best_friend, "best_friend");   // messages use them
//     }
//     gc::Member<Text> name;                  // strong: the name lives as long as the person
//     gc::WeakMember<Person> best_friend;     // weak: null once the friend is collected
//   };
//
// Both are a plain pointer (8 bytes) and convert to T* implicitly, like cppgc's. Assignment is a
// plain store: the collector stops the program while it runs, so no write barrier is needed.
// `->` and `*` on a null Member throw memkit::NullPointer.
//
// Destructors must not follow Members: the target may already be destroyed. In debug builds and
// in stress mode the collector poisons every Member of a dead object before any destructor runs,
// and using a poisoned Member aborts with a message saying so (in release builds with stress mode
// the poisoned value is a non-canonical address, so the access faults).
#ifndef MEMKIT_GC_MEMBER_H_
#define MEMKIT_GC_MEMBER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "memkit/base/config.h"
#include "memkit/base/error.h"
#include "memkit/base/type_name.h"
#include "memkit/export.h"
#include "memkit/gc/garbage_collected.h"

namespace memkit::gc {

template <class T>
class Local;
template <class T>
class Root;

namespace detail {

// Non-canonical on x86-64 and AArch64: a dereference faults even without the debug check.
inline constexpr std::uintptr_t kPoisonedMember = 0xdead'beef'dead'0000;

[[noreturn]] MEMKIT_EXPORT void fatal_poisoned_member(std::string_view type,
                                                      std::string_view operation) noexcept;

// The untyped part, which the collector reads and writes.
class MemberBase {
 public:
  GcObject* raw_object() const noexcept { return object_; }
  void set_raw_object(GcObject* object) noexcept { object_ = object; }
  void poison() noexcept { object_ = reinterpret_cast<GcObject*>(kPoisonedMember); }
  bool poisoned() const noexcept {
    return reinterpret_cast<std::uintptr_t>(object_) == kPoisonedMember;
  }

 protected:
  MemberBase() = default;
  explicit MemberBase(GcObject* object) noexcept : object_(object) {}

  GcObject* object_ = nullptr;
};

template <class T>
GcObject* to_object(T* pointer) noexcept {
  return pointer == nullptr ? nullptr
                            : static_cast<GcObject*>(const_cast<std::remove_cv_t<T>*>(pointer));
}

enum class Strength { kStrong, kWeak };

template <class T, Strength kStrength>
class BasicMember : public MemberBase {
 public:
  BasicMember() = default;
  BasicMember(std::nullptr_t) noexcept {}  // NOLINT: implicit, like a pointer
  BasicMember(T* pointer) noexcept : MemberBase(to_object(pointer)) {}  // NOLINT
  template <class U>
  requires std::is_convertible_v<U*, T*> BasicMember(const BasicMember<U, kStrength>& other)
  noexcept  // NOLINT
      : MemberBase(to_object(static_cast<T*>(other.get()))) {}
  template <class U>
  requires std::is_convertible_v<U*, T*> BasicMember(const Local<U>& local)
  noexcept  // NOLINT
      : MemberBase(to_object(static_cast<T*>(local.get()))) {}
  template <class U>
  requires std::is_convertible_v<U*, T*> BasicMember(const Root<U>& root)
  noexcept  // NOLINT
      : MemberBase(to_object(static_cast<T*>(root.get()))) {}

  BasicMember(const BasicMember&) = default;
  BasicMember& operator=(const BasicMember&) = default;
  BasicMember& operator=(T* pointer) noexcept {
    object_ = to_object(pointer);
    return *this;
  }
  BasicMember& operator=(std::nullptr_t) noexcept {
    object_ = nullptr;
    return *this;
  }
  template <class U>
  requires std::is_convertible_v<U*, T*> BasicMember& operator=(
      const BasicMember<U, kStrength>& other) noexcept {
    object_ = to_object(static_cast<T*>(other.get()));
    return *this;
  }
  template <class U>
  requires std::is_convertible_v<U*, T*> BasicMember& operator=(const Local<U>& local) noexcept {
    object_ = to_object(static_cast<T*>(local.get()));
    return *this;
  }
  template <class U>
  requires std::is_convertible_v<U*, T*> BasicMember& operator=(const Root<U>& root) noexcept {
    object_ = to_object(static_cast<T*>(root.get()));
    return *this;
  }

  // The target, or null. Aborts on a poisoned Member in debug builds.
  T* get() const noexcept {
#if MEMKIT_DEBUG
    if (MEMKIT_UNLIKELY(poisoned())) fatal_poisoned_member(name(), "get()");
#endif
    return object_ == nullptr ? nullptr : static_cast<T*>(object_);
  }
  operator T*() const noexcept { return get(); }  // NOLINT: implicit, like cppgc's Member
  T* operator->() const { return checked("operator->"); }
  T& operator*() const { return *checked("operator*"); }

  static constexpr std::string_view name() {
    return kStrength == Strength::kStrong
               ? ::memkit::detail::JoinedName<kMemberPrefix, ::memkit::detail::TypeName<T>::value,
                                              ::memkit::detail::kCloseAngle>::value
               : ::memkit::detail::JoinedName<kWeakMemberPrefix,
                                              ::memkit::detail::TypeName<T>::value,
                                              ::memkit::detail::kCloseAngle>::value;
  }

 private:
  static constexpr std::string_view kMemberPrefix = "memkit::gc::Member<";
  static constexpr std::string_view kWeakMemberPrefix = "memkit::gc::WeakMember<";

  T* checked(std::string_view operation) const {
#if MEMKIT_DEBUG
    if (MEMKIT_UNLIKELY(poisoned())) fatal_poisoned_member(name(), operation);
#endif
    if (MEMKIT_UNLIKELY(object_ == nullptr))
      ::memkit::detail::throw_null_pointer(name(), operation);
    return static_cast<T*>(object_);
  }
};

}  // namespace detail

// Member<T> — a strong reference held by a GC object; trace it.
template <class T>
using Member = detail::BasicMember<T, detail::Strength::kStrong>;

// WeakMember<T> — a weak reference held by a GC object; trace it; null once the target dies.
template <class T>
using WeakMember = detail::BasicMember<T, detail::Strength::kWeak>;

}  // namespace memkit::gc

#endif  // MEMKIT_GC_MEMBER_H_
