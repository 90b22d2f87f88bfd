// object_pool — a particle fountain on a Pool<Particle>.
//
// A particle system makes and drops thousands of small objects of one type every frame: exactly
// what a pool is for. Every slot has the same size, so a destroyed particle's slot is the next
// one handed out (no search, no fragmentation), and the pool asks its upstream for memory only
// when more particles are alive at once than ever before. A checked pool also refuses to free a
// particle twice, or one it never made, with a message that names the pool and the address.
#include <iostream>
#include <set>
#include <vector>

#include "memkit/alloc/pool.h"
#include "memkit/base/error.h"

struct Particle {
  float x, y;
  float dx, dy;
  int ttl;  // frames left to live
};

int main() {
  memkit::PoolOptions options;
  options.slots_per_chunk = 8;  // small chunks (8, then 16, ...), so that growth shows
  options.checked = true;       // checks in release builds too: the output is the same
  memkit::Pool<Particle> pool(options);

  std::cout << "== make, destroy, make again ==\n";
  std::vector<Particle*> sparks;
  for (int i = 0; i < 5; ++i) {
    sparks.push_back(pool.make(Particle{0.0f, 0.0f, 0.5f * static_cast<float>(i), 2.0f, 3}));
  }
  std::cout << "5 particles made, " << pool.live() << " live\n";
  Particle* gone = sparks[2];
  pool.destroy(gone);
  std::cout << "particle 2 destroyed, " << pool.live() << " live\n";
  Particle* next = pool.make(Particle{1.0f, 1.0f, 0.0f, 1.0f, 2});
  std::cout << "the next particle " << (next == gone ? "reused" : "did not reuse")
            << " particle 2's slot\n";
  sparks[2] = next;

  std::cout << "\n== a fountain: 4 new particles a frame, each lives 1 to 3 frames ==\n";
  std::set<const Particle*> ever_used(sparks.begin(), sparks.end());
  for (int frame = 1; frame <= 6; ++frame) {
    int reused = 0;
    for (int i = 0; i < 4; ++i) {
      Particle* p =
          pool.make(Particle{0.0f, 0.0f, 0.1f * static_cast<float>(i), 3.0f, 1 + (frame + i) % 3});
      if (!ever_used.insert(p).second) ++reused;
      sparks.push_back(p);
    }
    int died = 0;
    std::vector<Particle*> alive;
    for (Particle* p : sparks) {
      p->x += p->dx;
      p->y += p->dy;
      if (--p->ttl == 0) {
        pool.destroy(p);
        ++died;
      } else {
        alive.push_back(p);
      }
    }
    sparks.swap(alive);
    std::cout << "frame " << frame << ": 4 made (" << reused << " in reused slots), " << died
              << " died, " << pool.live() << " live\n";
  }

  std::cout << "\n== what the pool holds ==\n";
  std::cout << "slot size " << memkit::Pool<Particle>::slot_size << " bytes for a "
            << sizeof(Particle) << "-byte Particle\n";
  std::cout << pool.memory_stats();

  std::cout << "\n== misuse is caught ==\n";
  Particle* last = sparks.back();
  pool.destroy(last);
  try {
    pool.destroy(last);  // a second time
  } catch (const memkit::InvalidFree& e) {
    std::cout << "caught memkit::InvalidFree:\n  " << e.what() << "\n";
  }
  Particle on_the_stack{0.0f, 0.0f, 0.0f, 0.0f, 1};
  try {
    pool.destroy(&on_the_stack);  // never came from the pool
  } catch (const memkit::InvalidFree& e) {
    std::cout << "caught memkit::InvalidFree:\n  " << e.what() << "\n";
  }
  std::cout << pool.live() << " particles still live; ~Pool destroys them and frees the chunks\n";
  return 0;
}
