// memkit/own/cell.h — Cell<T>: a mutable plain value inside a shared one.
//
// Cell<T> is the cheapest interior mutability: it never hands out a reference to its value, only
// copies in and out, so no borrow can conflict and nothing needs counting. That works for values
// that are copied by copying bytes — counters, flags, small structs of numbers — and Cell refuses
// anything else at compile time (use RefCell<T> for strings, containers and the like).
//
//   struct Counter { Cell<int> hits; };
//   auto counter = Rc<Counter>::make();      // shared, so read-only ...
//   counter->hits.set(counter->hits.get() + 1);   // ... but a Cell can still change
//   counter->hits.update([](int n) { return n * 2; });
//
// Not thread-safe: use std::atomic<T> (or Mutex<T>) across threads.
#ifndef MEMKIT_OWN_CELL_H_
#define MEMKIT_OWN_CELL_H_

#include <functional>
#include <type_traits>
#include <utility>

namespace memkit {

template <class T>
class Cell {
  static_assert(std::is_trivially_copyable_v<T>,
                "Cell<T> needs a trivially copyable T (it copies the value in and out and never "
                "lends a reference); use RefCell<T> for this type");

 public:
  constexpr Cell() requires std::is_default_constructible_v<T>
  = default;
  constexpr explicit Cell(T value) noexcept : value_(value) {}
  Cell(const Cell& other) noexcept : value_(other.get()) {}
  Cell& operator=(const Cell& other) noexcept {
    set(other.get());
    return *this;
  }

  T get() const noexcept { return value_; }
  void set(T value) const noexcept { value_ = value; }
  // replace(v) — stores v, returns the old value.
  T replace(T value) const noexcept { return std::exchange(value_, value); }
  // take() — the value, leaving T{} behind.
  T take() const noexcept requires std::is_default_constructible_v<T> { return replace(T{}); }
  // update(f) — stores f(value) and returns it.
  template <class F>
  T update(F&& f) const {
    value_ = std::invoke(std::forward<F>(f), value_);
    return value_;
  }
  void swap(const Cell& other) const noexcept { value_ = other.replace(value_); }

 private:
  mutable T value_{};
};

}  // namespace memkit

#endif  // MEMKIT_OWN_CELL_H_
