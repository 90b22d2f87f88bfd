// drop_order — destructor order at scope end and on early drop (the Rust Book, 15.3).
//
// A destructor is C++'s Drop: it runs when the owner's life ends, in an order fixed by the
// language. Knowing that order is knowing when a file is closed, a lock released, memory freed.
#include <iostream>
#include <string>
#include <utility>

#include "memkit/own/box.h"
#include "memkit/own/drop.h"
#include "memkit/own/rc.h"

// Rust's CustomSmartPointer. Unlike a Rust value, a moved-from C++ object is still destroyed at
// the end of its scope, so an owner must remember whether it still owns anything: the move
// constructor hands `owns_` over, and only the object that owns the data reports dropping it.
class CustomSmartPointer {
 public:
  explicit CustomSmartPointer(std::string data) : data_(std::move(data)) {}
  CustomSmartPointer(CustomSmartPointer&& other) noexcept
      : data_(std::move(other.data_)), owns_(std::exchange(other.owns_, false)) {}
  CustomSmartPointer& operator=(CustomSmartPointer&&) = delete;
  ~CustomSmartPointer() {
    if (owns_) std::cout << "Dropping CustomSmartPointer with data `" << data_ << "`!\n";
  }

 private:
  std::string data_;
  bool owns_ = true;
};

// An owner with members. C++ runs the destructor's body first and then destroys the members in
// reverse declaration order (Rust drops fields in declaration order).
struct Owner {
  CustomSmartPointer first{"first member"};
  CustomSmartPointer second{"second member"};
  ~Owner() { std::cout << "~Owner() body runs; its members are still alive here\n"; }
};

int main() {
  std::cout << "== scope end: reverse declaration order ==\n";
  {
    CustomSmartPointer c{"my stuff"};
    CustomSmartPointer d{"other stuff"};
    std::cout << "CustomSmartPointers created.\n";
  }  // d was declared last, so it is destroyed first

  std::cout << "\n== early drop ==\n";
  {
    CustomSmartPointer c{"some data"};
    std::cout << "CustomSmartPointer created.\n";
    memkit::drop(std::move(c));  // c's data is dropped on this line; c stays behind, empty
    std::cout << "CustomSmartPointer dropped before the end of the scope.\n";
  }  // c's destructor runs here too, but c no longer owns anything: it prints nothing

  std::cout << "\n== a Box owns its value ==\n";
  {
    auto boxed = memkit::Box<CustomSmartPointer>::make("boxed data");
    std::cout << "Box created.\n";
  }  // the Box is destroyed, and destroys what it holds

  std::cout << "\n== an Rc drops its value with the last handle ==\n";
  {
    auto first = memkit::Rc<CustomSmartPointer>::make("shared data");
    auto second = first;
    std::cout << "two handles, strong count " << first.strong_count() << "\n";
    memkit::drop(std::move(first));
    std::cout << "first handle dropped, strong count " << second.strong_count()
              << ": the value lives on\n";
    memkit::drop(std::move(second));
    std::cout << "second handle dropped: that was the last one.\n";
  }

  std::cout << "\n== members go after the owner's destructor body ==\n";
  {
    Owner owner;
    std::cout << "Owner created.\n";
  }
  return 0;
}
