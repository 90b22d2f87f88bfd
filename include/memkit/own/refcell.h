// memkit/own/refcell.h — RefCell<T>: borrow checking at run time.
//
// C++ lets any number of references to a value exist while one of them writes to it; most
// iterator-invalidation and aliasing bugs come from that. RefCell<T> enforces Rust's rule for
// the value it holds — many readers or one writer, never both — and turns a violation into an
// exception that says who conflicted with whom, instead of a corrupted object.
//
//   RefCell<Game> game{Game{}};
//   {
//     Ref<Game> view = game.borrow();          // a reader: as many as you like
//     RefMut<Game> edit = game.borrow_mut();   // throws memkit::BorrowMutError:
//   }
//     memkit::RefCell<Game>: borrow_mut() at game.cpp:5 in main() failed: already borrowed
//     (1 shared borrow outstanding)
//       the conflicting borrow was taken at game.cpp:4 in main()
//
// The second line — where the conflicting borrow was taken — is recorded in debug builds
// (MEMKIT_DEBUG), as Rust's debug_refcell does. A borrow lasts as long as its guard (Ref or
// RefMut); end it early by ending the guard's scope or with drop(std::move(guard)).
//
// Each operation that can fail has a throwing form and a try_ form returning a Result:
//
//   if (auto edit = game.try_borrow_mut()) (*edit)->score += 1;
//   else std::puts(edit.error().what());
//
// RefCell is interior mutability: borrow_mut() works on a `const RefCell`, which is what lets a
// value shared read-only through Rc<RefCell<T>> be changed by any of its owners. Whole-value
// operations — replace, replace_with, take, swap — check the same rule, and a guard can be
// narrowed to part of the value with Ref::map / RefMut::map.
//
// Cost: a borrow and its release are an add and a subtract on one counter next to the value,
// plus a compare and a never-taken branch; the failure path is out of line. RefCell is not
// thread-safe (guard shared data across threads with Mutex).
#ifndef MEMKIT_OWN_REFCELL_H_
#define MEMKIT_OWN_REFCELL_H_

#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>

#include "memkit/base/config.h"
#include "memkit/base/error.h"
#include "memkit/base/result.h"
#include "memkit/base/source_location.h"
#include "memkit/base/type_name.h"

namespace memkit {

template <class T>
class RefCell;

namespace detail {

// The borrow counter of a RefCell: n > 0 shared borrows, -1 one mutable borrow, 0 none.
using BorrowCount = std::intptr_t;

template <class Guard>
[[noreturn]] MEMKIT_COLD void throw_guard_moved(std::string_view operation) {
  throw_use_after_move(type_name<Guard>(), operation);
}

}  // namespace detail

// Ref<T> — a shared borrow of a RefCell's value (or of part of it, after Ref::map). Copying a
// Ref adds a reader; the borrow ends when the last copy is gone.
template <class T>
class Ref {
 public:
  Ref(const Ref& other) : value_(other.checked("copy")), borrows_(other.borrows_) { ++*borrows_; }
  Ref& operator=(const Ref& other) {
    Ref(other).swap(*this);
    return *this;
  }
  Ref(Ref&& other) noexcept
      : value_(std::exchange(other.value_, nullptr)), borrows_(other.borrows_) {}
  Ref& operator=(Ref&& other) noexcept {
    Ref(std::move(other)).swap(*this);
    return *this;
  }
  ~Ref() {
    if (value_ != nullptr) --*borrows_;
  }

  const T& operator*() const { return *checked("operator*"); }
  const T* operator->() const { return checked("operator->"); }
  const T& get() const { return *checked("get()"); }

  // Ref<T>::map(std::move(ref), f) — a borrow of the part of the value that f returns a
  // reference to; the cell stays borrowed until the new Ref is gone.
  template <class F>
  [[nodiscard]] static auto map(Ref&& ref, F&& f) {
    using U = std::remove_cvref_t<std::invoke_result_t<F, const T&>>;
    static_assert(std::is_lvalue_reference_v<std::invoke_result_t<F, const T&>>,
                  "Ref::map's function must return a reference into the borrowed value");
    const U& part = std::invoke(std::forward<F>(f), *ref.checked("map()"));
    ref.value_ = nullptr;  // the borrow moves to the new guard
    return Ref<U>(&part, ref.borrows_);
  }

