// memkit/gc/visitor.h — Visitor: what trace() talks to; LivenessBroker: what weak callbacks ask.
//
// A GC object's trace() hands every reference it holds to the visitor:
//
//   void trace(gc::Visitor& visitor) const {
//     visitor.trace(left, "left");               // Member: keeps the target alive
//     visitor.trace(cache, "cache");             // WeakMember: cleared when the target dies
//     for (const auto& child : children) visitor.trace(child);   // any number, any container
//     visitor.register_weak_callback<&Tree::forget_dead>(this);  // cleanup of untraced pointers
//   }
//
// The same trace() serves the marker, the verifier and the poisoner (debug builds), so it must
// visit the same fields every time, must not allocate and must not follow the Members it visits.
// Field names are optional; the verifier names the field in its report when one is given
// (otherwise its byte offset in the holder).
//
// Marking is the hot use, so trace(Member) marks inline: one mask to find the page, one bitmap
// test-and-set, one push on the marker's work list (a std::vector — no recursion, so the depth
// of the object graph does not matter). Other visitors go through virtual calls.
#ifndef MEMKIT_GC_VISITOR_H_
#define MEMKIT_GC_VISITOR_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "memkit/base/config.h"
#include "memkit/export.h"
#include "memkit/gc/garbage_collected.h"
#include "memkit/gc/member.h"
#include "memkit/gc/page.h"

namespace memkit::gc {

namespace detail {
class Marker;
}

// Answers "is this object alive?" after marking, for weak callbacks.
class LivenessBroker {
 public:
  // True if `object` survives this collection; false for null.
  template <class T>
  bool is_alive(const T* object) const noexcept {
    return object != nullptr && detail::is_marked(detail::to_object(object));
  }

 private:
  friend class detail::Marker;
  LivenessBroker() = default;
};

// void callback(const LivenessBroker&, const void* data): runs after marking.
using WeakCallback = void (*)(const LivenessBroker&, const void* data);

class MEMKIT_EXPORT Visitor {
 public:
  Visitor(const Visitor&) = delete;
  Visitor& operator=(const Visitor&) = delete;

  // A Member or WeakMember the object holds. `field` names it in verifier reports.
  template <class T, detail::Strength kStrength>
  void trace(const detail::BasicMember<T, kStrength>& member, const char* field = nullptr) {
    detail::GcObject* object = member.raw_object();
    if (object == nullptr) return;
    if constexpr (kStrength == detail::Strength::kStrong) {
      if (MEMKIT_LIKELY(worklist_ != nullptr)) {
#if MEMKIT_DEBUG
        if (MEMKIT_UNLIKELY(!detail::is_allocated_object(object))) check_target(member, field);
#endif
        if (detail::set_mark(object)) worklist_->push_back(object);
        return;
      }
      visit_strong(member, field);
    } else {
      visit_weak(member, field);
    }
  }

  // An ephemeron: `value` is kept alive only while `key` is (see EphemeronMap).
  template <class K, class V>
  void trace_ephemeron(const K* key,
                       const detail::BasicMember<V, detail::Strength::kStrong>& value) {
    visit_ephemeron(detail::to_object(key), value);
  }

  // Calls object->Method(broker) after marking, if `object` is alive.
  template <auto Method, class T>
  void register_weak_callback(const T* object) {
    visit_weak_callback(&call_method<Method, T>, object);
  }
  void register_weak_callback(WeakCallback callback, const void* data) {
    visit_weak_callback(callback, data);
  }

 protected:
  Visitor() = default;
  explicit Visitor(std::vector<detail::GcObject*>* worklist) : worklist_(worklist) {}
  virtual ~Visitor() = default;

  virtual void visit_strong(const detail::MemberBase& member, const char* field) = 0;
  virtual void visit_weak(const detail::MemberBase& member, const char* field) = 0;
  virtual void visit_ephemeron(detail::GcObject* key, const detail::MemberBase& value) = 0;
  virtual void visit_weak_callback(WeakCallback callback, const void* data) = 0;
  // Debug builds, marking: `member` points at a slot that holds no object.
  virtual void check_target(const detail::MemberBase& member, const char* field);

 private:
  template <class T>
  friend class detail::Allocated;

  // For objects with external_size(): the marker sums them.
  void count_external(std::size_t bytes) noexcept { external_bytes_ += bytes; }

  template <auto Method, class T>
  static void call_method(const LivenessBroker& broker, const void* data) {
    (const_cast<T*>(static_cast<const T*>(data))->*Method)(broker);
  }

  std::vector<detail::GcObject*>* worklist_ = nullptr;

 protected:
  std::uint64_t external_bytes_ = 0;
};

namespace detail {

template <class T>
void Allocated<T>::gc_trace(Visitor& visitor) const {
  if constexpr (HasTrace<T>) T::trace(visitor);
  if constexpr (HasExternalSize<T>) {
    visitor.count_external(static_cast<std::size_t>(T::external_size()));
  }
}

}  // namespace detail
}  // namespace memkit::gc

#endif  // MEMKIT_GC_VISITOR_H_
