// A Box is the sole owner of its value: it can be moved, never copied (clone() copies the value).
#include <utility>

#include "memkit/own/box.h"

int main() {
  auto original = memkit::Box<int>::make(1);
#ifdef MEMKIT_COMPILE_FAIL_CONTROL
  memkit::Box<int> owner = std::move(original);
#else
  memkit::Box<int> owner = original;  // error: the copy constructor is deleted
#endif
  return *owner - 1;
}
