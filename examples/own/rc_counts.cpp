// rc_counts — Rc reference counts as a list is shared and scopes end (the Rust Book, 15.4).
//
// Two lists b = (3, a) and c = (4, a) share the tail a. With Box, a could have only one owner;
// with Rc, each list holds a counted handle to a, and a lives as long as any of them does.
#include <iostream>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "memkit/own/rc.h"

using memkit::Rc;

struct List;
struct Nil {};
struct Cons {
  int head;
  Rc<List> tail;  // shared: copying a Cons copies the handle, not the rest of the list
};
struct List {
  std::variant<Cons, Nil> node;
};

Rc<List> cons(int head, Rc<List> tail) { return Rc<List>::make(Cons{head, std::move(tail)}); }

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

int main() {
  memkit::Weak<List> observer;  // declared first so that it outlives a and b
  {
    Rc<List> a = cons(5, cons(10, Rc<List>::make(Nil{})));
    std::cout << "a = " << to_string(*a) << "\n";
    std::cout << "count after creating a = " << a.strong_count() << "\n";

    // Copying an Rc is Rust's Rc::clone(&a): one more owner, the list itself is not copied.
    List b{Cons{3, a}};
    std::cout << "b = " << to_string(b) << "\n";
    std::cout << "count after creating b = " << a.strong_count() << "\n";
    {
      List c{Cons{4, a}};
      std::cout << "count after creating c = " << a.strong_count() << "\n";
    }  // c is destroyed: its handle to a goes with it
    std::cout << "count after c goes out of scope = " << a.strong_count() << "\n";

    // A Weak points to the list without owning it: weak_count goes up, strong_count does not.
    observer = a.downgrade();
    std::cout << "\nafter downgrade(): strong = " << a.strong_count()
              << ", weak = " << a.weak_count() << "\n";
    if (auto seen = observer.upgrade()) {  // an Rc for as long as `seen` lives
      std::cout << "upgrade() while a lives: " << to_string(**seen)
                << " (strong = " << a.strong_count() << " while upgraded)\n";
    }

    // Shared means read-only: *a is a `const List&`, so `std::get<Cons>(a->node).head = 6;`
    // does not compile. get_mut() gives write access only to a sole owner.
    static_assert(std::is_same_v<decltype(*a), const List&>);
    std::cout << "a.get_mut() while b and the Weak share a: "
              << (a.get_mut() == nullptr ? "nullptr (refused)" : "granted") << "\n";
  }  // b, then a: the last owner is gone and the list is destroyed

  std::cout << "\nafter a and b are gone: weak.strong_count() = " << observer.strong_count()
            << ", upgrade() " << (observer.upgrade() ? "succeeds" : "gives nullopt") << "\n";
  return 0;
}
