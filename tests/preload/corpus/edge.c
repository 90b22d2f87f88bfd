/* malloc(0), realloc(p, 0), every aligned allocator, and a tagged pointer (an interior one). */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
void *g_tagged;
int main(void) {
  void *z = malloc(0);
  (void)z;
  void *r = malloc(16);
  r = realloc(r, 0);
  (void)r;
  void *a = aligned_alloc(64, 128);
  (void)a;
  void *m = memalign(32, 40);
  (void)m;
  void *pm;
  if (posix_memalign(&pm, 16, 24) != 0) return 1;
  pm = 0;
  void *v = valloc(10);
  (void)v;
  g_tagged = (void *)((uintptr_t)malloc(48) | 1);
  return 0;
}
