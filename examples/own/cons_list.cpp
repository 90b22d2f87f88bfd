// cons_list — a recursive cons list built with Box (the Rust Book, chapter 15.1).
//
// A cons list is either Cons(head, rest-of-list) or Nil. Written as a plain value type, List
// would contain a List and have no finite size. A Box<List> is one pointer, so Cons has a fixed
// size, and the Box owns the rest of the list: destroying the head destroys the whole list.
#include <iostream>
#include <string>
#include <utility>
#include <variant>

#include "memkit/base/error.h"
#include "memkit/own/box.h"

using memkit::Box;

struct List;  // incomplete here: a Box of it is fine, a List member would not be
struct Nil {};
struct Cons {
  int head;
  Box<List> tail;  // never null: the end of the list is an explicit Nil, not a nullptr
};
struct List {
  std::variant<Cons, Nil> node;
};

Box<List> cons(int head, Box<List> tail) { return Box<List>::make(Cons{head, std::move(tail)}); }
Box<List> nil() { return Box<List>::make(Nil{}); }

// "(1, (2, (3, Nil)))" — the shape of the value, as Rust's Debug output would show it.
std::string to_string(const List& list) {
  if (const Cons* cell = std::get_if<Cons>(&list.node)) {
    return std::string("(")
        .append(std::to_string(cell->head))
        .append(", ")
        .append(to_string(*cell->tail))
        .append(")");
  }
  return "Nil";
}

// Recursion follows the ownership: each Cons hands its tail to the next call by reference.
int sum(const List& list) {
  if (const Cons* cell = std::get_if<Cons>(&list.node)) return cell->head + sum(*cell->tail);
  return 0;
}

int main() {
  Box<List> list = cons(1, cons(2, cons(3, nil())));
  std::cout << "list = " << to_string(*list) << "\n";
  std::cout << "sum  = " << sum(*list) << "\n";
  std::cout << "a Box is one pointer: sizeof(Box<List>) == sizeof(List*) is " << std::boolalpha
            << (sizeof(Box<List>) == sizeof(List*)) << "\n";

  // Moving a Box moves ownership. Copying one does not compile: a Box is the *only* owner.
  std::cout << "\n== moving the list ==\n";
  Box<List> moved = std::move(list);
  std::cout << "moved = " << to_string(*moved) << "\n";
  std::cout << "list.valid() after the move: " << list.valid() << "\n";
  // A moved-from unique_ptr is null and dereferencing it is undefined behaviour. A moved-from Box
  // is empty and every use throws, naming the type and the operation.
  try {
    std::cout << to_string(*list) << "\n";  // on purpose: `list` is empty now
  } catch (const memkit::UseAfterMove& e) {
    std::cout << "using it throws memkit::UseAfterMove:\n  " << e.what() << "\n";
  }

  // into_raw() gives ownership up, e.g. to pass the list through a C API as an opaque pointer;
  // from_raw() takes it back, so the list is still destroyed exactly once.
  std::cout << "\n== into_raw / from_raw ==\n";
  List* raw = std::move(moved).into_raw();
  std::cout << "into_raw(): moved.valid() = " << moved.valid() << ", the raw pointer still sees "
            << to_string(*raw) << "\n";
  Box<List> back = Box<List>::from_raw(raw);
  std::cout << "from_raw(): back = " << to_string(*back) << ", owned again\n";
  return 0;
}  // `back` is destroyed here, and with it every Cons down to Nil
