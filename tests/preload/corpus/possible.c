/* Only an interior pointer (in a global) points into the block: possibly lost. */
#include <stdlib.h>
char *g;
int main(void) {
  char *p = malloc(64);
  g = p + 8;
  p = 0;
  return 0;
}
