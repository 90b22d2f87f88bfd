/* A million allocations: most are freed, every 1000th is kept in a reachable list, every 5000th
 * lost. */
#include <stdlib.h>
struct node {
  struct node *next;
  long payload[3];
};
struct node *kept;
int main(void) {
  for (long i = 0; i < 1000000; i++) {
    struct node *n = malloc(sizeof *n + (size_t)(i % 64));
    if (i % 1000 == 0) {
      n->next = kept;
      kept = n;
    } else if (i % 5000 == 1) {
      n->next = 0;
    } else
      free(n);
  }
  return 0;
}
