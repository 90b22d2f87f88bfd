// gc_person — a Person with a name, hobbies and an optional friend, all GC objects.
//
// The seed's counter_person example, collected instead of counted: people, their names and
// their hobbies are objects on a memkit::gc::Heap that point at each other with Members. Friends
// can point at each other (a cycle), which reference counting needs a Weak to break; the
// collector frees a cycle once nothing outside reaches it. The heap's statistics show each step.
#include <iostream>
#include <string>
#include <utility>

#include "memkit/gc/gc.h"

namespace gc = memkit::gc;

// A string on the GC heap, so a Person holds it by Member like everything else.
class Text : public gc::GarbageCollected<Text> {
 public:
  explicit Text(std::string value) : value_(std::move(value)) {}
  const std::string& str() const { return value_; }
  // The characters live in native memory the collector would not otherwise see.
  std::size_t external_size() const { return value_.capacity(); }

 private:
  std::string value_;
};

// A hobby list: a GC node per hobby, linked.
class Hobby : public gc::GarbageCollected<Hobby> {
 public:
  Hobby(Text* name, Hobby* next) : name_(name), next_(next) {}
  void trace(gc::Visitor& visitor) const {
    visitor.trace(name_, "name");
    visitor.trace(next_, "next");
  }
  const Text& name() const { return *name_; }
  const Hobby* next() const { return next_; }

 private:
  gc::Member<Text> name_;
  gc::Member<Hobby> next_;
};

class Person : public gc::GarbageCollected<Person> {
 public:
  Person(gc::Heap& heap, const std::string& name) : name_(gc::make<Text>(heap, name)) {}
  ~Person() { ++departures; }  // must not touch name_ or friend_: they may be gone already

  void trace(gc::Visitor& visitor) const {
    visitor.trace(name_, "name");
    visitor.trace(hobbies_, "hobbies");
    visitor.trace(friend_, "friend");
  }

  void add_hobby(gc::Heap& heap, const std::string& hobby) {
    gc::Local<Text> text = gc::make<Text>(heap, hobby);
    hobbies_ = gc::make<Hobby>(heap, text.get(), hobbies_.get());
  }
  void befriend(Person* other) { friend_ = other; }

  void introduce() const {
    std::cout << name_->str() << " (likes ";
    for (const Hobby* hobby = hobbies_; hobby != nullptr; hobby = hobby->next()) {
      std::cout << hobby->name().str() << (hobby->next() != nullptr ? ", " : "");
    }
    std::cout << ") \u2014 ";
    if (friend_ == nullptr) {
      std::cout << "no friend\n";
    } else {
      std::cout << "friend: " << friend_->name_->str() << "\n";
    }
  }

  static inline int departures = 0;

 private:
  gc::Member<Text> name_;
  gc::Member<Hobby> hobbies_;  // newest first
  gc::Member<Person> friend_;  // optional: null means no friend
};

// The lines of the stats that do not depend on timing.
void print_objects(const gc::Heap& heap) {
  const gc::GcStats stats = heap.stats();
  std::cout << "collections: " << stats.collections
            << " (last: " << gc::to_string(stats.last_reason)
            << "); live objects: " << stats.objects.counts.live_blocks << ", "
            << memkit::format_bytes(stats.objects.counts.live_bytes)
            << "; collected so far: " << stats.objects.counts.frees << "\n";
}

int main() {
  gc::Heap heap;
  heap.set_stress(gc::Stress::off());  // collections only where this example says

  std::cout << "== Three people, their names and hobbies on the GC heap ==\n";
  gc::Local<Person> ana = gc::make<Person>(heap, heap, "Ana");
  ana->add_hobby(heap, "climbing");
  ana->add_hobby(heap, "chess");
  gc::Local<Person> ben = gc::make<Person>(heap, heap, "Ben");
  ben->add_hobby(heap, "guitar");
  gc::Root<Person> cleo = gc::make<Person>(heap, heap, "Cleo");  // a Root: could live anywhere
  cleo->add_hobby(heap, "go");
  cleo->add_hobby(heap, "painting");
  ana->befriend(ben);  // mutual friends: a cycle, and no Weak needed to break it
  ben->befriend(ana);
  ana->introduce();
  ben->introduce();
  cleo->introduce();
  heap.collect();
  print_objects(heap);

  std::cout << "\n== Ben and Ana leave: only their cycle still points at them ==\n";
  ben = nullptr;
  std::cout << "without `ben`, Ana's friend keeps him: ";
  heap.collect();
  std::cout << Person::departures << " departures\n";
  ana = nullptr;
  heap.collect();
  std::cout << "without `ana` too, the cycle is collected: " << Person::departures
            << " departures\n";
  print_objects(heap);
  cleo->introduce();

  std::cout << "\n== The heap's statistics ==\n";
  std::cout << heap.stats();
  return 0;
}
