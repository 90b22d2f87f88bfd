/* One definitely lost block, allocated one call deep. */
#include <stdlib.h>
#include <string.h>
void *leak(size_t n) {
  void *p = malloc(n);
  memset(p, 0, n);
  return p;
}
int main(void) {
  void *p = leak(100);
  p = 0;
  (void)p;
  return 0;
}
