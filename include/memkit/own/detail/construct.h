// memkit/own/detail/construct.h — how Box::make and Rc::make build their value.
//
// T(args...) when T has such a constructor, otherwise T{args...}, so an aggregate such as
// `struct Point { int x, y; }` can be made with make(1, 2) on compilers that lack C++20's
// parenthesized aggregate initialization (clang 14).
#ifndef MEMKIT_OWN_DETAIL_CONSTRUCT_H_
#define MEMKIT_OWN_DETAIL_CONSTRUCT_H_

#include <new>
#include <type_traits>
#include <utility>

// make(1) for `struct Node { int value; std::vector<Node> children; }` initializes the fields it
// is given and value-initializes the rest, as C++20's T(1) would: that is the point, not a
// forgotten field, so -Wextra's missing-field-initializers is off in this header.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif

namespace memkit::detail {

// construct_in(storage, args...) — builds a T in raw storage of the right size and alignment.
template <class T, class... Args>
T* construct_in(void* storage, Args&&... args) {
  if constexpr (std::is_constructible_v<T, Args...>) {
    return ::new (storage) T(std::forward<Args>(args)...);
  } else {
    return ::new (storage) T{std::forward<Args>(args)...};
  }
}

// new_object<T>(args...) — `new T(args...)`, or `new T{args...}` for an aggregate.
template <class T, class... Args>
T* new_object(Args&&... args) {
  if constexpr (std::is_constructible_v<T, Args...>) {
    return new T(std::forward<Args>(args)...);
  } else {
    return new T{std::forward<Args>(args)...};
  }
}

}  // namespace memkit::detail

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#endif  // MEMKIT_OWN_DETAIL_CONSTRUCT_H_
