/* Reverses a few words' lengths with a Stack, and destroys it. */
#include <stdio.h>
#include <string.h>

#include "stack.h"

static int sum_reversed(const char *const *words, size_t count) {
  Stack *stack = stack_create(2);
  for (size_t i = 0; i < count; ++i) stack_push(stack, (int)strlen(words[i]));
  int weighted = 0;
  for (int position = 1; stack_size(stack) > 0; ++position) weighted += position * stack_pop(stack);
  stack_destroy(stack);
  return weighted;
}

int main(void) {
  const char *words[] = {"memory", "is", "managed", "by", "ownership", "or", "tracing"};
  printf("weighted sum: %d\n", sum_reversed(words, sizeof words / sizeof *words));
  return 0;
}
