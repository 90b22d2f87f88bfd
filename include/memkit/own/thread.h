// memkit/own/thread.h — spawn(): start a thread, refusing values that must not cross threads.
//
// Rust marks types that may move to another thread as Send and checks it when a thread starts.
// memkit::spawn(f, args...) does the same at compile time for the values handed to the new
// thread: an Rc or a Weak (whose counts are not atomic) does not compile, with a message saying
// to use Arc:
//
//   auto counts = Rc<int>::make(0);
//   memkit::spawn([](Rc<int>) {}, counts);      // error: ... is not Send ...
//   auto shared = Arc<Mutex<int>>::make(0);
//   auto worker = memkit::spawn([](Arc<Mutex<int>> n) { *n->lock() += 1; }, shared);  // fine
//
// spawn returns a std::jthread (joined when it goes out of scope). Declare your own
// single-thread types non-Send with `template <> inline constexpr bool memkit::is_send<T> =
// false;`. A lambda's captures cannot be inspected in C++, so pass such values as arguments; an
// Rc captured anyway is still caught at run time in debug builds (memkit::WrongThread).
#ifndef MEMKIT_OWN_THREAD_H_
#define MEMKIT_OWN_THREAD_H_

#include <functional>
#include <optional>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "memkit/own/detail/ref_counted.h"
#include "memkit/own/detail/ref_counts.h"

namespace memkit {

template <class T>
class Box;
template <class T>
class RefCell;
template <class T>
class Cell;
template <class T>
class Mutex;

// is_send<T> — whether a T may be moved to another thread (Rust's Send).
template <class T>
inline constexpr bool is_send = true;

// is_sync<T> — whether a T may be used from several threads at once, through shared references
// (Rust's Sync). An Arc<T> shares its T between threads, so it is Send only if T is Sync too.
template <class T>
inline constexpr bool is_sync = is_send<T>;

namespace detail {
// What an Arc needs of its T: to be moved between threads and used from several at once.
template <class T>
inline constexpr bool arc_shareable = (is_send<T> && is_sync<T>);
}  // namespace detail

template <class T>
inline constexpr bool is_send<detail::Strong<T, detail::LocalCounts>> = false;
template <class T>
inline constexpr bool is_send<detail::WeakRef<T, detail::LocalCounts>> = false;
template <class T>
inline constexpr bool is_send<detail::Strong<T, detail::AtomicCounts>> = detail::arc_shareable<T>;
template <class T>
inline constexpr bool is_send<detail::WeakRef<T, detail::AtomicCounts>> = detail::arc_shareable<T>;
template <class T>
inline constexpr bool is_send<Box<T>> = is_send<T>;
// RefCell and Cell may move to another thread, but not be shared: their counters are not atomic.
template <class T>
inline constexpr bool is_send<RefCell<T>> = is_send<T>;
template <class T>
inline constexpr bool is_sync<RefCell<T>> = false;
template <class T>
inline constexpr bool is_send<Cell<T>> = is_send<T>;
template <class T>
inline constexpr bool is_sync<Cell<T>> = false;
// A Mutex makes its T shareable: only one thread reaches it at a time.
template <class T>
inline constexpr bool is_send<Mutex<T>> = is_send<T>;
template <class T>
inline constexpr bool is_sync<Mutex<T>> = is_send<T>;
template <class T>
inline constexpr bool is_send<std::optional<T>> = is_send<T>;
template <class T, class A>
inline constexpr bool is_send<std::vector<T, A>> = is_send<T>;
template <class A, class B>
inline constexpr bool is_send<std::pair<A, B>> = is_send<A>&& is_send<B>;
template <class... Ts>
inline constexpr bool is_send<std::tuple<Ts...>> = (is_send<Ts> && ...);

namespace detail {

template <class T>
constexpr bool assert_send() {
  static_assert(
      is_send<T>,
      "memkit::spawn: this argument is not Send: it holds an Rc or Weak (or another "
      "single-thread type, or an Arc of a RefCell or Cell), whose counts are not atomic. Share an "
      "Arc instead, with a Mutex around what changes.");
  return true;
}

}  // namespace detail

// spawn(f, args...) — runs f(args...) on a new std::jthread; every argument must be Send.
template <class F, class... Args>
[[nodiscard]] std::jthread spawn(F&& f, Args&&... args) {
  static_assert(
      (detail::assert_send<std::decay_t<F>>() && ... && detail::assert_send<std::decay_t<Args>>()));
  return std::jthread(std::forward<F>(f), std::forward<Args>(args)...);
}

}  // namespace memkit

#endif  // MEMKIT_OWN_THREAD_H_
