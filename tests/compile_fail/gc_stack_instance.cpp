// A GC object cannot live on the stack (nor by value anywhere): the heap must own it.
#include "memkit/gc/gc.h"

struct Node : memkit::gc::GarbageCollected<Node> {
  int value = 0;
};

int main() {
  memkit::gc::Heap heap;
  memkit::gc::Local<Node> node = memkit::gc::make<Node>(heap);
#ifndef MEMKIT_COMPILE_FAIL_CONTROL
  Node on_stack;
  return on_stack.value;
#else
  return node->value;
#endif
}
