/* stack.h — a growable stack of ints in C: the kind of small library whose users must remember
 * to call stack_destroy(). The tour checks a program that forgets, then the fixed one. */
#ifndef MEMKIT_EXAMPLES_CHECK_STACK_H
#define MEMKIT_EXAMPLES_CHECK_STACK_H

#include <stddef.h>

typedef struct Stack Stack;

Stack *stack_create(size_t initial_capacity);
void stack_push(Stack *stack, int value);
int stack_pop(Stack *stack);
size_t stack_size(const Stack *stack);
void stack_destroy(Stack *stack);

#endif
