// memkit/own/rc.h — Rc<T> and Weak<T>: shared ownership within one thread.
//
// Sometimes one value has several owners: a node in a graph that many edges point to, a
// configuration that several objects keep. Rc<T> ("reference counted") keeps T alive for as long
// as any Rc to it exists. Copying an Rc does not copy T; it makes one more owner:
//
//   auto a = Rc<List>::make(Cons{5, Cons{10, Nil}});
//   auto b = Rc<List>::make(Cons{3, a});         // b's tail shares a
//   a.strong_count();                            // 2: a and b's tail
//   { auto c = a; a.strong_count(); }            // 3 inside the scope, 2 after it
//
// Shared means read-only. An Rc gives `const T&`; to change a shared value, put the mutable part
// in a RefCell (checked at run time) or a Cell (for plain values):
//
//   auto value = Rc<RefCell<int>>::make(5);
//   auto list = Rc<List>::make(Cons{value, ...});
//   *value->borrow_mut() += 10;                  // every owner of `list` sees 15
//
// When T has the only handle, get_mut() gives write access without a RefCell, and make_mut()
// copies T first when it is shared (clone-on-write).
//
// Cycles. Two values that hold Rcs to each other keep each other alive forever: a parent that
// owns its children with Rc and children that own their parent with Rc are never freed. Weak<T>
// breaks such a cycle: it points to the value without owning it, and upgrade() gives an Rc only
// while the value is alive:
//
//   struct Node {
//     int value;
//     RefCell<Weak<Node>> parent;                // does not keep the parent alive
//     RefCell<std::vector<Rc<Node>>> children;   // keeps the children alive
//   };
//   auto leaf = Rc<Node>::make(3);
//   auto branch = Rc<Node>::make(5);
//   branch->children.borrow_mut()->push_back(leaf);
//   *leaf->parent.borrow_mut() = branch.downgrade();
//   leaf->parent.borrow()->upgrade();            // std::optional<Rc<Node>> holding branch
//
// When the last Rc goes, T is destroyed; the memory itself (one allocation holding both counts
// and T, as make_shared does) is freed when the last Weak goes too.
//
// Cost and threads. The counts are plain integers: a copy and a destruction are an add and a
// subtract (under a nanosecond), where std::shared_ptr pays two atomic read-modify-writes once a
// program has started any thread (its counts become atomic for good; figures in
// docs/benchmarks.md). The price is that an Rc must stay on its thread: it is not
// Send — memkit::spawn refuses it at compile time — and in debug builds (MEMKIT_DEBUG) every
// use from another thread throws memkit::WrongThread (a destruction there aborts with the same
// message). Share across threads with Arc<T> (arc.h).
//
// Using a moved-from Rc throws memkit::UseAfterMove; a Weak that points nowhere (default
// constructed, or whose value died) is not an error: upgrade() returns std::nullopt.
#ifndef MEMKIT_OWN_RC_H_
#define MEMKIT_OWN_RC_H_

#include "memkit/own/detail/ref_counted.h"
#include "memkit/own/detail/ref_counts.h"

namespace memkit {

template <class T>
using Rc = detail::Strong<T, detail::LocalCounts>;

template <class T>
using Weak = detail::WeakRef<T, detail::LocalCounts>;

// make_rc<T>(args...) — Rc<T>::make(args...).
template <class T, class... Args>
[[nodiscard]] Rc<T> make_rc(Args&&... args) {
  return Rc<T>::make(std::forward<Args>(args)...);
}

}  // namespace memkit

#endif  // MEMKIT_OWN_RC_H_
