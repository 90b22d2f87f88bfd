// memkit/gc/ephemeron_map.h — EphemeronMap<K, V>: a weak-keyed map whose values live as long as
// their keys.
//
// The classic use is attaching data to objects you do not own: a map from a Widget to its
// Layout. A map holding Members would keep every Widget alive forever; a map with weak keys and
// strong values would still leak a Widget whose Layout points back to it (the value keeps the
// key alive). An ephemeron solves both: the value is traced only once the key is known to be
// alive by some other path, and the entry disappears when the key dies.
//
//   gc::Local<gc::EphemeronMap<Widget, Layout>> layouts =
//       gc::make<gc::EphemeronMap<Widget, Layout>>(heap);
//   layouts->set(widget, gc::make<Layout>(heap, widget));   // Layout may point back to widget
//   layouts->get(widget);                                   // the Layout, or null
//   // once `widget` is unreachable (except from its Layout), the next collection frees both
//   // and removes the entry
//
// The map itself is a GC object: hold it in a Member, Local or Root. The marker handles
// ephemerons to a fixed point (docs/gc.md, step 3), so chains (a value that is another entry's
// key) work. Keys and values must belong to the map's heap.
#ifndef MEMKIT_GC_EPHEMERON_MAP_H_
#define MEMKIT_GC_EPHEMERON_MAP_H_

#include <cstddef>
#include <unordered_map>

#include "memkit/gc/garbage_collected.h"
#include "memkit/gc/member.h"
#include "memkit/gc/visitor.h"

namespace memkit::gc {

template <class K, class V>
class EphemeronMap : public GarbageCollected<EphemeronMap<K, V>> {
 public:
  EphemeronMap() = default;

  // Maps `key` to `value` (replacing an earlier value); a null key is ignored.
  void set(const K* key, V* value) {
    if (key == nullptr) return;
    entries_.insert_or_assign(detail::to_object(key), Member<V>(value));
  }
  // The value for `key`, or null.
  V* get(const K* key) const {
    auto it = entries_.find(detail::to_object(key));
    return it == entries_.end() ? nullptr : it->second.get();
  }
  bool contains(const K* key) const { return entries_.count(detail::to_object(key)) != 0; }
  // True if there was an entry.
  bool erase(const K* key) { return entries_.erase(detail::to_object(key)) != 0; }
  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }

  void trace(Visitor& visitor) const {
    for (const auto& [key, value] : entries_) visitor.trace_ephemeron(key, value);
    visitor.register_weak_callback<&EphemeronMap::remove_dead_keys>(this);
  }

 private:
  void remove_dead_keys(const LivenessBroker& broker) {
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = broker.is_alive(it->first) ? std::next(it) : entries_.erase(it);
    }
  }

  std::unordered_map<detail::GcObject*, Member<V>> entries_;
};

}  // namespace memkit::gc

#endif  // MEMKIT_GC_EPHEMERON_MAP_H_
