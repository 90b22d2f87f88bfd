// memkit/base/error.h — the exceptions memkit throws when a contract is broken.
//
// Every misuse that memkit can detect at run time ends in one of these, with a message that
// names the type, the operation and, where it helps, the place: never undefined behaviour, never
// a silent wrong answer. All derive from memkit::Error, itself a std::logic_error: each one is a
// bug in the calling program, not a condition to expect.
//
//   Error
//   ├── UseAfterMove     a moved-from Box / Rc / Arc was used
//   ├── NullPointer      a null pointer was handed to something that owns or borrows
//   ├── OutOfBounds      an index or slice past the end
//   ├── WrongThread      a single-thread type (Rc, Weak) touched from another thread (debug)
//   ├── Deadlock         a Mutex locked again by the thread that holds it (debug)
//   ├── InvalidFree      a double free, or a pointer freed into an allocator that does not own it
//   ├── UseAfterFree     an allocator, handle or view used after what it refers to was destroyed
//   ├── InvalidCheckpoint  an arena rewound to a checkpoint it cannot return to
//   ├── GcUsageError     a GC type or heap used against the collector's rules
//   ├── GcVerificationError  the heap verifier found a Member pointing at a dead object
//   └── BorrowConflict   a RefCell borrow that would break "one writer or many readers"
//       ├── BorrowError      borrow() while mutably borrowed
//       └── BorrowMutError   borrow_mut() while borrowed at all
//
// AllocError is the one exception that is not a memkit::Error: an allocation that cannot be
// satisfied (a size that overflows, an alignment that is not a power of two, an exhausted
// fixed-capacity arena, a pointer freed into a pool that does not own it) derives from
// std::bad_alloc, so code that already handles out-of-memory — and every std container — handles
// it too. Its message names the allocator, the operation, the size and the alignment.
//
// InspectError (a std::runtime_error) and its subclasses ProcReadError, MapParseError and
// DebugInfoError report what memkit's inspection tools could not read: an exited process, another
// user's process, a malformed map, a binary without debug information.
//
// The throwing helpers in detail:: are out of line and cold, so a check costs one compare and
// one never-taken branch at the call site.
#ifndef MEMKIT_BASE_ERROR_H_
#define MEMKIT_BASE_ERROR_H_

#include <cstddef>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include "memkit/base/source_location.h"
#include "memkit/export.h"

namespace memkit {

class MEMKIT_EXPORT Error : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// UseAfterMove — an owning handle whose value was moved out (or leaked, or released with
// into_raw) was used. type() is the handle's type, e.g. "memkit::Box<Node>".
class MEMKIT_EXPORT UseAfterMove : public Error {
 public:
  UseAfterMove(std::string_view type, std::string_view operation);
  const std::string& type() const noexcept { return type_; }
  const std::string& operation() const noexcept { return operation_; }

 private:
  std::string type_;
  std::string operation_;
};

class MEMKIT_EXPORT NullPointer : public Error {
 public:
  NullPointer(std::string_view type, std::string_view operation);
};

// "operator* on an empty memkit::OptionBox<Node> (it holds no value: test it, or use get(),
// which returns null)" — a value was asked of an optional owner that holds none.
class MEMKIT_EXPORT EmptyOption : public Error {
 public:
  EmptyOption(std::string_view type, std::string_view operation);
};

class MEMKIT_EXPORT OutOfBounds : public Error {
 public:
  OutOfBounds(std::string_view type, std::string_view operation, std::size_t index,
              std::size_t size);
  std::size_t index() const noexcept { return index_; }
  std::size_t size() const noexcept { return size_; }

