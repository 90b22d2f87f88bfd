// valgrind_text.h — an Analysis in valgrind memcheck's exact words and layout, so that people and
// scripts that read valgrind's output read memkit's: the "==PID== " prefix (with its trailing
// space on blank lines), thousands separators, HEAP SUMMARY, the loss records, LEAK SUMMARY, the
// free errors with both stacks, --gen-suppressions blocks (unprefixed), -s's used suppressions
// ("--PID-- " lines) and ERROR SUMMARY; -q keeps only the errors and loss records.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis.h"
#include "check_options.h"

namespace memkit::check {

// 2122 -> "2,122", as valgrind's %'lu prints it.
std::string with_thousands(std::uint64_t value);

// What memkit check prints once the program is spawned (nothing with -q):
//   ==PID== memkit check, a leak checker for unmodified programs
//   ==PID== memkit 0.1.0; docs/check.md explains this report
//   ==PID== Command: prog args
//   ==PID==
std::string render_preamble(long pid, const std::vector<std::string>& command,
                            const CheckOptions& options);

// The report of one process at its exit.
std::string render_valgrind_text(const Analysis& analysis, const CheckOptions& options);

// "==PID== Process terminating with default action of signal 11 (SIGSEGV)"
std::string render_signal_line(long pid, int signal_number);

}  // namespace memkit::check
