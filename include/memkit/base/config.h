// memkit/base/config.h — the check level and compiler portability macros.
//
// Checks have two levels, tied to one switch (as mimalloc's mi_assert levels are):
//   * public contracts (use of a moved-from Box, a borrow conflict, an index out of bounds) are
//     always checked: they are part of the API and cost one predictable branch;
//   * debug checks (which thread touches an Rc, where a conflicting borrow was taken) are on when
//     MEMKIT_DEBUG is 1. By default MEMKIT_DEBUG follows NDEBUG.
//
// MEMKIT_DEBUG changes the layout of Rc and RefCell, so every translation unit of one program must
// see the same value (as with _GLIBCXX_DEBUG).
#ifndef MEMKIT_BASE_CONFIG_H_
#define MEMKIT_BASE_CONFIG_H_

#ifndef MEMKIT_DEBUG
#ifdef NDEBUG
#define MEMKIT_DEBUG 0
#else
#define MEMKIT_DEBUG 1
#endif
#endif

// Marks the slow path of a check: kept out of line so the fast path stays small.
#define MEMKIT_COLD [[gnu::cold, gnu::noinline]]

#define MEMKIT_LIKELY(x) __builtin_expect(!!(x), 1)
#define MEMKIT_UNLIKELY(x) __builtin_expect(!!(x), 0)

#endif  // MEMKIT_BASE_CONFIG_H_
