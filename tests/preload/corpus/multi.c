/* Every kind at once, through calloc and realloc (valgrind: 15 allocs, 2 frees, 2,207 bytes). */
#include <stdlib.h>
#include <string.h>
void *g1;
char *g2;
__attribute__((noinline)) void *a1(size_t n) { return malloc(n); }
__attribute__((noinline)) void *a2(size_t n) { return calloc(1, n); }
__attribute__((noinline)) void *a3(size_t n) {
  void *p = malloc(8);
  return realloc(p, n);
}
int main(void) {
  for (int i = 0; i < 5; i++) a1(10);  /* 50 bytes in 5 blocks definitely lost */
  a2(200);                             /* 200 bytes in 1 block definitely lost */
  a3(300);                             /* 300 via realloc */
  g1 = a1(1000);                       /* still reachable */
  g2 = (char *)a2(500) + 100;          /* possibly lost */
  void **arr = a1(3 * sizeof(void *)); /* lost with 3 indirect children */
  for (int i = 0; i < 3; i++) arr[i] = a2(16);
  arr = 0;
  void *f = malloc(77);
  free(f);
  return 0;
}
