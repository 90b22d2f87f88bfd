/* maps_target — a process for the `memkit maps` tests to look at.
 *
 *   maps_target idle THREADS MAPPINGS   start THREADS threads (each waits in a system call) and
 *                                       make MAPPINGS distinct anonymous 8 KiB mappings, print
 *                                       "ready" and wait for a signal
 *   maps_target exit CODE THREADS       the same threads, then exit(CODE)
 *   maps_target _exit CODE              _exit(CODE): no destructors run
 *
 * Plain C without sanitizers: it is preloaded with memkit's snapshot library, and it is also
 * built statically (maps_target_static), where nothing is shared with other processes and PSS
 * equals RSS exactly. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void* wait_forever(void* arg) {
  (void)arg;
  pthread_mutex_lock(&mutex);
  for (;;) pthread_cond_wait(&never, &mutex);
  return NULL;
}

static int start_threads(int count) {
  for (int i = 0; i < count; ++i) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, wait_forever, NULL) != 0) return -1;
  }
  return 0;
}

/* Alternating protections so the kernel cannot merge neighbours (one VMA each). */
static int make_mappings(int count) {
  for (int i = 0; i < count; ++i) {
    char* p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return -1;
    p[0] = 1;
    if (mprotect(p, 8192, (i & 1) ? PROT_READ : (PROT_READ | PROT_WRITE)) != 0) return -1;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 4 && strcmp(argv[1], "idle") == 0) {
    if (start_threads(atoi(argv[2])) != 0 || make_mappings(atoi(argv[3])) != 0) return 2;
    usleep(10000); /* let the threads reach their wait */
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
  }
  if (argc == 4 && strcmp(argv[1], "exit") == 0) {
    if (start_threads(atoi(argv[3])) != 0) return 2;
    usleep(10000);
    exit(atoi(argv[2]));
  }
  if (argc == 3 && strcmp(argv[1], "_exit") == 0) _exit(atoi(argv[2]));
  fprintf(stderr, "usage: maps_target idle THREADS MAPPINGS | exit CODE THREADS | _exit CODE\n");
  return 64;
}
