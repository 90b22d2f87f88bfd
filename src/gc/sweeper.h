// The sweeper (docs/gc.md, step 7): poison the Members of dead objects (debug builds, stress
// mode), run their destructors, rebuild the free lists, give empty pages back.
//
// Two ways to sweep. sweep() does the whole heap now (heap.collect(), the heap's destructor).
// start_lazy_sweep() does in the pause only what must be done then — poisoning, counting the live
// objects (a popcount per mark word), clearing the marks of pages with nothing to free, large
// objects — and queues every other page on its size class's unswept list. The allocator sweeps a
// queued page of its class when its free list and bump range run out (sweep_next), so a page's
// dead objects are destroyed and its slots reused while the page is in cache, and the pause does
// not grow with the garbage. Before the next collection, stats(), or mapping a new page, the rest
// is swept (finish). A queued page that is also its class's bump page only sweeps below the top
// it had when the collection ended (sweep_top): objects bumped after that are not marked.
#ifndef MEMKIT_SRC_GC_SWEEPER_H_
#define MEMKIT_SRC_GC_SWEEPER_H_

#include <cstdint>

#include "heap_internals.h"

namespace memkit::gc::detail {

class Sweeper {
 public:
  struct Result {
    std::uint64_t live_bytes = 0;
    std::uint64_t live_objects = 0;
    std::uint64_t live_page_bytes = 0;  // of live_bytes, in normal pages
  };

  explicit Sweeper(HeapInternals& internals) : internals_(internals) {}

  // Destroys every unmarked object and clears all marks. Eager: the whole heap, now. No page
  // may be queued (finish() first).
  Result sweep(bool poison_members);
  // Poisons (if asked), counts what lives, sweeps large objects and queues the pages that hold
  // dead objects or free slots for the allocator to sweep.
  Result start_lazy_sweep(bool poison_members);
  // Sweeps one queued page of `size_class` (an empty one becomes the class's bump page); false
  // if none is queued.
  bool sweep_next(std::size_t size_class);
  // Sweeps every queued page; empty ones become spare pages.
  void finish();
  // Clears all marks without freeing anything (after a failed verification).
  void clear_marks() noexcept;

 private:
  void poison_dead_members();
  // Destroys the dead objects below the page's sweep_top and, unless the page is left empty,
  // puts its free slots on the class's free list. True if nothing lives in the page.
  bool sweep_page(NormalPage* page);
  // Marks an empty page spare (the caller takes it off the page list) and poisons its payload.
  void retire(NormalPage* page);
  Result sweep_large_objects();
  void count_frees(const TypeInfo* type, std::uint64_t count, std::uint64_t bytes);
  // Runs the destructors of `count` adjacent objects of one type from `first` and counts them.
  void destroy_run(char* first, std::size_t count, std::size_t slot_size);

  HeapInternals& internals_;
  const TypeInfo* last_type_ = nullptr;  // count_frees' cache of its last map lookup
  TypeTotals* last_totals_ = nullptr;
};

}  // namespace memkit::gc::detail

#endif  // MEMKIT_SRC_GC_SWEEPER_H_
