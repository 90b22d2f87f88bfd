/* The only pointer to a block lives in memory the program mapped itself: valgrind scans such
 * anonymous mappings, so the block is still reachable. */
#include <stdlib.h>
#include <sys/mman.h>
int main(void) {
  void **m = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 1;
  m[10] = malloc(333);
  void *lost = malloc(44);
  (void)lost;
  lost = 0;
  return 0;
}
