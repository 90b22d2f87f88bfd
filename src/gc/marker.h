// The marker: roots, the explicit work list, ephemerons to a fixed point, weak processing.
#ifndef MEMKIT_SRC_GC_MARKER_H_
#define MEMKIT_SRC_GC_MARKER_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "heap_internals.h"
#include "memkit/gc/visitor.h"

namespace memkit::gc::detail {

class Marker final : public Visitor {
 public:
  explicit Marker(HeapInternals& internals);

  // Step 1: objects under construction (marked, scanned conservatively), Locals, Roots.
  void mark_roots();
  // Step 1, opt-in: the registers and the stack from here to the thread's stack base.
  void scan_stack();
  // Step 2: trace grey objects until none is left.
  void drain();
  // Step 3: ephemeron values whose keys are alive, until a round finds none.
  void process_ephemerons();
  // Step 4: clear WeakMembers and WeakRoots to dead objects, run weak callbacks.
  void process_weak();

  // external_size() of every marked object.
  std::uint64_t external_bytes() const noexcept { return external_bytes_; }

  // Marks the object containing each word of [begin, end) that points into the heap.
  void scan_words(const void* begin, const void* end);

 protected:
  void visit_strong(const MemberBase& member, const char* field) override;
  void visit_weak(const MemberBase& member, const char* field) override;
  void visit_ephemeron(GcObject* key, const MemberBase& value) override;
  void visit_weak_callback(WeakCallback callback, const void* data) override;
  void check_target(const MemberBase& member, const char* field) override;

 private:
  struct Ephemeron {
    GcObject* key;
    const MemberBase* value;
  };

  void mark(GcObject* object) {
    if (set_mark(object)) worklist_.push_back(object);
  }
  void scan_stack_from_here();

  HeapInternals& internals_;
  std::vector<GcObject*> worklist_;
  std::vector<MemberBase*> weak_members_;
  std::vector<Ephemeron> ephemerons_;
  std::vector<std::pair<WeakCallback, const void*>> weak_callbacks_;
  const GcObject* holder_ = nullptr;  // the object being traced, for error messages
};

}  // namespace memkit::gc::detail

#endif  // MEMKIT_SRC_GC_MARKER_H_
