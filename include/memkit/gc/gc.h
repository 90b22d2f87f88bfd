// memkit/gc/gc.h — the garbage collector: a precise mark-and-sweep heap for C++ objects.
//
// Objects derive from GarbageCollected<T>, hold each other through Member<T>, say what they hold
// in trace(), and are made by the heap; the heap frees them when nothing reaches them any more —
// cycles included. See docs/gc.md for the invariant, the phases of a collection, the threading
// model and the user's obligations.
//
//   struct Person : gc::GarbageCollected<Person> {
//     Person(std::string name) : name(std::move(name)) {}
//     void trace(gc::Visitor& visitor) const { visitor.trace(friend_, "friend"); }
//     std::string name;
//     gc::Member<Person> friend_;
//   };
//
//   gc::Heap heap;                                       // one per thread
//   gc::Local<Person> ana = gc::make<Person>(heap, "Ana");
//   gc::Local<Person> ben = gc::make<Person>(heap, "Ben");
//   ana->friend_ = ben;
//   ben->friend_ = ana;                                  // a cycle
//   heap.collect();                                      // both alive: the Locals are roots
//   ana = nullptr; ben = nullptr;
//   heap.collect();                                      // the cycle is collected
//   std::cout << heap.stats();
//
// The pieces, one header each:
//   garbage_collected.h  GarbageCollected<T>, and why `T t;` and `new T` do not compile
//   member.h             Member<T>, WeakMember<T>
//   roots.h              Local<T>, Root<T>, WeakRoot<T>
//   visitor.h            Visitor (what trace() talks to), LivenessBroker, weak callbacks
//   heap.h               Heap, make<T>()
//   ephemeron_map.h      EphemeronMap<K, V>
//   growing_policy.h     when collections happen
//   stress.h             stress mode (MEMKIT_GC_STRESS)
//   stats.h              GcStats
//   page.h, free_list.h  the heap's memory layout
#ifndef MEMKIT_GC_GC_H_
#define MEMKIT_GC_GC_H_

#include "memkit/gc/ephemeron_map.h"
#include "memkit/gc/garbage_collected.h"
#include "memkit/gc/growing_policy.h"
#include "memkit/gc/heap.h"
#include "memkit/gc/member.h"
#include "memkit/gc/roots.h"
#include "memkit/gc/stats.h"
#include "memkit/gc/stress.h"
#include "memkit/gc/visitor.h"

#endif  // MEMKIT_GC_GC_H_
