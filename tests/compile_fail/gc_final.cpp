// make<T> needs T not to be final: the heap derives from T (that is what makes T concrete).
#include "memkit/gc/gc.h"

#ifndef MEMKIT_COMPILE_FAIL_CONTROL
struct Node final : memkit::gc::GarbageCollected<Node> {
#else
struct Node : memkit::gc::GarbageCollected<Node> {
#endif
  int value = 0;
};

int main() {
  memkit::gc::Heap heap;
  return memkit::gc::make<Node>(heap)->value;
}
