/* No leak: valgrind says "All heap blocks were freed -- no leaks are possible". */
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  void *p = malloc(100);
  free(p);
  printf("no leaks\n");
  return 0;
}
