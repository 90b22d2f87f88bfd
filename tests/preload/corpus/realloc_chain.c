/* realloc chains: growing, shrinking, realloc(NULL, n), reallocarray, and a chain that is lost. */
#include <stdlib.h>
void *g;
int main(void) {
  char *p = realloc(NULL, 8);
  for (size_t n = 16; n <= 4096; n *= 2) p = realloc(p, n);
  p = realloc(p, 32);
  g = p;
  int *arr = reallocarray(NULL, 10, sizeof(int));
  arr = reallocarray(arr, 1000, sizeof(int));
  arr = 0;
  char *q = malloc(1);
  for (int i = 0; i < 100; i++) q = realloc(q, 1 + (size_t)i * 3);
  free(q);
  return 0;
}
