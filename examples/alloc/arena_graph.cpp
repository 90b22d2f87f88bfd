// arena_graph — a graph of objects in an arena, freed in one reset().
//
// A parser's syntax tree, a compiler pass, one request of a server: many small objects that point
// at each other and all die together. An arena makes each with a bump of a pointer and frees them
// all at once, running the destructors that must run — newest first — and nothing else.
#include <iostream>
#include <string_view>
#include <vector>

#include "memkit/alloc/arena.h"
#include "memkit/alloc/arena_allocator.h"

// A city and its roads. The roads vector allocates through the arena, so its buffer is freed
// with everything else; ~City is not trivial, so make<City> registers it for reset().
struct City {
  City(std::string_view city_name, memkit::Arena& arena) : name(city_name), roads(arena) {}
  ~City() { std::cout << "  ~City(" << name << ")\n"; }

  std::string_view name;
  std::vector<const City*, memkit::ArenaAllocator<const City*>> roads;
};

// A plain value: trivially destructible, so the arena registers nothing for it.
struct Distance {
  int km;
};

void connect(memkit::Arena& arena, City* a, City* b, int km) {
  a->roads.push_back(b);
  b->roads.push_back(a);
  arena.make<Distance>(km);
}

void print_stats(std::string_view when, const memkit::Arena& arena) {
  const memkit::ArenaStats stats = arena.stats();
  std::cout << "  " << when << ": " << stats.allocations << " blocks, " << stats.destructors
            << " destructors registered, " << stats.used_bytes << " of " << stats.capacity_bytes
            << " bytes in " << stats.chunks << " chunk(s)\n";
}

int main() {
  memkit::Arena arena;  // takes its first 4 KiB chunk at the first make

  std::cout << "== build the map ==\n";
  City* paris = arena.make<City>("Paris", arena);
  City* lyon = arena.make<City>("Lyon", arena);
  City* marseille = arena.make<City>("Marseille", arena);
  City* nice = arena.make<City>("Nice", arena);
  connect(arena, paris, lyon, 465);
  connect(arena, lyon, marseille, 315);
  connect(arena, marseille, nice, 200);
  connect(arena, lyon, nice, 470);
  for (const City* city : {paris, lyon, marseille, nice}) {
    std::cout << "  " << city->name << ":";
    for (const City* next : city->roads) std::cout << " " << next->name;
    std::cout << "\n";
  }
  print_stats("built", arena);

  std::cout << "== a scratch search, undone by its scope ==\n";
  {
    memkit::ArenaScope scratch(arena);
    City* detour = arena.make<City>("Detour", arena);
    detour->roads.push_back(paris);
    print_stats("with a detour", arena);
  }  // ~City(Detour) runs here: the scope rewinds to where it began
  print_stats("after the scope", arena);

  std::cout << "== reset: every destructor, newest first ==\n";
  arena.reset();
  print_stats("after reset", arena);
  return 0;
}
