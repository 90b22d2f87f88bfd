// suppressions.h — valgrind's suppression files, applied as memcheck applies them.
//
//   {
//      name                              any text; the line number of this line names it in -s
//      Memcheck:Leak                     or Memcheck:Free (invalid/mismatched frees); other
//                                        Memcheck kinds and other tools parse but never match
//      match-leak-kinds: definite        optional, Leak only: kinds, all or none; absent = all
//      fun:malloc                        fun:GLOB (mangled or demangled), obj:GLOB (object path),
//      ...                               src:GLOB[:LINE] (source basename); ... = any frames
//   }
//
// Matching is per loss record, from frame 0 (the allocation function), as a prefix of the stack.
// The list is searched in valgrind's order — the last suppression loaded first, and each match
// moved to the front — which decides which of two matching suppressions gets the credit in -s.
// LeakSanitizer's `leak:PATTERN` lines are accepted too: PATTERN (with *, ^ and $) matches when
// any frame's function, object or source file contains it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <vector>

#include "check_options.h"
#include "symbolizer.h"

namespace memkit::check {

enum class SuppressionKind : std::uint8_t { leak, free, other };

struct FramePattern {
  enum class Type : std::uint8_t { function, object, source, any_frames };
  Type type = Type::function;
  std::string glob;   // empty for any_frames
  unsigned line = 0;  // src:FILE:LINE; 0 = any line
};

struct Suppression {
  std::string name;
  std::string file;
  std::size_t line = 0;  // of the name (valgrind's sname_lineno)
  SuppressionKind kind = SuppressionKind::leak;
  LeakKindSet leak_kinds = LeakKindSet::all();
  std::vector<FramePattern> frames;
  bool lsan = false;  // a `leak:PATTERN` line; the pattern is frames[0].glob
  // Use, for -s: records or error contexts matched, and (leaks) their bytes incl. indirect.
  std::uint64_t count = 0;
  std::uint64_t bytes = 0;
  std::uint64_t blocks = 0;
};

class SuppressionSet {
 public:
  // Throws SuppressionFileError (with the line) for a file valgrind would refuse.
  void load_file(const std::string& path);
  // `file_name` is how -s and errors name the file.
  void parse(std::string_view text, const std::string& file_name);

  // The suppression a loss record matches, its use counted; nullptr if none.
  const Suppression* match_leak(LeakKind kind, const SymbolizedStack& stack, std::uint64_t bytes,
                                std::uint64_t blocks);
  // The suppression an invalid or mismatched free matches (by the stack of the free call).
  const Suppression* match_free_error(const SymbolizedStack& stack);

  // The suppressions used at least once, in the order valgrind lists them.
  std::vector<const Suppression*> used() const;
  std::size_t size() const noexcept { return suppressions_.size(); }

 private:
  const Suppression* find(SuppressionKind kind, LeakKind leak_kind, const SymbolizedStack& stack);
  std::list<Suppression> suppressions_;  // search order
};

// valgrind's wildcards: * (any run of characters) and ? (one character).
bool glob_match(std::string_view pattern, std::string_view text);

// One location line: "fun:GLOB", "obj:GLOB", "src:GLOB[:LINE]" or "...". The caller has checked
// the prefix.
FramePattern parse_frame_pattern(std::string_view line);

// Whether `patterns` match a prefix of `stack` (with ... matching any run of frames).
bool frames_match(const std::vector<FramePattern>& patterns, const SymbolizedStack& stack);

}  // namespace memkit::check