 private:
  std::size_t index_;
  std::size_t size_;
};

class MEMKIT_EXPORT WrongThread : public Error {
 public:
  WrongThread(std::string_view type, std::string_view operation, std::thread::id owner);
};

class MEMKIT_EXPORT Deadlock : public Error {
 public:
  Deadlock(std::string_view type, std::string_view operation);
};

// What a RefCell knows when a borrow is refused. `borrows` is the cell's counter: n > 0 shared
// borrows, -1 one mutable borrow. `held_at` is where the earliest outstanding borrow was taken,
// or null when the cell does not record it (release builds).
struct BorrowConflictInfo {
  std::string_view type;
  std::string_view operation;
  std::intptr_t borrows;
  SourceLocation requested_at;
  const SourceLocation* held_at;
};

class MEMKIT_EXPORT BorrowConflict : public Error {
 public:
  explicit BorrowConflict(const BorrowConflictInfo& info);
  // Outstanding borrows when the request was refused: n > 0 shared, -1 mutable.
  std::intptr_t outstanding_borrows() const noexcept { return borrows_; }

 private:
  std::intptr_t borrows_;
};

// borrow() refused: the cell is mutably borrowed.
class MEMKIT_EXPORT BorrowError : public BorrowConflict {
 public:
  using BorrowConflict::BorrowConflict;
};

// borrow_mut() (or replace, take, swap) refused: the cell is borrowed.
class MEMKIT_EXPORT BorrowMutError : public BorrowConflict {
 public:
  using BorrowConflict::BorrowConflict;
};

// "memkit::Pool<Node>: free(0x5581a2c0) failed: double free (the slot is already free)"
class MEMKIT_EXPORT InvalidFree : public Error {
 public:
  InvalidFree(std::string_view allocator, std::string_view operation, const void* address,
              std::string_view reason);
  const void* address() const noexcept { return address_; }

