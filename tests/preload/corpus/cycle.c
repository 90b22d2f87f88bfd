/* A lost cycle of two blocks: the lower-addressed one leads (definitely), the other is indirect. */
#include <stdlib.h>
struct n {
  struct n *o;
  long v;
};
int main(void) {
  struct n *a = malloc(sizeof *a), *b = malloc(sizeof *b);
  a->o = b;
  b->o = a;
  a = b = 0;
  return 0;
}
