// Messages of memkit's exceptions. Built here, out of line, so the checks in the headers stay a
// compare and a branch.
#include "memkit/base/error.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace memkit {
namespace {

std::string concat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) out += part;
  return out;
}

std::string describe_thread(std::thread::id id) {
  std::ostringstream out;
  out << id;
  return out.str();
}

std::string describe_address(const void* address) {
  std::ostringstream out;
  out << address;
  return out.str();
}

// What to do instead depends on what was shared: a GC heap stays with its thread, while an Rc
// has a thread-safe counterpart.
std::string_view wrong_thread_advice(std::string_view type) {
  if (type.starts_with("memkit::gc::")) {
    return " (a GC heap and its handles belong to the thread that created the heap; give each "
           "thread its own heap)";
  }
  return " (it is not thread-safe; share an Arc across threads instead)";
}

std::string_view base_name(std::string_view path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// "game.cpp:42 in play()"
std::string describe_site(const SourceLocation& site) {
  return concat(
      {base_name(site.file), ":", std::to_string(site.line), " in ", site.function, "()"});
}

std::string describe_borrows(std::intptr_t borrows) {
  if (borrows < 0) return "1 mutable borrow outstanding";
  return concat({std::to_string(borrows), borrows == 1 ? " shared borrow" : " shared borrows",
                 " outstanding"});
}

std::string borrow_message(const BorrowConflictInfo& info) {
  const bool mutably_borrowed = info.borrows < 0;
  std::string message =
      concat({info.type, ": ", info.operation, " at ", describe_site(info.requested_at),
              " failed: already ", mutably_borrowed ? "mutably borrowed" : "borrowed", " (",
              describe_borrows(info.borrows), ")"});
  if (info.held_at != nullptr) {
    message += concat({"\n  the conflicting ", mutably_borrowed ? "mutable borrow" : "borrow",
                       " was taken at ", describe_site(*info.held_at)});
  } else {
    message += "\n  (build with MEMKIT_DEBUG=1 to see where the conflicting borrow was taken)";
  }
  return message;
}

}  // namespace

UseAfterMove::UseAfterMove(std::string_view type, std::string_view operation)
    : Error(concat({"use after move: ", operation, " on an empty ", type,
                    " (its value was moved out, leaked or released with into_raw)"})),
      type_(type),
      operation_(operation) {}

NullPointer::NullPointer(std::string_view type, std::string_view operation)
    : Error(concat({type, ": ", operation, " was given a null pointer"})) {}

EmptyOption::EmptyOption(std::string_view type, std::string_view operation)
    : Error(concat({operation, " on an empty ", type,
                    " (it holds no value: test it, or use get(), which returns null)"})) {}

OutOfBounds::OutOfBounds(std::string_view type, std::string_view operation, std::size_t index,
                         std::size_t size)
    : Error(concat({type, ": ", operation, " index ", std::to_string(index),
                    " is out of bounds for size ", std::to_string(size)})),
      index_(index),
      size_(size) {}

InvalidFree::InvalidFree(std::string_view allocator, std::string_view operation,
                         const void* address, std::string_view reason)
    : Error(concat(
          {allocator, ": ", operation, "(", describe_address(address), ") failed: ", reason})),
      address_(address) {}

UseAfterFree::UseAfterFree(std::string_view type, std::string_view operation, std::string_view what)
    : Error(concat({type, ": ", operation, " on ", what})) {}

InvalidCheckpoint::InvalidCheckpoint(std::string_view allocator, std::string_view operation,
                                     std::string_view reason)
    : Error(concat({allocator, ": ", operation, " to ", reason})) {}

AllocError::AllocError(std::string_view allocator, std::string_view operation, std::size_t size,
                       std::size_t alignment, std::string_view reason)
    : message_(concat({allocator, ": ", operation, "(size ", std::to_string(size), ", align ",
                       std::to_string(alignment), ") failed: ", reason})),
      size_(size),
      alignment_(alignment) {}

WrongThread::WrongThread(std::string_view type, std::string_view operation, std::thread::id owner)
    : Error(concat({type, ": ", operation, " on thread ",
                    describe_thread(std::this_thread::get_id()), ", but it belongs to thread ",
                    describe_thread(owner), wrong_thread_advice(type)})) {}

Deadlock::Deadlock(std::string_view type, std::string_view operation)
    : Error(
          concat({type, ": ", operation, " on thread ", describe_thread(std::this_thread::get_id()),
                  ", which already holds the lock (it would wait for itself forever)"})) {}

