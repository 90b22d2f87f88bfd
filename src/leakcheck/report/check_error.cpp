// The messages of check_error.h, built in one place so they all read alike.
#include "check_error.h"

namespace memkit::check {
namespace {

std::string raw_report_message(std::string_view file, std::string_view key,
                               std::string_view problem) {
  std::string message = "memkit check: ";
  message.append(file).append(": ");
  if (!key.empty()) message.append(key).append(": ");
  return message.append(problem);
}

std::string suppression_message(std::string_view file, std::size_t line, std::string_view problem) {
  std::string message = "memkit check: ";
  message.append(file);
  if (line != 0) message.append(":").append(std::to_string(line));
  return message.append(": ").append(problem);
}

std::string option_message(std::string_view option, std::string_view value,
                           std::string_view expected) {
  std::string message = "memkit check: ";
  // A variable reads "MEMKIT_LEAK_CHECK=maybe", a flag "--leak-check=maybe": the same shape.
  message.append(option).append("=").append(value).append(": expected ");
  return message.append(expected);
}

}  // namespace

RawReportError::RawReportError(std::string_view file, std::string_view key,
                               std::string_view problem)
    : InspectError(raw_report_message(file, key, problem)), file_(file), key_(key) {}

SuppressionFileError::SuppressionFileError(std::string_view file, std::size_t line,
                                           std::string_view problem)
    : InspectError(suppression_message(file, line, problem)), file_(file), line_(line) {}

CheckOptionError::CheckOptionError(std::string_view option, std::string_view value,
                                   std::string_view expected)
    : InspectError(option_message(option, value, expected)), option_(option) {}

}  // namespace memkit::check
