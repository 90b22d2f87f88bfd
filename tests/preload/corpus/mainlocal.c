/* A block held only by a local of main: definitely lost after `return` (main's frame is dead),
 * still reachable after exit() inside main (its frame is live). Run with and without an argument.
 */
#include <stdlib.h>
int main(int argc, char **argv) {
  (void)argv;
  void *volatile p = malloc(55);
  (void)p;
  if (argc > 1) exit(0);
  return 0;
}
