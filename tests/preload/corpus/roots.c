/* A live thread at exit: its stack and TLS are roots (valgrind: its blocks are still reachable,
 * glibc's DTV for it is "possibly lost"); and a root in memory the program mapped itself. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
static __thread void *tls_ptr;
static pthread_barrier_t bar;
static void *thr(void *arg) {
  (void)arg;
  tls_ptr = malloc(111);
  void *volatile local = malloc(222);
  pthread_barrier_wait(&bar); /* main exits while this thread is parked */
  for (;;) pause();
  return local;
}
int main(void) {
  void **m = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 1;
  m[10] = malloc(333);
  pthread_barrier_init(&bar, 0, 2);
  pthread_t t;
  pthread_create(&t, 0, thr, 0);
  pthread_barrier_wait(&bar);
  exit(0);
}
