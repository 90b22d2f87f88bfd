/* Dies of SIGSEGV after leaking: memkit check must pass the death on as 128+11 and say so. */
#include <signal.h>
#include <stdlib.h>
int main(void) {
  void *volatile lost = malloc(10);
  (void)lost;
  raise(SIGSEGV);
  return 0;
}
