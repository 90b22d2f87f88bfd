// Box<Base> from Box<Derived> would destroy the value through ~Base(); without a virtual
// destructor the Derived part would never be destroyed, so the conversion does not compile.
#include <string>
#include <utility>

#include "memkit/own/box.h"

struct Base {
#ifdef MEMKIT_COMPILE_FAIL_CONTROL
  virtual ~Base() = default;
#endif
  int id = 0;
};

struct Derived : Base {
  std::string name = "derived";  // would leak through a Base* delete
};

int main() {
  auto derived = memkit::Box<Derived>::make();
  memkit::Box<Base> base = std::move(derived);  // error unless ~Base() is virtual
  return base->id;
}
