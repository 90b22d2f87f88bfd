// A GC object cannot be deleted: the heap decides when it dies.
#include "memkit/gc/gc.h"

struct Node : memkit::gc::GarbageCollected<Node> {
  int value = 0;
};

int main() {
  memkit::gc::Heap heap;
  memkit::gc::Local<Node> node = memkit::gc::make<Node>(heap);
#ifndef MEMKIT_COMPILE_FAIL_CONTROL
  delete node.get();
#endif
  return node->value;
}
