/* exit() from a deep call: the blocks held by locals of the live frames are still reachable, the
 * one dropped on the way down is definitely lost. */
#include <stdlib.h>
#include <string.h>
__attribute__((noinline)) static void level(int depth, void *dropped) {
  void *volatile held = malloc(16 + (size_t)depth);
  (void)held;
  (void)dropped;
  if (depth == 5) exit(3);
  level(depth + 1, malloc(8));
}
int main(void) {
  level(0, 0);
  return 0;
}
