// The smaps/maps scanner. A mapping line is
//
//   START-END PERMS OFFSET MAJOR:MINOR INODE [padding] [PATH[ (deleted)]]
//
// in lower-case hex except INODE (decimal); PATH runs to the end of the line and may contain
// spaces (the kernel escapes only '\n', as "\012"). A counter line is "Name:  value [kB]", and
// "VmFlags: rd wr ..." closes each smaps entry. Counters arrive in the kernel's order, so the
// field lookup tries the one after the previous field first.
#include "smaps_parser.h"

#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <utility>

#include "memkit/base/error.h"

namespace memkit::inspect::detail {
namespace {

constexpr std::string_view kDeletedSuffix = " (deleted)";

class LineScanner {
 public:
  LineScanner(std::string_view line, std::string_view source, std::size_t line_number)
      : line_(line), source_(source), line_number_(line_number) {}

  [[noreturn]] void fail(std::string_view problem) const {
    throw MapParseError(source_, line_number_, line_, problem);
  }

  bool at_end() const noexcept { return pos_ >= line_.size(); }
  char peek() const noexcept { return at_end() ? '\0' : line_[pos_]; }

  void expect(char c, std::string_view problem) {
    if (peek() != c) fail(problem);
    ++pos_;
  }

  std::uint64_t hex(std::string_view problem) {
    std::uint64_t value = 0;
    std::size_t digits = 0;
    while (!at_end()) {
      const char c = line_[pos_];
      unsigned digit = 0;
      if (c >= '0' && c <= '9') {
        digit = static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<unsigned>(c - 'A' + 10);
      } else {
        break;
      }
      if (digits == 16) fail("hexadecimal number longer than 64 bits");
      value = value << 4 | digit;
      ++digits;
      ++pos_;
    }
    if (digits == 0) fail(problem);
    return value;
  }

  std::uint64_t decimal(std::string_view problem) {
    std::uint64_t value = 0;
    std::size_t digits = 0;
    while (!at_end() && line_[pos_] >= '0' && line_[pos_] <= '9') {
      const auto digit = static_cast<std::uint64_t>(line_[pos_] - '0');
      if (value > (UINT64_MAX - digit) / 10) fail("number does not fit in 64 bits");
      value = value * 10 + digit;
      ++digits;
      ++pos_;
    }
    if (digits == 0) fail(problem);
    return value;
  }

  void advance(std::size_t n) noexcept { pos_ += n; }
  void skip_spaces() noexcept {
    while (!at_end() && (line_[pos_] == ' ' || line_[pos_] == '\t')) ++pos_;
  }
  std::string_view rest() const noexcept { return line_.substr(pos_); }

 private:
  std::string_view line_;
  std::string_view source_;
  std::size_t line_number_;
  std::size_t pos_ = 0;
};

// "\012" back to '\n': the one character the kernel escapes in a path.
std::string unescape_path(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\\' && path.substr(i, 4) == "\\012") {
      out += '\n';
      i += 3;
    } else {
      out += path[i];
    }
  }
  return out;
}

