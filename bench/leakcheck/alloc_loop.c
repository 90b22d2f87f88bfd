/* alloc_loop — the allocation-heavy benchmark of research §8.1: N malloc/free pairs of mixed sizes
 * (16..271 bytes), each reached through a 6-deep call chain so that stack capture has real work.
 * With KEEP > 0, every (N / KEEP)-th block is kept in a global array instead of freed: KEEP live
 * (still reachable) blocks at exit, from one allocation stack.
 *
 *   alloc_loop [N [KEEP]]        defaults: N = 10,000,000, KEEP = 0
 *
 * Build it twice, `-O2 -g` and `-O2 -g -fno-omit-frame-pointer`, and compare the native run with
 * `LD_PRELOAD=.../libmemkit_check.so` (see README.md next to this file). */
#include <stdio.h>
#include <stdlib.h>

void *volatile sink;
static void **kept;
static long keep_every;
static long kept_count;

#define NI __attribute__((noinline))
NI static void f6(long i) {
  void *p = malloc(16 + (i & 255));
  sink = p;
  if (keep_every != 0 && i % keep_every == 0) {
    kept[kept_count++] = p;
  } else {
    free(p);
  }
}
NI static void f5(long i) {
  f6(i);
  __asm__ volatile("" ::: "memory");
}
NI static void f4(long i) {
  f5(i);
  __asm__ volatile("" ::: "memory");
}
NI static void f3(long i) {
  f4(i);
  __asm__ volatile("" ::: "memory");
}
NI static void f2(long i) {
  f3(i);
  __asm__ volatile("" ::: "memory");
}
NI static void f1(long i) {
  f2(i);
  __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv) {
  const long n = argc > 1 ? atol(argv[1]) : 10000000;
  const long keep = argc > 2 ? atol(argv[2]) : 0;
  if (n <= 0 || keep < 0 || keep > n) {
    fprintf(stderr, "usage: alloc_loop [N [KEEP]] with N > 0 and 0 <= KEEP <= N\n");
    return 2;
  }
  if (keep > 0) {
    keep_every = n / keep;
    kept = calloc((size_t)keep + 1, sizeof *kept);
    if (kept == NULL) {
      return 1;
    }
  }
  for (long i = 0; i < n; i++) f1(i);
  printf("done %ld, kept %ld\n", n, kept_count);
  return 0;
}