  void swap(Ref& other) noexcept {
    std::swap(value_, other.value_);
    std::swap(borrows_, other.borrows_);
  }

 private:
  template <class>
  friend class Ref;
  template <class>
  friend class RefCell;

  Ref(const T* value, detail::BorrowCount* borrows) noexcept : value_(value), borrows_(borrows) {}

  const T* checked(std::string_view operation) const {
    if (MEMKIT_UNLIKELY(value_ == nullptr)) detail::throw_guard_moved<Ref>(operation);
    return value_;
  }

  const T* value_;  // null once moved from
  detail::BorrowCount* borrows_;
};

// RefMut<T> — the one mutable borrow of a RefCell's value. Move-only; the borrow ends when it
// is gone.
template <class T>
class RefMut {
 public:
  RefMut(const RefMut&) = delete;
  RefMut& operator=(const RefMut&) = delete;
  RefMut(RefMut&& other) noexcept
      : value_(std::exchange(other.value_, nullptr)), borrows_(other.borrows_) {}
  RefMut& operator=(RefMut&& other) noexcept {
    RefMut(std::move(other)).swap(*this);
    return *this;
  }
  ~RefMut() {
    if (value_ != nullptr) *borrows_ = 0;
  }

  T& operator*() const { return *checked("operator*"); }
  T* operator->() const { return checked("operator->"); }
  T& get() const { return *checked("get()"); }

  // RefMut<T>::map(std::move(guard), f) — the mutable borrow narrowed to the part f returns.
  template <class F>
  [[nodiscard]] static auto map(RefMut&& guard, F&& f) {
    using Result = std::invoke_result_t<F, T&>;
    static_assert(
        std::is_lvalue_reference_v<Result> && !std::is_const_v<std::remove_reference_t<Result>>,
        "RefMut::map's function must return a mutable reference into the value");
    auto& part = std::invoke(std::forward<F>(f), *guard.checked("map()"));
    guard.value_ = nullptr;
    return RefMut<std::remove_reference_t<Result>>(&part, guard.borrows_);
  }

  void swap(RefMut& other) noexcept {
    std::swap(value_, other.value_);
    std::swap(borrows_, other.borrows_);
  }

 private:
  template <class>
  friend class RefMut;
  template <class>
  friend class RefCell;

  RefMut(T* value, detail::BorrowCount* borrows) noexcept : value_(value), borrows_(borrows) {}

  T* checked(std::string_view operation) const {
    if (MEMKIT_UNLIKELY(value_ == nullptr)) detail::throw_guard_moved<RefMut>(operation);
    return value_;
  }

  T* value_;  // null once moved from
  detail::BorrowCount* borrows_;
};

template <class T>
class RefCell {
  static_assert(std::is_object_v<T>, "RefCell<T> holds a value: T must not be a reference");

  using Here = SourceLocation;

 public:
  RefCell() requires std::is_default_constructible_v<T>
  = default;
  explicit RefCell(T value) : value_(std::move(value)) {}
  template <class... Args>
  explicit RefCell(std::in_place_t, Args&&... args) : value_(std::forward<Args>(args)...) {}

  // Copying reads the value, so it needs a shared borrow; moving takes the value, so it needs
  // the cell to be unborrowed.
  RefCell(const RefCell& other) requires std::is_copy_constructible_v<T> : value_(*other.borrow()) {
  }
  RefCell(RefCell&& other) : value_(std::move(*other.borrow_mut())) {}
  RefCell& operator=(const RefCell& other) requires std::is_copy_assignable_v<T> {
    if (this != &other) *borrow_mut() = *other.borrow();
    return *this;
  }
  RefCell& operator=(RefCell&& other) {
    if (this != &other) *borrow_mut() = std::move(*other.borrow_mut());
    return *this;
  }
  ~RefCell() = default;

