// check_error.h — what `memkit check` throws when its input is wrong: a raw report it cannot read,
// a suppression file it cannot parse, an option value it does not accept. Each message names the
// file and the key, line or option, and says what was expected, so the user can fix it at once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "memkit/base/error.h"

namespace memkit::check {

// A raw report (src/leakcheck/raw_report.md) that is missing, unreadable or malformed:
// "memkit check: /tmp/memkit-check.42.0.json: heap.allocs: expected a non-negative integer, found
// \"many\"". key() is the JSON path of the offending value ("" when the file as a whole is bad).
class RawReportError : public InspectError {
 public:
  RawReportError(std::string_view file, std::string_view key, std::string_view problem);
  const std::string& file() const noexcept { return file_; }
  const std::string& key() const noexcept { return key_; }

 private:
  std::string file_;
  std::string key_;
};

// A suppression file valgrind's parser would refuse (or that cannot be opened):
// "memkit check: leak.supp:7: expected \"fun:\", \"obj:\", \"src:\" or \"...\", found \"bogus\"".
// line() is 0 when the file could not be read at all.
class SuppressionFileError : public InspectError {
 public:
  SuppressionFileError(std::string_view file, std::size_t line, std::string_view problem);
  const std::string& file() const noexcept { return file_; }
  std::size_t line() const noexcept { return line_; }

 private:
  std::string file_;
  std::size_t line_;
};

// An option or its MEMKIT_* twin with a value memkit check does not accept:
// "memkit check: --leak-check=maybe: expected no, summary or full".
class CheckOptionError : public InspectError {
 public:
  CheckOptionError(std::string_view option, std::string_view value, std::string_view expected);
  const std::string& option() const noexcept { return option_; }

 private:
  std::string option_;
};

}  // namespace memkit::check
