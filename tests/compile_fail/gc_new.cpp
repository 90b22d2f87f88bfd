// A GC object cannot be created with new: only the heap makes them (gc::make).
#include "memkit/gc/gc.h"

struct Node : memkit::gc::GarbageCollected<Node> {
  void trace(memkit::gc::Visitor& visitor) const { visitor.trace(next); }
  memkit::gc::Member<Node> next;
};

int main() {
  memkit::gc::Heap heap;
  memkit::gc::Local<Node> node = memkit::gc::make<Node>(heap);
#ifndef MEMKIT_COMPILE_FAIL_CONTROL
  Node* other = new Node;
  node->next = other;
#endif
  return node->next == nullptr ? 0 : 1;
}
