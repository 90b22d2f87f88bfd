// gc_test_types.h — GC object types and helpers shared by the GC tests.
//
// Types named in messages live in the named namespace gc_test, so their names are the same on
// every compiler ("gc_test::Node").
#ifndef MEMKIT_TESTS_GC_GC_TEST_TYPES_H_
#define MEMKIT_TESTS_GC_GC_TEST_TYPES_H_

#include <cstddef>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "memkit/base/sanitizers.h"
#include "memkit/gc/gc.h"

namespace gc_test {

namespace gc = memkit::gc;

// A binary node that counts its destructions into an int the test owns.
struct Node : gc::GarbageCollected<Node> {
  explicit Node(int initial = 0, int* counter = nullptr) : value(initial), destroyed(counter) {}
  Node(int initial, int* counter, Node* left_child, Node* right_child)
      : value(initial), destroyed(counter), left(left_child), right(right_child) {}
  ~Node() {
    if (destroyed != nullptr) ++*destroyed;
  }
  void trace(gc::Visitor& visitor) const {
    visitor.trace(left, "left");
    visitor.trace(right, "right");
  }

  int value;
  int* destroyed;
  gc::Member<Node> left;
  gc::Member<Node> right;
};

// The slot a Node takes: vptr 8 + value 4 (+4 padding) + destroyed 8 + two Members 16 = 40 bytes,
// in the 48-byte size class.
inline constexpr std::size_t kNodeSlot =
    gc::detail::kSizeClasses[gc::detail::size_class_index(sizeof(gc::detail::Allocated<Node>))];
static_assert(kNodeSlot == 48);

// A pointer-free object of any size.
template <std::size_t kBytes>
struct Blob : gc::GarbageCollected<Blob<kBytes>> {
  explicit Blob(int* counter = nullptr) : destroyed(counter) {}
  ~Blob() {
    if (destroyed != nullptr) ++*destroyed;
  }
  int* destroyed;
  unsigned char bytes[kBytes] = {};
};

// True when this test program runs under MEMKIT_GC_STRESS (the gc_stress CTest variant).
inline bool stress_run() {
  const char* value = std::getenv("MEMKIT_GC_STRESS");
  return value != nullptr && std::string_view(value) != "" && std::string_view(value) != "0" &&
         std::string_view(value) != "off";
}

// `full` normally; `reduced` under ASan or stress, where every allocation costs far more.
inline std::size_t scaled(std::size_t full, std::size_t reduced) {
  return (MEMKIT_ASAN || stress_run()) ? reduced : full;
}

// A heap whose collections happen only when the test asks (no pacing, no stress).
inline void quiet(gc::Heap& heap) {
  heap.set_stress(gc::Stress::off());
  gc::GrowingPolicy policy;
  policy.min_bytes = std::uint64_t{1} << 40;
  heap.set_growing_policy(policy);
}

}  // namespace gc_test

#endif  // MEMKIT_TESTS_GC_GC_TEST_TYPES_H_
