// The heap verifier (docs/gc.md, step 6): after marking, every live object's references must
// lead to live objects, and every word of a live object that points to a dead object must be a
// field its trace() visits.
#ifndef MEMKIT_SRC_GC_VERIFIER_H_
#define MEMKIT_SRC_GC_VERIFIER_H_

#include <cstddef>
#include <string>
#include <vector>

#include "heap_internals.h"
#include "memkit/gc/visitor.h"

namespace memkit::gc::detail {

class Verifier final : public Visitor {
 public:
  explicit Verifier(HeapInternals& internals) : internals_(internals) {}

  // The report, one line per problem (the first 20); empty when the heap is sound.
  std::string run();
  std::size_t problems() const noexcept { return problems_; }

 protected:
  void visit_strong(const MemberBase& member, const char* field) override;
  void visit_weak(const MemberBase& member, const char* field) override;
  void visit_ephemeron(GcObject* key, const MemberBase& value) override;
  void visit_weak_callback(WeakCallback, const void*) override {}

 private:
  void verify_object(GcObject* object, std::size_t size);
  void check_reference(const MemberBase& member, const char* field, bool weak);
  std::string describe_field(const void* address, const char* field) const;
  std::string describe_target(const GcObject* target) const;
  void report(std::string line);

  HeapInternals& internals_;
  GcObject* holder_ = nullptr;
  std::size_t holder_size_ = 0;
  std::vector<std::size_t> visited_offsets_;
  std::string report_;
  std::size_t problems_ = 0;
};

}  // namespace memkit::gc::detail

#endif  // MEMKIT_SRC_GC_VERIFIER_H_
