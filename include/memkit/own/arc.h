// memkit/own/arc.h — Arc<T> and ArcWeak<T>: shared ownership across threads.
//
// Arc<T> is Rc<T> with atomic counts ("atomically reference counted"): handles to one value may
// be copied and destroyed on any threads at once. Everything in rc.h holds: one allocation with
// the counts and the value, read-only shared access, downgrade()/upgrade(), get_mut(),
// make_mut(), try_unwrap(), and UseAfterMove on a moved-from handle.
//
//   auto config = Arc<Config>::make(load());
//   std::vector<std::jthread> workers;
//   for (int i = 0; i < 4; ++i)
//     workers.emplace_back([config] { serve(*config); });   // each thread owns a copy
//
// The value is shared, so it is read-only; to change it from several threads, put it in a
// Mutex (mutex.h), which hands the data out only while it is locked:
//
//   auto hits = Arc<Mutex<int>>::make(0);
//   auto worker = [hits] { *hits->lock() += 1; };
//
// Memory ordering follows Rust's Arc: a copy is a relaxed increment (it is made from a handle
// that already keeps the value alive); a destruction is a release decrement, and the thread that
// drops the last handle acquires before it destroys the value, so every other thread's last use
// happens-before the destructor. Each copy or destruction is one atomic read-modify-write:
// cheaper than std::shared_ptr (which adds a separate control block and a check of whether the
// process has threads), and several times a plain increment (docs/benchmarks.md). Inside one
// thread, use Rc.
#ifndef MEMKIT_OWN_ARC_H_
#define MEMKIT_OWN_ARC_H_

#include "memkit/own/detail/ref_counted.h"
#include "memkit/own/detail/ref_counts.h"

namespace memkit {

template <class T>
using Arc = detail::Strong<T, detail::AtomicCounts>;

template <class T>
using ArcWeak = detail::WeakRef<T, detail::AtomicCounts>;

// make_arc<T>(args...) — Arc<T>::make(args...).
template <class T, class... Args>
[[nodiscard]] Arc<T> make_arc(Args&&... args) {
  return Arc<T>::make(std::forward<Args>(args)...);
}

}  // namespace memkit

#endif  // MEMKIT_OWN_ARC_H_