 private:
  const void* address_;
};

// "memkit::ArenaAllocator<int>: allocate() on a memkit::Arena that was destroyed"
class MEMKIT_EXPORT UseAfterFree : public Error {
 public:
  UseAfterFree(std::string_view type, std::string_view operation, std::string_view what);
};

// "memkit::Arena: rewind() to a checkpoint taken before the last reset()"
class MEMKIT_EXPORT InvalidCheckpoint : public Error {
 public:
  InvalidCheckpoint(std::string_view allocator, std::string_view operation,
                    std::string_view reason);
};

// "memkit::Arena: allocate(size 64, align 3) failed: alignment is not a power of two"
class MEMKIT_EXPORT AllocError : public std::bad_alloc {
 public:
  AllocError(std::string_view allocator, std::string_view operation, std::size_t size,
             std::size_t alignment, std::string_view reason);
  const char* what() const noexcept override { return message_.c_str(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t alignment() const noexcept { return alignment_; }

 private:
  std::string message_;
  std::size_t size_;
  std::size_t alignment_;
};

// InspectError — memkit could not read or understand a process's memory map or a binary's debug
// information (memkit/inspect/). Like AllocError it is not a memkit::Error: a process that has
// exited, another user's process or a binary built without -g is a condition to expect, not a bug
// in the calling program. Its subclasses say which kind of trouble it was.
class MEMKIT_EXPORT InspectError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "memkit::inspect: cannot read /proc/4242/smaps: No such file or directory (the process has
// exited, or never existed)". error_number() is the errno of the failed call.
class MEMKIT_EXPORT ProcReadError : public InspectError {
 public:
  ProcReadError(std::string_view path, int error_number);
  const std::string& path() const noexcept { return path_; }
  int error_number() const noexcept { return error_number_; }

 private:
  std::string path_;
  int error_number_;
};

// "memkit::inspect: maps.txt:3: malformed line \"00400000 r-xp\": expected START-END"
class MEMKIT_EXPORT MapParseError : public InspectError {
 public:
  MapParseError(std::string_view source, std::size_t line, std::string_view text,
                std::string_view problem);
  std::size_t line() const noexcept { return line_; }

 private:
  std::size_t line_;
};

// "memkit layout: /usr/bin/ls has no DWARF debug information (compile it with -g)"
class MEMKIT_EXPORT DebugInfoError : public InspectError {
 public:
  DebugInfoError(std::string_view binary, std::string_view problem);
};

// "memkit::leakcheck::check(): memkit's leak-check runtime is not loaded in this process; run the
// program under `memkit check -- PROGRAM`" — the in-process leak check (memkit/leakcheck.h) was
// asked for, but the runtime it needs is not there, or it refused (reason() says why). Like
// InspectError a condition to expect, not a bug in the caller: a std::runtime_error.
class MEMKIT_EXPORT LeakCheckUnavailable : public std::runtime_error {
 public:
  LeakCheckUnavailable(std::string_view operation, std::string_view reason);
};

// "memkit::gc::Stress: parse(\"every:0\") failed: N must be at least 1 (...)" — a GC heap was
// given a setting, a value or a type it cannot work with.
class MEMKIT_EXPORT GcUsageError : public Error {
 public:
  GcUsageError(std::string_view type, std::string_view operation, std::string_view reason);
};

// "memkit::gc::Heap: heap verification failed after marking (1 problem):\n  ..." — the GC heap's
// verifier found a live object whose Member leads to a dead object. problems() counts them.
class MEMKIT_EXPORT GcVerificationError : public Error {
 public:
  GcVerificationError(std::size_t problems, std::string_view report);
  std::size_t problems() const noexcept { return problems_; }

 private:
  std::size_t problems_;
};

namespace detail {

[[noreturn, gnu::cold]] MEMKIT_EXPORT void throw_alloc_error(std::string_view allocator,
                                                             std::string_view operation,
                                                             std::size_t size,
                                                             std::size_t alignment,
                                                             std::string_view reason);
[[noreturn, gnu::cold]] MEMKIT_EXPORT void throw_invalid_free(std::string_view allocator,
                                                              std::string_view operation,
                                                              const void* address,
                                                              std::string_view reason);
[[noreturn, gnu::cold]] MEMKIT_EXPORT void throw_use_after_free(std::string_view type,
                                                                std::string_view operation,
                                                                std::string_view what);
[[noreturn, gnu::cold]] MEMKIT_EXPORT void throw_invalid_checkpoint(std::string_view allocator,
                                                                    std::string_view operation,
                                                                    std::string_view reason);
[[noreturn, gnu::cold]] MEMKIT_EXPORT void throw_use_after_move(std::string_view type,
                                                                std::string_view operation);
[[noreturn, gnu::cold]] MEMKIT_EXPORT void throw_null_pointer(std::string_view type,
                                                              std::string_view operation);
[[noreturn, gnu::cold]] MEMKIT_EXPORT void throw_empty_option(std::string_view type,
                                                              std::string_view operation);
[[noreturn, gnu::cold]] MEMKIT_EXPORT void throw_out_of_bounds(std::string_view type,
                                                               std::string_view operation,
                                                               std::size_t index, std::size_t size);
[[noreturn, gnu::cold]] MEMKIT_EXPORT void throw_wrong_thread(std::string_view type,
                                                              std::string_view operation,
                                                              std::thread::id owner);
[[noreturn, gnu::cold]] MEMKIT_EXPORT void throw_deadlock(std::string_view type,
                                                          std::string_view operation);
[[noreturn, gnu::cold]] MEMKIT_EXPORT void throw_borrow_error(const BorrowConflictInfo& info);
[[noreturn, gnu::cold]] MEMKIT_EXPORT void throw_borrow_mut_error(const BorrowConflictInfo& info);

// For checks that fire where throwing is impossible (destructors): prints
// "memkit: fatal: <message>" to stderr with write(2), then aborts.
[[noreturn, gnu::cold]] MEMKIT_EXPORT void fatal(std::string_view message) noexcept;
[[noreturn, gnu::cold]] MEMKIT_EXPORT void fatal_wrong_thread(std::string_view type,
                                                              std::string_view operation,
                                                              std::thread::id owner) noexcept;
[[noreturn, gnu::cold]] MEMKIT_EXPORT void throw_gc_usage_error(std::string_view type,
                                                                std::string_view operation,
                                                                std::string_view reason);

}  // namespace detail
}  // namespace memkit

#endif  // MEMKIT_BASE_ERROR_H_
