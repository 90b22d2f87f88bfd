// memkit/own/drop.h — drop(x): end an owner's life now instead of at the end of its scope.
//
// Rust's std::mem::drop. `drop(std::move(box))` destroys the Box's value on this line; the
// moved-from Box stays behind, empty, and using it throws UseAfterMove. Works for any movable
// owner (Box, Rc, Weak, Arc, a RefMut guard, a MutexGuard, std::vector ...).
#ifndef MEMKIT_OWN_DROP_H_
#define MEMKIT_OWN_DROP_H_

#include <type_traits>
#include <utility>

namespace memkit {

template <class T>
void drop(T&& owner) {
  static_assert(!std::is_lvalue_reference_v<T>, "drop() takes ownership: write drop(std::move(x))");
  [[maybe_unused]] T dropped = std::forward<T>(owner);
}

}  // namespace memkit

#endif  // MEMKIT_OWN_DROP_H_
