// Parsing valgrind's suppression format (following m_errormgr.c's reader: blank and # lines
// skipped, surrounding blanks trimmed) and matching loss records and free errors against it.
#include "suppressions.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "check_error.h"

namespace memkit::check {
namespace {

constexpr std::string_view kMemcheckKinds[] = {
    "Value1", "Value2", "Value4",  "Value8",  "Value16",    "Value32",    "Cond",  "Addr1",
    "Addr2",  "Addr4",  "Addr8",   "Addr16",  "Addr32",     "Jump",       "Param", "User",
    "Free",   "Leak",   "Overlap", "Mempool", "FishyValue", "ReallocZero"};

std::string_view trim(std::string_view text) {
  const auto blank = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return text;
}

// The next line that is neither blank nor a comment, trimmed; its number in `number`.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}

  bool next(std::string_view& line, std::size_t& number) {
    while (position_ < text_.size()) {
      const std::size_t end = text_.find('\n', position_);
      const std::size_t stop = end == std::string_view::npos ? text_.size() : end;
      line = trim(text_.substr(position_, stop - position_));
      position_ = stop + 1;
      ++line_number_;
      if (line.empty() || line.front() == '#') continue;
      number = line_number_;
      return true;
    }
    return false;
  }

 private:
  std::string_view text_;
  std::size_t position_ = 0;
  std::size_t line_number_ = 0;
};

bool is_location_line(std::string_view line) {
  return line.starts_with("fun:") || line.starts_with("obj:") || line.starts_with("src:") ||
         line == "...";
}

}  // namespace

FramePattern parse_frame_pattern(std::string_view line) {
  FramePattern pattern;
  if (line == "...") {
    pattern.type = FramePattern::Type::any_frames;
    return pattern;
  }
  const std::string_view value = line.substr(4);
  if (line.starts_with("fun:")) {
    pattern.type = FramePattern::Type::function;
    pattern.glob = std::string(value);
  } else if (line.starts_with("obj:")) {
    pattern.type = FramePattern::Type::object;
    pattern.glob = std::string(value);
  } else {
    pattern.type = FramePattern::Type::source;
    const std::size_t colon = value.rfind(':');
    pattern.glob = std::string(value.substr(0, colon));
    if (colon != std::string_view::npos) {
      pattern.line = 0;
      for (char c : value.substr(colon + 1)) {
        if (c < '0' || c > '9') {
          pattern.glob = std::string(value);  // not a line number: part of the name
          pattern.line = 0;
          break;
        }
        pattern.line = pattern.line * 10 + static_cast<unsigned>(c - '0');
      }
    }
  }
  return pattern;
}

