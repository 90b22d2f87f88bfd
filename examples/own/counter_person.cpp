// counter_person — a Counter and a Person with a name, hobbies and an optional friend.
//
// Two small types, each showing one choice of ownership:
//   * Counter is shared by several owners through Rc, which lends only const access; its count
//     lives in a Cell<int>, so a const Counter can still be incremented (interior mutability).
//   * Person's friend is a Weak<Person>: a person does not own their friend.
#include <cstddef>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "memkit/own/cell.h"
#include "memkit/own/drop.h"
#include "memkit/own/rc.h"
#include "memkit/own/refcell.h"

using memkit::Rc;
using memkit::Weak;

class Counter {
 public:
  // increment() is const: every owner of an Rc<Counter> may count, although Rc is read-only.
  void increment() const { count_.set(count_.get() + 1); }
  int value() const { return count_.get(); }

 private:
  memkit::Cell<int> count_{0};  // an int is copied in and out: no borrow to track
};

// Why Weak for the friend: friendship can be mutual. Two people holding Rcs to each other would
// keep each other alive forever (a cycle, see tree_weak); a Box would mean a person owns their
// friend outright. A Weak just points: it finds the friend while they are around and says so
// when they are not. std::optional says "maybe a friend"; the RefCell lets a friend be set after
// both people exist, through the const access an Rc<Person> gives.
class Person {
 public:
  Person(std::string name, std::vector<std::string> hobbies, Rc<Counter> introductions)
      : name_(std::move(name)),
        hobbies_(std::move(hobbies)),
        introductions_(std::move(introductions)) {}

  const std::string& name() const { return name_; }
  void befriend(const Rc<Person>& other) const { *friend_.borrow_mut() = other.downgrade(); }

  void introduce() const {
    introductions_->increment();
    std::cout << name_ << " (likes ";
    for (std::size_t i = 0; i < hobbies_.size(); ++i) std::cout << (i ? ", " : "") << hobbies_[i];
    std::cout << ") \u2014 ";
    memkit::Ref<std::optional<Weak<Person>>> pal = friend_.borrow();
    if (!pal->has_value()) {
      std::cout << "no friend\n";
    } else if (std::optional<Rc<Person>> alive = (*pal)->upgrade()) {
      std::cout << "friend: " << (*alive)->name() << "\n";
    } else {
      std::cout << "(friend no longer around)\n";
    }
  }

 private:
  std::string name_;
  std::vector<std::string> hobbies_;
  Rc<Counter> introductions_;
  memkit::RefCell<std::optional<Weak<Person>>> friend_;  // nullopt: no friend (yet)
};

int main() {
  std::cout << "== Counter: a Cell<int> shared through Rc ==\n";
  auto counter = Rc<Counter>::make();
  auto same_counter = counter;  // a second owner of the same Counter
  counter->increment();
  same_counter->increment();
  same_counter->increment();
  std::cout << "3 increments through 2 handles: counter = " << counter->value()
            << ", same_counter = " << same_counter->value() << " (strong count "
            << counter.strong_count() << ")\n";

  std::cout << "\n== Person: a name, hobbies and an optional friend ==\n";
  auto introductions = Rc<Counter>::make();  // every person counts their introductions here
  auto ana = Rc<Person>::make("Ana", std::vector<std::string>{"chess", "climbing"}, introductions);
  auto ben = Rc<Person>::make("Ben", std::vector<std::string>{"guitar"}, introductions);
  auto cleo = Rc<Person>::make("Cleo", std::vector<std::string>{"painting", "go"}, introductions);
  ana->befriend(ben);  // mutual friends: Weak both ways, no cycle
  ben->befriend(ana);
  ana->introduce();
  ben->introduce();
  cleo->introduce();
  std::cout << "Ben has " << ben.strong_count() << " owner (`ben`) and " << ben.weak_count()
            << " Weak pointing at him (Ana's friend)\n";

  std::cout << "\nBen moves away: his last Rc is dropped.\n";
  memkit::drop(std::move(ben));
  ana->introduce();
  std::cout << "introductions made: " << introductions->value() << "\n";
  return 0;
}
