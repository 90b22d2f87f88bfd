/* fork without exec: every process reports with its own pid and the counters it inherited. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
  void *keep = malloc(10);
  (void)keep;
  pid_t p = fork();
  if (p == 0) {
    malloc(20);
    _exit(0);
  } /* child leaks 20, _exit: no atexit */
  if (fork() == 0) {
    malloc(30);
    exit(0);
  } /* second child leaks 30 via exit() */
  wait(0);
  wait(0);
  malloc(40);
  return 0;
}
