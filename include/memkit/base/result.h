// memkit/base/result.h — Result<T, E>: a value or the error that prevented it.
//
// The non-throwing form of a fallible operation returns a Result (RefCell::try_borrow_mut returns
// Result<RefMut<T>, BorrowMutError>), the throwing form throws the same E. A small stand-in for
// C++23's std::expected, which g++ 12 does not have.
//
//   auto guard = cell.try_borrow_mut();
//   if (!guard) log(guard.error().what());
//   else (*guard)->score += 1;
#ifndef MEMKIT_BASE_RESULT_H_
#define MEMKIT_BASE_RESULT_H_

#include <type_traits>
#include <utility>
#include <variant>

namespace memkit {

template <class T, class E>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(E error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  // value() — the value; throws the error when there is none.
  T& value() & { return ok() ? std::get<0>(state_) : throw std::get<1>(state_); }
  const T& value() const& { return ok() ? std::get<0>(state_) : throw std::get<1>(state_); }
  T&& value() && { return ok() ? std::get<0>(std::move(state_)) : throw std::get<1>(state_); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // error() — the error; only meaningful when !ok() (checked with std::get).
  const E& error() const& { return std::get<1>(state_); }

 private:
  std::variant<T, E> state_;
};

}  // namespace memkit

#endif  // MEMKIT_BASE_RESULT_H_
