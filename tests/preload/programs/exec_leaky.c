/* Leaks, then execs the program named in argv[1] (its own leaks are the exec'd image's). */
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  void *volatile lost = malloc(11);
  (void)lost;
  if (argc > 1) execv(argv[1], argv + 1);
  return 1;
}
