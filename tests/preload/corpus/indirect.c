/* A lost 3-node list: the head is definitely lost, the two nodes it holds indirectly lost. */
#include <stdlib.h>
struct node {
  struct node *next;
  char pad[24];
};
struct node *mk(int n) {
  struct node *h = 0;
  for (int i = 0; i < n; i++) {
    struct node *x = malloc(sizeof *x);
    x->next = h;
    h = x;
  }
  return h;
}
int main(void) {
  struct node *h = mk(3);
  h = 0;
  (void)h;
  return 0;
}
