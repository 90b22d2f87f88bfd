// rc_refcell_list — a shared list mutated through Rc<RefCell<...>> (the Rust Book, listing 15-24).
//
// Rc gives several owners but only read access: every owner sees a `const List&`. To change a
// value that several owners share, the changeable part goes into a RefCell, which lends write
// access to one borrower at a time and checks that rule at run time. Rc<RefCell<int>> is thus
// "an int with several owners, any of whom may change it".
#include <iostream>
#include <string>
#include <utility>
#include <variant>

#include "memkit/own/rc.h"
#include "memkit/own/refcell.h"

using memkit::Rc;
using memkit::RefCell;

struct List;
struct Nil {};
struct Cons {
  Rc<RefCell<int>> value;  // shared and mutable
  Rc<List> tail;           // shared, read-only
};
struct List {
  std::variant<Cons, Nil> node;
};

// Reading a value takes a shared borrow() for the length of the expression.
std::string to_string(const List& list) {
  if (const Cons* cell = std::get_if<Cons>(&list.node)) {
    return std::string("(")
        .append(std::to_string(*cell->value->borrow()))
        .append(", ")
        .append(to_string(*cell->tail))
        .append(")");
  }
  return "Nil";
}

void print(const List& a, const List& b, const List& c, const char* when) {
  std::cout << "a " << when << " = " << to_string(a) << "\n";
  std::cout << "b " << when << " = " << to_string(b) << "\n";
  std::cout << "c " << when << " = " << to_string(c) << "\n";
}

int main() {
  auto value = Rc<RefCell<int>>::make(5);

  // a = (value, Nil); b and c each put their own head in front of the shared a.
  Rc<List> a = Rc<List>::make(Cons{value, Rc<List>::make(Nil{})});
  List b{Cons{Rc<RefCell<int>>::make(3), a}};
  List c{Cons{Rc<RefCell<int>>::make(4), a}};
  print(*a, b, c, "before");
  std::cout << "value has " << value.strong_count() << " owners (`value` and a's head), "
            << "a has " << a.strong_count() << " (a, b's tail and c's tail)\n";

  // `value` is a const handle as far as Rc is concerned, yet borrow_mut() may change the int:
  // the RefMut guard is the one writer until the end of the statement.
  *value->borrow_mut() += 10;
  std::cout << "\nafter *value->borrow_mut() += 10:\n";
  print(*a, b, c, "after");

  // Any owner can do the same: here through b, by walking to its tail's head.
  const Cons& shared = std::get<Cons>(std::get<Cons>(b.node).tail->node);
  *shared.value->borrow_mut() *= 2;
  std::cout << "\nafter doubling it through b's tail:\n";
  print(*a, b, c, "now");
  std::cout << "and `value` itself reads " << *value->borrow() << "\n";
  return 0;
}
