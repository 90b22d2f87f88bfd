#include "stack.h"

#include <stdio.h>
#include <stdlib.h>

struct Stack {
  int *items;
  size_t size;
  size_t capacity;
};

static void *checked(void *p) {
  if (p == NULL) {
    fputs("stack: out of memory\n", stderr);
    exit(1);
  }
  return p;
}

Stack *stack_create(size_t initial_capacity) {
  Stack *stack = checked(malloc(sizeof *stack));
  stack->capacity = initial_capacity > 0 ? initial_capacity : 1;
  stack->items = checked(malloc(stack->capacity * sizeof *stack->items));
  stack->size = 0;
  return stack;
}

void stack_push(Stack *stack, int value) {
  if (stack->size == stack->capacity) {
    stack->capacity *= 2;
    stack->items = checked(realloc(stack->items, stack->capacity * sizeof *stack->items));
  }
  stack->items[stack->size++] = value;
}

int stack_pop(Stack *stack) { return stack->items[--stack->size]; }

size_t stack_size(const Stack *stack) { return stack->size; }

void stack_destroy(Stack *stack) {
  free(stack->items);
  free(stack);
}
