/* Still reachable from a global (and from a static in a function). */
#include <stdlib.h>
void *g;
static void *keep(void) {
  static void *held;
  held = malloc(24);
  return held;
}
int main(void) {
  g = malloc(40);
  keep();
  return 0;
}