BorrowConflict::BorrowConflict(const BorrowConflictInfo& info)
    : Error(borrow_message(info)), borrows_(info.borrows) {}

namespace {

// Why a /proc read failed, in the words a user needs.
std::string explain_proc_errno(int error_number) {
  std::string text = std::strerror(error_number);
  switch (error_number) {
    case ENOENT:
    case ESRCH:
      text += " (the process has exited, or never existed)";
      break;
    case EACCES:
    case EPERM:
      text += " (the process belongs to another user: run as that user or as root)";
      break;
    default:
      break;
  }
  return text;
}

}  // namespace

ProcReadError::ProcReadError(std::string_view path, int error_number)
    : InspectError(
          concat({"memkit::inspect: cannot read ", path, ": ", explain_proc_errno(error_number)})),
      path_(path),
      error_number_(error_number) {}

MapParseError::MapParseError(std::string_view source, std::size_t line, std::string_view text,
                             std::string_view problem)
    : InspectError(concat({"memkit::inspect: ", source, ":", std::to_string(line),
                           ": malformed line \"", text, "\": ", problem})),
      line_(line) {}

DebugInfoError::DebugInfoError(std::string_view binary, std::string_view problem)
    : InspectError(concat({"memkit layout: ", binary, " ", problem})) {}

LeakCheckUnavailable::LeakCheckUnavailable(std::string_view operation, std::string_view reason)
    : std::runtime_error(concat({"memkit::leakcheck::", operation, ": ", reason})) {}

GcUsageError::GcUsageError(std::string_view type, std::string_view operation,
                           std::string_view reason)
    : Error(concat({type, ": ", operation, " failed: ", reason})) {}

GcVerificationError::GcVerificationError(std::size_t problems, std::string_view report)
    : Error(concat({"memkit::gc::Heap: heap verification failed after marking (",
                    std::to_string(problems), problems == 1 ? " problem" : " problems", "):\n",
                    report})),
      problems_(problems) {}

namespace detail {

void throw_use_after_move(std::string_view type, std::string_view operation) {
  throw UseAfterMove(type, operation);
}

void throw_null_pointer(std::string_view type, std::string_view operation) {
  throw NullPointer(type, operation);
}

void throw_empty_option(std::string_view type, std::string_view operation) {
  throw EmptyOption(type, operation);
}

void throw_invalid_free(std::string_view allocator, std::string_view operation, const void* address,
                        std::string_view reason) {
  throw InvalidFree(allocator, operation, address, reason);
}

void throw_use_after_free(std::string_view type, std::string_view operation,
                          std::string_view what) {
  throw UseAfterFree(type, operation, what);
}

void throw_invalid_checkpoint(std::string_view allocator, std::string_view operation,
                              std::string_view reason) {
  throw InvalidCheckpoint(allocator, operation, reason);
}

void throw_alloc_error(std::string_view allocator, std::string_view operation, std::size_t size,
                       std::size_t alignment, std::string_view reason) {
  throw AllocError(allocator, operation, size, alignment, reason);
}

void throw_out_of_bounds(std::string_view type, std::string_view operation, std::size_t index,
                         std::size_t size) {
  throw OutOfBounds(type, operation, index, size);
}

void throw_wrong_thread(std::string_view type, std::string_view operation, std::thread::id owner) {
  throw WrongThread(type, operation, owner);
}

void throw_deadlock(std::string_view type, std::string_view operation) {
  throw Deadlock(type, operation);
}

void throw_borrow_error(const BorrowConflictInfo& info) { throw BorrowError(info); }

void throw_borrow_mut_error(const BorrowConflictInfo& info) { throw BorrowMutError(info); }

void fatal(std::string_view message) noexcept {
  constexpr std::string_view prefix = "memkit: fatal: ";
  // write(2), not iostreams: this runs in destructors and may run while the heap is broken.
  (void)!::write(STDERR_FILENO, prefix.data(), prefix.size());
  (void)!::write(STDERR_FILENO, message.data(), message.size());
  (void)!::write(STDERR_FILENO, "\n", 1);
  std::abort();
}

void throw_gc_usage_error(std::string_view type, std::string_view operation,
                          std::string_view reason) {
  throw GcUsageError(type, operation, reason);
}

void fatal_wrong_thread(std::string_view type, std::string_view operation,
                        std::thread::id owner) noexcept {
  fatal(WrongThread(type, operation, owner).what());
}

}  // namespace detail
}  // namespace memkit