// Fills `region`, a default-constructed one.
void parse_mapping_line(std::string_view line, std::string_view source, std::size_t number,
                        Region& region) {
  LineScanner scan(line, source, number);
  region.start = scan.hex("expected START-END (hexadecimal addresses)");
  scan.expect('-', "expected START-END (hexadecimal addresses)");
  region.end = scan.hex("expected an END address after '-'");
  scan.expect(' ', "expected a space after the address range");
  if (region.end <= region.start) scan.fail("the end address is not above the start address");

  const std::string_view perms = scan.rest().substr(0, 4);
  if (perms.size() != 4 || (perms[0] != 'r' && perms[0] != '-') ||
      (perms[1] != 'w' && perms[1] != '-') || (perms[2] != 'x' && perms[2] != '-') ||
      (perms[3] != 'p' && perms[3] != 's')) {
    scan.fail("expected permissions like \"r-xp\" after the address range");
  }
  region.permissions.read = perms[0] == 'r';
  region.permissions.write = perms[1] == 'w';
  region.permissions.execute = perms[2] == 'x';
  region.permissions.shared = perms[3] == 's';
  scan.advance(perms.size());
  scan.expect(' ', "expected a space after the permissions");

  region.offset = scan.hex("expected a hexadecimal file offset after the permissions");
  scan.expect(' ', "expected a space after the offset");
  region.device_major = static_cast<std::uint32_t>(scan.hex("expected a device MAJOR:MINOR"));
  scan.expect(':', "expected a device MAJOR:MINOR");
  region.device_minor = static_cast<std::uint32_t>(scan.hex("expected a device MAJOR:MINOR"));
  scan.expect(' ', "expected a space after the device");
  region.inode = scan.decimal("expected a decimal inode after the device");
  if (!scan.at_end() && scan.peek() != ' ' && scan.peek() != '\t') {
    scan.fail("expected a space after the inode");
  }
  scan.skip_spaces();

  std::string_view path = scan.rest();
  while (!path.empty() && (path.back() == ' ' || path.back() == '\r')) path.remove_suffix(1);
  if (path.size() >= kDeletedSuffix.size() &&
      path.substr(path.size() - kDeletedSuffix.size()) == kDeletedSuffix) {
    region.deleted = true;
    path.remove_suffix(kDeletedSuffix.size());
  }
  if (path.find('\\') != std::string_view::npos) {
    region.path = unescape_path(path);
  } else {
    region.path.assign(path.data(), path.size());
  }
}

bool is_hex_digit(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The position of the first `a` or `b` in `line`, or line.size(). Both callers stop within the
// first word, so a short loop beats two memchr calls over the whole line.
std::size_t find_first_of(std::string_view line, char a, char b) noexcept {
  std::size_t i = 0;
  while (i < line.size() && line[i] != a && line[i] != b) ++i;
  return i;
}

// A mapping line starts with a hex digit and has '-' before its first space; a counter line has
// ':' before its first space.
bool looks_like_mapping(std::string_view line) noexcept {
  const std::size_t stop = find_first_of(line, '-', ' ');
  return stop < line.size() && line[stop] == '-' && stop > 0 && is_hex_digit(line[0]);
}

// Leading and trailing spaces. The kernel right-aligns counter values after a run of up to 20
// spaces, so the leading ones are skipped eight at a time: a byte loop there was a fifth of the
// parse.
std::string_view trim_spaces(std::string_view text) noexcept {
  constexpr std::uint64_t kEightSpaces = 0x2020202020202020;
  std::size_t start = 0;
  while (start + 8 <= text.size()) {
    std::uint64_t word = 0;
    std::memcpy(&word, text.data() + start, sizeof word);
    if (word != kEightSpaces) break;
    start += 8;
  }
  while (start < text.size() && text[start] == ' ') ++start;
  text.remove_prefix(start);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

// The decimal number that makes up the start of `text` (advanced past it), or false when there
// is none or it does not fit in 64 bits.
bool take_decimal(std::string_view& text, std::uint64_t* value) noexcept {
  std::uint64_t result = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (result > (UINT64_MAX - digit) / 10) return false;
    result = result * 10 + digit;
  }
  if (i == 0) return false;
  text.remove_prefix(i);
  *value = result;
  return true;
}

}  // namespace

void RegionParser::add_line(std::string_view line) {
  ++line_number_;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return;
  // Nearly every line is the counter the kernel prints next: one compare finds it. A space must
  // follow the colon, or the line might be one the general rule calls a mapping ("Anonymous:-1").
  const std::string_view expected = smaps_field_name(static_cast<SmapsField>(next_field_));
  if (last_ != nullptr && line.size() > expected.size() && line[expected.size()] == ':' &&
      line.substr(0, expected.size()) == expected &&
      (line.size() == expected.size() + 1 || line[expected.size() + 1] == ' ')) {
    add_counter_value(next_field_, expected.size(), line);
    return;
  }
  if (looks_like_mapping(line)) {
    add_mapping(line);
  } else {
    add_counter(line);
  }
}

