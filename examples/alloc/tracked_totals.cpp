// tracked_totals — every byte counted, three ways.
//
//   1. Tracked<T>: a Box that counts how many of its type are alive, and their bytes.
//   2. A TrackingResource under std::pmr containers: counts per tag — the resource's name, a
//      name of your choice, or a type (TrackingAllocator<T>).
//   3. The global hook: this program links memkit::track_global, so every operator new in it is
//      counted; a HeapTag scope puts a name on what a piece of code allocates.
//
// Run it with MEMKIT_HEAP_STATS=text (or json) to see the whole program's totals once more, on
// stderr, after every static destructor has run.
#include <iostream>
#include <memory>
#include <memory_resource>
#include <string>
#include <vector>

#include "memkit/alloc/heap_stats.h"
#include "memkit/alloc/stats.h"
#include "memkit/alloc/tracked.h"
#include "memkit/alloc/tracking.h"

struct Particle {
  double x, y, z;
};

struct Mesh {
  float vertices[3 * 64];
};

void print_counts(const char* what, const memkit::AllocCounts& counts) {
  std::cout << "  " << what << ": " << counts.allocations << " allocations, " << counts.frees
            << " frees, " << memkit::format_bytes(counts.total_bytes) << " in total, peak "
            << memkit::format_bytes(counts.peak_bytes) << ", live "
            << memkit::format_bytes(counts.live_bytes) << "\n";
}

int main() {
  std::cout << "1. Tracked<T>: objects alive, per type\n";
  {
    std::vector<memkit::Tracked<Particle>> particles;
    particles.reserve(5);
    for (int i = 0; i < 5; ++i) {
      particles.push_back(memkit::Tracked<Particle>::make(1.0 * i, 0.0, 0.0));
    }
    auto mesh = memkit::Tracked<Mesh>::make();
    std::cout << "  Tracked<Particle>: " << memkit::Tracked<Particle>::live_count() << " alive, "
              << memkit::Tracked<Particle>::live_bytes() << " bytes\n";
    particles.erase(particles.begin() + 2, particles.end());  // three particles destroyed
    std::cout << memkit::tracked_stats();
  }
  std::cout << "  after the scope: " << memkit::Tracked<Particle>::live_count() << " particles and "
            << memkit::Tracked<Mesh>::live_count() << " meshes alive\n";

  std::cout << "\n2. A TrackingResource under pmr containers: per tag\n";
  memkit::TrackingResource tracker(std::pmr::new_delete_resource(), "scene");
  {
    std::pmr::vector<Particle> cloud(&tracker);  // tag "scene", the tracker's name
    cloud.reserve(100);

    memkit::TaggedResource labels = tracker.tagged("labels");  // same upstream, its own tag
    std::pmr::vector<std::pmr::string> names(&labels);
    names.reserve(3);
    names.emplace_back("the particle cloud, seen from afar");
    names.emplace_back("a mesh with sixty-four vertices");

    std::vector<Mesh, memkit::TrackingAllocator<Mesh>> meshes(tracker);  // tag "Mesh"
    meshes.reserve(2);
    std::cout << tracker.stats();
  }
  print_counts("after the scope, scene", tracker.counts());

  std::cout << "\n3. The global operator new hook: the whole program\n";
  std::cout << "  tracking enabled: " << (memkit::heap_tracking_enabled() ? "yes" : "no") << "\n";
  const memkit::HeapTagId tour = memkit::heap_tag("tour");
  {
    memkit::HeapTag scope(tour);     // what this block allocates counts under "tour"
    std::vector<std::string> words;  // 1 allocation: 4 strings of 32 bytes
    words.reserve(4);
    // 4 allocations: each longer than the 15 characters a std::string keeps inline.
    for (const char* phrase : {"every allocation counted", "every free counted too",
                               "under the tag of its scope", "wherever it is freed"}) {
      words.emplace_back(phrase);
    }
    auto particle = std::make_unique<Particle>();  // 1 allocation of 24 bytes
    print_counts("inside the \"tour\" scope", memkit::heap_counts(tour));
  }
  print_counts("after it", memkit::heap_counts(tour));

  std::cout << "\nThe tracked totals of this program so far:\n" << memkit::heap_stats();
  return 0;
}
