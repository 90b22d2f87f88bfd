/* Leaks in threads (all joined before exit): each worker loses one block, keeps one in a global
 * table, and frees a realloc'd one. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#define WORKERS 4
void *kept[WORKERS];
static void *work(void *arg) {
  long i = (long)arg;
  void *lost = malloc(100 + (size_t)i);
  memset(lost, 1, 8);
  lost = 0;
  kept[i] = malloc(50);
  char *grow = malloc(10);
  for (int k = 0; k < 5; k++) grow = realloc(grow, 20 + 10 * (size_t)k);
  free(grow);
  return 0;
}
int main(void) {
  pthread_t t[WORKERS];
  for (long i = 0; i < WORKERS; i++) pthread_create(&t[i], 0, work, (void *)i);
  for (int i = 0; i < WORKERS; i++) pthread_join(t[i], 0);
  return 0;
}