namespace {

bool tool_listed(std::string_view tools, std::string_view tool) {
  std::size_t start = 0;
  while (start <= tools.size()) {
    const std::size_t comma = tools.find(',', start);
    const std::string_view name = tools.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (name == tool) return true;
    if (comma == std::string_view::npos) return false;
    start = comma + 1;
  }
  return false;
}

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

bool frame_matches(const FramePattern& pattern, const SourceFrame& frame) {
  switch (pattern.type) {
    case FramePattern::Type::function:
      return glob_match(pattern.glob, frame.mangled.empty() ? "???" : frame.mangled) ||
             glob_match(pattern.glob, frame.function);
    case FramePattern::Type::object:
      return glob_match(pattern.glob, frame.object.empty() ? "???" : frame.object);
    case FramePattern::Type::source:
      return glob_match(pattern.glob, frame.file.empty() ? "???" : frame.file) &&
             (pattern.line == 0 || pattern.line == frame.line);
    case FramePattern::Type::any_frames:
      return true;
  }
  return false;
}

bool frames_match_from(const std::vector<FramePattern>& patterns, std::size_t p,
                       const SymbolizedStack& stack, std::size_t s) {
  for (; p < patterns.size(); ++p, ++s) {
    if (patterns[p].type == FramePattern::Type::any_frames) {
      for (std::size_t skip = s; skip <= stack.size(); ++skip) {
        if (frames_match_from(patterns, p + 1, stack, skip)) return true;
      }
      return false;
    }
    if (s >= stack.size() || !frame_matches(patterns[p], stack[s])) return false;
  }
  return true;  // a prefix of the stack matched
}

// LeakSanitizer's template: a substring match unless anchored by ^ or $, with * wildcards.
bool lsan_matches(const std::string& pattern, const SymbolizedStack& stack) {
  std::string_view body = pattern;
  const bool anchored_start = body.starts_with('^');
  if (anchored_start) body.remove_prefix(1);
  const bool anchored_end = body.ends_with('$');
  if (anchored_end) body.remove_suffix(1);
  std::string glob = anchored_start ? "" : "*";
  glob.append(body);
  if (!anchored_end) glob += '*';
  for (const SourceFrame& frame : stack) {
    if (glob_match(glob, frame.function) ||
        (!frame.mangled.empty() && glob_match(glob, frame.mangled)) ||
        (!frame.object.empty() && glob_match(glob, frame.object)) ||
        (!frame.file.empty() && glob_match(glob, frame.file))) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;  // the last * seen, to backtrack to
  std::size_t star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool frames_match(const std::vector<FramePattern>& patterns, const SymbolizedStack& stack) {
  return frames_match_from(patterns, 0, stack, 0);
}

void SuppressionSet::load_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw SuppressionFileError(
        path, 0, std::string("cannot open the suppression file: ") + std::strerror(errno));
  }
  std::ostringstream text;
  text << file.rdbuf();
  parse(text.str(), path);
}

void SuppressionSet::parse(std::string_view text, const std::string& file_name) {
  LineReader reader(text);
  std::string_view line;
  std::size_t number = 0;
  const auto fail = [&](std::size_t at, const std::string& problem) -> void {
    throw SuppressionFileError(file_name, at, problem);
  };
  std::vector<Suppression> parsed;
  while (reader.next(line, number)) {
    if (line.starts_with("leak:")) {
      Suppression lsan;
      lsan.lsan = true;
      lsan.name = std::string(line);
      lsan.file = file_name;
      lsan.line = number;
      lsan.kind = SuppressionKind::leak;
      FramePattern pattern;
      pattern.glob = std::string(trim(line.substr(5)));
      if (pattern.glob.empty()) fail(number, "\"leak:\" needs a pattern");
      lsan.frames.push_back(pattern);
      parsed.push_back(std::move(lsan));
      continue;
    }
    if (line != "{") {
      fail(number, "expected '{' or a \"leak:PATTERN\" line, found " + quoted(line));
    }
    const std::size_t open_line = number;
    const std::string missing_brace =
        "unexpected end of file: the suppression that starts at line " + std::to_string(open_line) +
        " has no '}'";

    Suppression suppression;
    suppression.file = file_name;
    if (!reader.next(line, number)) fail(open_line, missing_brace);
    if (line == "}") fail(number, "unexpected '}': a suppression needs a name first");
    suppression.name = std::string(line);
    suppression.line = number;

    if (!reader.next(line, number)) fail(open_line, missing_brace);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || line == "}") {
      fail(number, "expected \"tool:kind\" (such as Memcheck:Leak), found " + quoted(line));
    }
    const std::string_view tools = line.substr(0, colon);
    const std::string_view kind = line.substr(colon + 1);
    bool is_memcheck = tool_listed(tools, "Memcheck");
    if (is_memcheck) {
      bool known = false;
      for (std::string_view memcheck_kind : kMemcheckKinds) known |= memcheck_kind == kind;
      if (!known) fail(number, "unknown Memcheck suppression kind " + quoted(kind));
      suppression.kind = kind == "Leak"   ? SuppressionKind::leak
                         : kind == "Free" ? SuppressionKind::free
                                          : SuppressionKind::other;
    } else {
      suppression.kind = SuppressionKind::other;  // another tool's: kept out of the way
    }

    bool pending = reader.next(line, number);
    if (!pending) fail(open_line, missing_brace);
    if (is_memcheck && kind == "Param" && !is_location_line(line) && line != "}") {
      pending = reader.next(line, number);  // the syscall parameter's name
      if (!pending) fail(open_line, missing_brace);
    }
    if (line.starts_with("match-leak-kinds:")) {
      if (suppression.kind != SuppressionKind::leak) {
        fail(number, "\"match-leak-kinds:\" only applies to Memcheck:Leak suppressions");
      }
      const std::string_view kinds = trim(line.substr(std::strlen("match-leak-kinds:")));
      const auto parsed_kinds = parse_leak_kinds(kinds);
      if (!parsed_kinds) {
        fail(number,
             "match-leak-kinds: expected all, none or a comma-separated list of "
             "definite, indirect, possible, reachable; found " +
                 quoted(kinds));
      }
      suppression.leak_kinds = *parsed_kinds;
      if (!reader.next(line, number)) fail(open_line, missing_brace);
    }
    while (line != "}") {
      if (!is_memcheck) {
        // valgrind skips the body of another tool's suppression unread.
      } else if (!is_location_line(line)) {
        fail(number,
             "expected \"fun:\", \"obj:\", \"src:\", \"...\" or '}', found " + quoted(line));
      } else {
        suppression.frames.push_back(parse_frame_pattern(line));
      }
      if (!reader.next(line, number)) fail(open_line, missing_brace);
    }
    if (is_memcheck && suppression.frames.empty()) {
      fail(number, "the suppression " + quoted(suppression.name) +
                       " has no frame lines (fun:, obj:, src: or ...)");
    }
    parsed.push_back(std::move(suppression));
  }
  // valgrind prepends each suppression as it reads it: the last one is searched first.
  for (Suppression& suppression : parsed) suppressions_.push_front(std::move(suppression));
}

const Suppression* SuppressionSet::find(SuppressionKind kind, LeakKind leak_kind,
                                        const SymbolizedStack& stack) {
  for (auto it = suppressions_.begin(); it != suppressions_.end(); ++it) {
    if (it->kind != kind) continue;
    if (kind == SuppressionKind::leak && !it->leak_kinds.contains(leak_kind)) continue;
    const bool matched =
        it->lsan ? lsan_matches(it->frames[0].glob, stack) : frames_match(it->frames, stack);
    if (!matched) continue;
    // Move to the front, as valgrind does; -s lists the suppressions in this order.
    suppressions_.splice(suppressions_.begin(), suppressions_, it);
    return &suppressions_.front();
  }
  return nullptr;
}

const Suppression* SuppressionSet::match_leak(LeakKind kind, const SymbolizedStack& stack,
                                              std::uint64_t bytes, std::uint64_t blocks) {
  const Suppression* found = find(SuppressionKind::leak, kind, stack);
  if (found != nullptr) {
    Suppression& used = suppressions_.front();
    ++used.count;
    used.bytes += bytes;
    used.blocks += blocks;
  }
  return found;
}

const Suppression* SuppressionSet::match_free_error(const SymbolizedStack& stack) {
  const Suppression* found = find(SuppressionKind::free, LeakKind::definite, stack);
  if (found != nullptr) ++suppressions_.front().count;
  return found;
}

std::vector<const Suppression*> SuppressionSet::used() const {
  std::vector<const Suppression*> list;
  for (const Suppression& suppression : suppressions_) {
    if (suppression.count > 0) list.push_back(&suppression);
  }
  return list;
}

}  // namespace memkit::check
