// The sweeper (docs/gc.md, step 7): poison the Members of dead objects (debug builds, stress
// mode), run their destructors, rebuild the free lists, give empty pages back.
#ifndef MEMKIT_SRC_GC_SWEEPER_H_
#define MEMKIT_SRC_GC_SWEEPER_H_

#include <cstdint>

#include "heap_internals.h"

namespace memkit::gc::detail {

class Sweeper {
 public:
  struct Result {
    std::uint64_t live_bytes = 0;
    std::uint64_t live_page_bytes = 0;  // of live_bytes, in normal pages
    std::uint64_t live_objects = 0;
    std::uint64_t freed_bytes = 0;
    std::uint64_t freed_objects = 0;
  };

  explicit Sweeper(HeapInternals& internals) : internals_(internals) {}

  // Destroys every unmarked object and clears all marks. Eager: the whole heap, now.
  Result sweep(bool poison_members);
  // Clears all marks without freeing anything (after a failed verification).
  void clear_marks() noexcept;

 private:
  void poison_dead_members();
  void destroy(GcObject* object, std::uint64_t size) noexcept;
  void sweep_page(NormalPage* page, Result& result, bool& empty);

  HeapInternals& internals_;
  const TypeInfo* last_type_ = nullptr;
  TypeTotals* last_totals_ = nullptr;
};

}  // namespace memkit::gc::detail

#endif  // MEMKIT_SRC_GC_SWEEPER_H_