  // borrow() — a shared borrow. Throws BorrowError while the value is mutably borrowed.
  [[nodiscard]] Ref<T> borrow(Here here = Here::current()) const {
    if (MEMKIT_UNLIKELY(borrows_ < 0)) detail::throw_borrow_error(conflict("borrow()", here));
    return take_shared(here);
  }

  // borrow_mut() — the mutable borrow. Throws BorrowMutError while the value is borrowed at all.
  [[nodiscard]] RefMut<T> borrow_mut(Here here = Here::current()) const {
    if (MEMKIT_UNLIKELY(borrows_ != 0)) {
      detail::throw_borrow_mut_error(conflict("borrow_mut()", here));
    }
    return take_exclusive(here);
  }

  [[nodiscard]] Result<Ref<T>, BorrowError> try_borrow(Here here = Here::current()) const {
    if (borrows_ < 0) return BorrowError(conflict("try_borrow()", here));
    return take_shared(here);
  }

  [[nodiscard]] Result<RefMut<T>, BorrowMutError> try_borrow_mut(
      Here here = Here::current()) const {
    if (borrows_ != 0) return BorrowMutError(conflict("try_borrow_mut()", here));
    return take_exclusive(here);
  }

  // replace(v) — puts v in and returns the old value. Needs the cell unborrowed.
  T replace(T value, Here here = Here::current()) const {
    return std::exchange(*exclusive("replace()", here), std::move(value));
  }

  // replace_with(f) — replaces the value with f(current value), returns the old value.
  template <class F>
  T replace_with(F&& f, Here here = Here::current()) const {
    RefMut<T> guard = exclusive("replace_with()", here);
    T next = std::invoke(std::forward<F>(f), *guard);
    return std::exchange(*guard, std::move(next));
  }

  // take() — the value, leaving T{} in its place.
  T take(Here here = Here::current()) const requires std::is_default_constructible_v<T> {
    return std::exchange(*exclusive("take()", here), T{});
  }

  // swap(other) — exchanges the values of two cells; both must be unborrowed.
  void swap(const RefCell& other, Here here = Here::current()) const {
    if (this == &other) return;
    RefMut<T> mine = exclusive("swap()", here);
    RefMut<T> theirs = other.exclusive("swap()", here);
    using std::swap;
    swap(*mine, *theirs);
  }

  // into_inner() — the value, moving it out of the cell. Needs the cell unborrowed.
  T into_inner(Here here = Here::current()) && {
    return std::move(*exclusive("into_inner()", here));
  }

  bool is_borrowed() const noexcept { return borrows_ > 0; }
  bool is_borrowed_mut() const noexcept { return borrows_ < 0; }

  static constexpr std::string_view name() { return type_name<RefCell>(); }

 private:
  Ref<T> take_shared([[maybe_unused]] const Here& here) const noexcept {
#if MEMKIT_DEBUG
    if (borrows_ == 0) held_at_ = here;
#endif
    ++borrows_;
    return Ref<T>(&value_, &borrows_);
  }

  RefMut<T> take_exclusive([[maybe_unused]] const Here& here) const noexcept {
#if MEMKIT_DEBUG
    held_at_ = here;
#endif
    borrows_ = -1;
    return RefMut<T>(&value_, &borrows_);
  }

  RefMut<T> exclusive(std::string_view operation, const Here& here) const {
    if (MEMKIT_UNLIKELY(borrows_ != 0)) {
      detail::throw_borrow_mut_error(conflict(operation, here));
    }
    return take_exclusive(here);
  }

  BorrowConflictInfo conflict(std::string_view operation, const Here& here) const {
#if MEMKIT_DEBUG
    const Here* held_at = &held_at_;
#else
    const Here* held_at = nullptr;
#endif
    return {name(), operation, borrows_, here, held_at};
  }

  mutable detail::BorrowCount borrows_ = 0;
#if MEMKIT_DEBUG
  // Where the borrow that made the counter leave 0 was taken. Like Rust's debug_refcell, it stays
  // the same while later borrows keep the cell borrowed after that first one is gone.
  mutable Here held_at_;
#endif
  mutable T value_{};
};

}  // namespace memkit

#endif  // MEMKIT_OWN_REFCELL_H_