void RegionParser::add_mapping(std::string_view line) {
  if (blocks_.empty() || blocks_.back().size() == kBlockRegions) {
    blocks_.emplace_back().reserve(kBlockRegions);
  }
  // Parsed in place rather than moved in: a Region is ~380 bytes. After a throw the half-parsed
  // region is never seen: the parser is abandoned with it.
  const std::uint64_t previous_end = last_ != nullptr ? last_->end : 0;
  Region& region = blocks_.back().emplace_back();
  parse_mapping_line(line, source_, line_number_, region);
  if (last_ != nullptr && region.start < previous_end) {
    throw MapParseError(source_, line_number_, line,
                        "the region starts below the end of the region before it (a map "
                        "lists regions in address order, without overlaps)");
  }
  last_ = &region;
  ++region_count_;
  next_field_ = 0;
}

void RegionParser::add_counter(std::string_view line) {
  const std::size_t colon = find_first_of(line, ':', ' ');
  if (colon == line.size() || line[colon] != ':' || colon == 0) {
    throw MapParseError(source_, line_number_, line,
                        "neither a mapping line (START-END PERMS OFFSET DEV INODE PATH) nor a "
                        "counter line (Name: value)");
  }
  if (last_ == nullptr) {
    throw MapParseError(source_, line_number_, line,
                        "a counter line before the first mapping line");
  }
  const std::string_view name = line.substr(0, colon);
  if (name == "VmFlags") {
    Region& region = *last_;
    has_smaps_ = true;
    const std::string_view value = trim_spaces(line.substr(colon + 1));
    region.vm_flags.assign(value.data(), value.size());
    return;
  }
  for (std::size_t tried = 0; tried < kSmapsFieldCount; ++tried) {
    const std::size_t i = (next_field_ + tried) % kSmapsFieldCount;
    if (smaps_field_name(static_cast<SmapsField>(i)) == name) {
      add_counter_value(i, colon, line);
      return;
    }
  }
  has_smaps_ = true;
  last_->extra_fields.push_back(
      {std::string(name), std::string(trim_spaces(line.substr(colon + 1)))});
}

void RegionParser::add_counter_value(std::size_t index, std::size_t colon, std::string_view line) {
  const auto field = static_cast<SmapsField>(index);
  std::string_view value = trim_spaces(line.substr(colon + 1));
  std::uint64_t number = 0;
  if (!take_decimal(value, &number)) {
    throw MapParseError(
        source_, line_number_, line,
        "expected a decimal number after \"" + std::string(line.substr(0, colon)) + ":\"");
  }
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  if (smaps_field_is_kib(field) ? value != "kB" : !value.empty()) {
    throw MapParseError(source_, line_number_, line,
                        smaps_field_is_kib(field) ? "expected the unit \"kB\" after the number"
                                                  : "expected nothing after the number");
  }
  has_smaps_ = true;
  last_->smaps.set(field, number);
  next_field_ = (index + 1) % kSmapsFieldCount;
}

ParsedRegions RegionParser::finish() && {
  ParsedRegions parsed;
  parsed.has_smaps = has_smaps_;
  parsed.regions.reserve(region_count_);
  for (std::vector<Region>& block : blocks_) {
    std::move(block.begin(), block.end(), std::back_inserter(parsed.regions));
    block = {};  // freed once moved from, for what comes next to reuse
  }
  blocks_.clear();
  last_ = nullptr;
  return parsed;
}

ParsedRegions parse_regions(std::string_view text, std::string_view source) {
  RegionParser parser(source);
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t newline = text.find('\n', pos);
    if (newline == std::string_view::npos) newline = text.size();
    parser.add_line(text.substr(pos, newline - pos));
    pos = newline + 1;
  }
  return std::move(parser).finish();
}

}  // namespace memkit::inspect::detail
