/* bigheap.c — the exit scan's benchmark (research §8.3): N live blocks at exit, a reachable
 * linked list plus N/10 leaked blocks that each hold a child, 1.1 M blocks for N = 1,000,000. */
#include <stdio.h>
#include <stdlib.h>

struct n {
  struct n *next;
  struct n *child;
  char pad[48];
};
struct n *head;

int main(int argc, char **argv) {
  long count = argc > 1 ? atol(argv[1]) : 1000000;
  for (long i = 0; i < count; i++) {
    struct n *x = malloc(sizeof *x);
    x->next = head;
    x->child = 0;
    head = x;
  }
  for (long i = 0; i < count / 10; i++) {
    struct n *x = malloc(sizeof *x);
    x->child = malloc(sizeof *x);
    x->child->child = 0;
    x->next = 0;
  }
  printf("done %ld\n", count);
  return 0;
}
