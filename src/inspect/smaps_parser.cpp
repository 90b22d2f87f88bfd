// The smaps/maps scanner. A mapping line is
//
//   START-END PERMS OFFSET MAJOR:MINOR INODE [padding] [PATH[ (deleted)]]
//
// in lower-case hex except INODE (decimal); PATH runs to the end of the line and may contain
// spaces (the kernel escapes only '\n', as "\012"). A counter line is "Name:  value [kB]", and
// "VmFlags: rd wr ..." closes each smaps entry. Counters arrive in the kernel's order, so the
// field lookup tries the one after the previous field first.
#include "smaps_parser.h"

#include <cctype>
#include <string>

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

Region parse_mapping_line(std::string_view line, std::string_view source, std::size_t number) {
  LineScanner scan(line, source, number);
  Region region;
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
  return region;
}

// A mapping line starts with a hex digit and has '-' before its first space; a counter line has
// ':' before its first space.
bool looks_like_mapping(std::string_view line) noexcept {
  const std::size_t dash = line.find('-');
  const std::size_t space = line.find(' ');
  return dash != std::string_view::npos && dash > 0 && dash < space &&
         std::isxdigit(static_cast<unsigned char>(line[0])) != 0;
}

class FieldLookup {
 public:
  // The field named `name`, or -1.
  int find(std::string_view name) noexcept {
    for (std::size_t tried = 0; tried < kSmapsFieldCount; ++tried) {
      const std::size_t i = (next_ + tried) % kSmapsFieldCount;
      if (smaps_field_name(static_cast<SmapsField>(i)) == name) {
        next_ = (i + 1) % kSmapsFieldCount;
        return static_cast<int>(i);
      }
    }
    return -1;
  }
  void restart() noexcept { next_ = 0; }

 private:
  std::size_t next_ = 0;
};

}  // namespace

ParsedRegions parse_regions(std::string_view text, std::string_view source) {
  ParsedRegions parsed;
  FieldLookup lookup;
  std::size_t line_number = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t newline = text.find('\n', pos);
    if (newline == std::string_view::npos) newline = text.size();
    std::string_view line = text.substr(pos, newline - pos);
    pos = newline + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;

    if (looks_like_mapping(line)) {
      Region region = parse_mapping_line(line, source, line_number);
      if (!parsed.regions.empty() && region.start < parsed.regions.back().end) {
        throw MapParseError(source, line_number, line,
                            "the region starts below the end of the region before it (a map "
                            "lists regions in address order, without overlaps)");
      }
      parsed.regions.push_back(std::move(region));
      lookup.restart();
      continue;
    }

    const std::size_t colon = line.find(':');
    const std::size_t space = line.find(' ');
    if (colon == std::string_view::npos || colon == 0 ||
        (space != std::string_view::npos && space < colon)) {
      throw MapParseError(source, line_number, line,
                          "neither a mapping line (START-END PERMS OFFSET DEV INODE PATH) nor a "
                          "counter line (Name: value)");
    }
    if (parsed.regions.empty()) {
      throw MapParseError(source, line_number, line,
                          "a counter line before the first mapping line");
    }
    Region& region = parsed.regions.back();
    parsed.has_smaps = true;
    const std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);

    if (name == "VmFlags") {
      region.vm_flags.assign(value.data(), value.size());
      continue;
    }
    const int index = lookup.find(name);
    if (index < 0) {
      region.extra_fields.push_back({std::string(name), std::string(value)});
      continue;
    }
    const auto field = static_cast<SmapsField>(index);
    LineScanner scan(value, source, line_number);
    std::uint64_t number = 0;
    try {
      number = scan.decimal("");
    } catch (const MapParseError&) {
      throw MapParseError(source, line_number, line,
                          "expected a decimal number after \"" + std::string(name) + ":\"");
    }
    scan.skip_spaces();
    const std::string_view unit = scan.rest();
    if (smaps_field_is_kib(field) ? unit != "kB" : !unit.empty()) {
      throw MapParseError(source, line_number, line,
                          smaps_field_is_kib(field) ? "expected the unit \"kB\" after the number"
                                                    : "expected nothing after the number");
    }
    region.smaps.set(field, number);
  }
  return parsed;
}

}  // namespace memkit::inspect::detail
