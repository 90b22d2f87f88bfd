// The option table of `memkit check` and the parsing of each value, valgrind's way.
#include "check_options.h"

#include <array>
#include <charconv>
#include <string>

#include "check_error.h"

namespace memkit::check {
namespace {

constexpr std::array<std::string_view, 4> kHeuristicNames = {"stdstring", "length64", "newarray",
                                                             "multipleinheritance"};

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

template <typename Integer>
std::optional<Integer> parse_integer(std::string_view text) {
  Integer value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

bool parse_yes_no(std::string_view value, std::string_view spelling) {
  if (value == "yes") return true;
  if (value == "no") return false;
  throw CheckOptionError(spelling, value, "yes or no");
}

void apply_leak_check(CheckOptions& options, std::string_view value, std::string_view spelling) {
  if (value == "no") {
    options.leak_check = LeakCheckMode::no;
  } else if (value == "summary") {
    options.leak_check = LeakCheckMode::summary;
  } else if (value == "full" || value == "yes") {  // valgrind takes yes for full
    options.leak_check = LeakCheckMode::full;
  } else {
    throw CheckOptionError(spelling, value, "no, summary or full");
  }
}

LeakKindSet kinds_or_throw(std::string_view value, std::string_view spelling) {
  if (auto kinds = parse_leak_kinds(value)) return *kinds;
  throw CheckOptionError(spelling, value,
                         "all, none or a comma-separated list of definite, indirect, possible, "
                         "reachable");
}

void apply_show_leak_kinds(CheckOptions& options, std::string_view value,
                           std::string_view spelling) {
  options.show_leak_kinds = kinds_or_throw(value, spelling);
}

void apply_errors_for_leak_kinds(CheckOptions& options, std::string_view value,
                                 std::string_view spelling) {
  options.errors_for_leak_kinds = kinds_or_throw(value, spelling);
}

void apply_show_reachable(CheckOptions& options, std::string_view value,
                          std::string_view spelling) {
  if (parse_yes_no(value, spelling)) {
    options.show_leak_kinds = LeakKindSet::all();
  } else {
    options.show_leak_kinds.remove(LeakKind::reachable);
  }
}

void apply_show_possibly_lost(CheckOptions& options, std::string_view value,
                              std::string_view spelling) {
  if (parse_yes_no(value, spelling)) {
    options.show_leak_kinds.add(LeakKind::possible);
  } else {
    options.show_leak_kinds.remove(LeakKind::possible);
  }
}

void apply_heuristics(CheckOptions& options, std::string_view value, std::string_view spelling) {
  constexpr std::string_view kExpected =
      "all, none or a comma-separated list of stdstring, length64, newarray, "
      "multipleinheritance";
  if (value == "all" || value == "none") {
    options.leak_check_heuristics = std::string(value);
    return;
  }
  std::array<bool, kHeuristicNames.size()> chosen{};
  for (std::string_view part : split(value, ',')) {
    std::size_t index = 0;
    while (index < kHeuristicNames.size() && kHeuristicNames[index] != part) ++index;
    if (index == kHeuristicNames.size()) throw CheckOptionError(spelling, value, kExpected);
    chosen[index] = true;
  }
  std::string normalised;
  for (std::size_t index = 0; index < kHeuristicNames.size(); ++index) {
    if (!chosen[index]) continue;
    if (!normalised.empty()) normalised += ',';
    normalised += kHeuristicNames[index];
  }
  options.leak_check_heuristics = normalised;
}

void apply_leak_resolution(CheckOptions& options, std::string_view value,
                           std::string_view spelling) {
  if (value != "low" && value != "med" && value != "high") {
    throw CheckOptionError(spelling, value, "low, med or high");
  }
  options.leak_resolution = std::string(value);
}

void apply_num_callers(CheckOptions& options, std::string_view value, std::string_view spelling) {
  const auto number = parse_integer<unsigned>(value);
  if (!number || *number < 1 || *number > 64) {
    throw CheckOptionError(spelling, value, "a number from 1 to 64");
  }
  options.num_callers = *number;
}

void apply_error_exitcode(CheckOptions& options, std::string_view value,
                          std::string_view spelling) {
  const auto number = parse_integer<int>(value);
  if (!number || *number < 0 || *number > 255) {
    throw CheckOptionError(spelling, value, "an exit status from 0 to 255 (0: off)");
  }
  options.error_exitcode = *number;
}

void apply_suppressions(CheckOptions& options, std::string_view value, std::string_view spelling) {
  // The variable holds a colon-separated list; a flag holds one file (and may be repeated).
  const bool is_variable = spelling.starts_with("MEMKIT_");
  for (std::string_view file : is_variable ? split(value, ':') : std::vector{value}) {
    if (file.empty()) {
      throw CheckOptionError(
          spelling, value,
          is_variable ? "suppression files separated by ':'" : "the path of a suppression file");
    }
    options.suppressions.emplace_back(file);
  }
}

void apply_gen_suppressions(CheckOptions& options, std::string_view value,
                            std::string_view spelling) {
  if (value == "no") {
    options.gen_suppressions = GenSuppressions::no;
  } else if (value == "yes") {
    options.gen_suppressions = GenSuppressions::yes;
  } else if (value == "all") {
    options.gen_suppressions = GenSuppressions::all;
  } else {
    throw CheckOptionError(spelling, value, "no, yes or all");
  }
}

void apply_trace_children(CheckOptions& options, std::string_view value,
                          std::string_view spelling) {
  options.trace_children = parse_yes_no(value, spelling);
}

std::string path_or_throw(std::string_view value, std::string_view spelling) {
  if (value.empty()) throw CheckOptionError(spelling, value, "a file name (%p becomes the pid)");
  return std::string(value);
}

void apply_json(CheckOptions& options, std::string_view value, std::string_view spelling) {
  options.json_file = path_or_throw(value, spelling);
}

void apply_log_file(CheckOptions& options, std::string_view value, std::string_view spelling) {
  options.log_file = path_or_throw(value, spelling);
}

void apply_freelist_vol(CheckOptions& options, std::string_view value, std::string_view spelling) {
  const auto bytes = parse_integer<std::uint64_t>(value);
  if (!bytes) throw CheckOptionError(spelling, value, "a number of bytes");
  options.freelist_vol = *bytes;
}

void apply_keep_stacktraces(CheckOptions& options, std::string_view value,
                            std::string_view spelling) {
  if (value == "alloc") {
    options.keep_free_stacks = false;
  } else if (value == "alloc-and-free") {
    options.keep_free_stacks = true;
  } else {
    throw CheckOptionError(spelling, value, "alloc or alloc-and-free");
  }
}

void apply_run_libc_freeres(CheckOptions& options, std::string_view value,
                            std::string_view spelling) {
  options.run_libc_freeres = parse_yes_no(value, spelling);
}

void apply_quiet(CheckOptions& options, std::string_view value, std::string_view spelling) {
  options.quiet = parse_yes_no(value, spelling);
}

void apply_show_error_list(CheckOptions& options, std::string_view value,
                           std::string_view spelling) {
  options.show_error_list = parse_yes_no(value, spelling);
}

void apply_verbose(CheckOptions& options, std::string_view value, std::string_view spelling) {
  options.verbose = parse_yes_no(value, spelling);
  if (options.verbose) options.show_error_list = true;  // valgrind: -v lists errors too
}

constexpr CheckOptionSpec kTable[] = {
    {"--leak-check", "", "MEMKIT_LEAK_CHECK", "no|summary|full",
     "Search for leaks at exit: no, summary (counts only) or full (each loss record)", true, false,
     apply_leak_check},
    {"--show-leak-kinds", "", "MEMKIT_SHOW_LEAK_KINDS",
     "definite,indirect,possible,reachable|all|none",
     "Which kinds of loss record to print (default definite,possible)", true, false,
     apply_show_leak_kinds},
    {"--errors-for-leak-kinds", "", "MEMKIT_ERRORS_FOR_LEAK_KINDS",
     "definite,indirect,possible,reachable|all|none",
     "Which kinds count as errors for ERROR SUMMARY and --error-exitcode (default "
     "definite,possible)",
     true, false, apply_errors_for_leak_kinds},
    {"--show-reachable", "", "MEMKIT_SHOW_REACHABLE", "yes|no",
     "yes: same as --show-leak-kinds=all; no: stop showing reachable records", true, false,
     apply_show_reachable},
    {"--show-possibly-lost", "", "MEMKIT_SHOW_POSSIBLY_LOST", "yes|no",
     "Show (yes) or hide (no) possibly lost records", true, false, apply_show_possibly_lost},
    {"--leak-check-heuristics", "", "MEMKIT_LEAK_CHECK_HEURISTICS",
     "stdstring,length64,newarray,multipleinheritance|all|none",
     "Interior pointers that still count as reaching a block (default all)", true, false,
     apply_heuristics},
    {"--leak-resolution", "", "MEMKIT_LEAK_RESOLUTION", "low|med|high",
     "How many frames must match to merge loss records: 2, 4 or all (default high)", true, false,
     apply_leak_resolution},
    {"--num-callers", "", "MEMKIT_NUM_CALLERS", "1..64",
     "Frames recorded and shown per stack (default 12)", true, false, apply_num_callers},
    {"--error-exitcode", "", "MEMKIT_ERROR_EXITCODE", "0..255",
     "Exit with this status when the program's report counts errors (0: off)", true, false,
     apply_error_exitcode},
    {"--suppressions", "", "MEMKIT_SUPPRESSIONS", "FILE",
     "Read suppressions from FILE (repeatable; the variable takes FILE:FILE...)", true, true,
     apply_suppressions},
    {"--gen-suppressions", "", "MEMKIT_GEN_SUPPRESSIONS", "no|yes|all",
     "Print a suppression block after each shown error (yes acts as all)", true, false,
     apply_gen_suppressions},
    {"--trace-children", "", "MEMKIT_TRACE_CHILDREN", "yes|no",
     "Also check the programs the program execs (forked children are always checked)", true, false,
     apply_trace_children},
    {"--json", "", "MEMKIT_JSON", "FILE", "Also write the report as JSON to FILE (%p: pid)", true,
     false, apply_json},
    {"--log-file", "", "MEMKIT_LOG_FILE", "FILE",
     "Write the report to FILE instead of stderr (%p: pid)", true, false, apply_log_file},
    {"--freelist-vol", "", "MEMKIT_FREELIST_VOL", "BYTES",
     "Bytes of freed blocks held back to catch double frees (default 0)", true, false,
     apply_freelist_vol},
    {"--keep-stacktraces", "", "MEMKIT_KEEP_STACKTRACES", "alloc|alloc-and-free",
     "Stacks kept per block: the allocation's (default), or also the free's, which a later "
     "double free then shows",
     true, false, apply_keep_stacktraces},
    {"--run-libc-freeres", "", "MEMKIT_RUN_FREERES", "yes|no",
     "Free glibc's and libstdc++'s process-lifetime memory before the search (default yes)", true,
     false, apply_run_libc_freeres},
    {"-q", "--quiet", "MEMKIT_QUIET", "yes|no", "Print only the errors: no preamble, no summaries",
     false, false, apply_quiet},
    {"-s", "--show-error-list", "MEMKIT_SHOW_ERROR_LIST", "yes|no",
     "List the errors and the suppressions used at the end", false, false, apply_show_error_list},
    {"-v", "--verbose", "MEMKIT_VERBOSE", "yes|no",
     "Also print how many blocks were searched and bytes scanned; implies -s", false, false,
     apply_verbose},
};

}  // namespace

std::string_view leak_kind_key(LeakKind kind) noexcept {
  switch (kind) {
    case LeakKind::definite:
      return "definite";
    case LeakKind::indirect:
      return "indirect";
    case LeakKind::possible:
      return "possible";
    case LeakKind::reachable:
      return "reachable";
  }
  return "?";
}

std::string_view leak_kind_words(LeakKind kind) noexcept {
  switch (kind) {
    case LeakKind::definite:
      return "definitely lost";
    case LeakKind::indirect:
      return "indirectly lost";
    case LeakKind::possible:
      return "possibly lost";
    case LeakKind::reachable:
      return "still reachable";
  }
  return "?";
}

std::optional<LeakKind> leak_kind_from_key(std::string_view key) noexcept {
  for (LeakKind kind : kAllLeakKinds) {
    if (leak_kind_key(kind) == key) return kind;
  }
  return std::nullopt;
}

std::string LeakKindSet::to_string() const {
  if (*this == all()) return "all";
  if (empty()) return "none";
  std::string text;
  for (LeakKind kind : kAllLeakKinds) {
    if (!contains(kind)) continue;
    if (!text.empty()) text += ',';
    text += leak_kind_key(kind);
  }
  return text;
}

std::optional<LeakKindSet> parse_leak_kinds(std::string_view text) {
  if (text == "all") return LeakKindSet::all();
  if (text == "none") return LeakKindSet{};
  LeakKindSet kinds;
  for (std::string_view part : split(text, ',')) {
    const auto kind = leak_kind_from_key(part);
    if (!kind) return std::nullopt;
    kinds.add(*kind);
  }
  return kinds;
}

std::string_view leak_check_mode_key(LeakCheckMode mode) noexcept {
  switch (mode) {
    case LeakCheckMode::no:
      return "no";
    case LeakCheckMode::summary:
      return "summary";
    case LeakCheckMode::full:
      return "full";
  }
  return "?";
}

std::span<const CheckOptionSpec> check_option_table() noexcept { return kTable; }

const CheckOptionSpec* find_check_option(std::string_view flag) noexcept {
  for (const CheckOptionSpec& spec : kTable) {
    if (spec.flag == flag || (!spec.long_alias.empty() && spec.long_alias == flag)) return &spec;
  }
  return nullptr;
}

void apply_environment(CheckOptions& options, const std::function<const char*(const char*)>& lookup,
                       const std::function<bool(const CheckOptionSpec&)>& given_on_command_line) {
  for (const CheckOptionSpec& spec : kTable) {
    if (given_on_command_line(spec)) continue;
    const std::string variable(spec.variable);
    const char* value = lookup(variable.c_str());
    if (value == nullptr) continue;
    spec.apply(options, value, variable);
  }
}

std::vector<std::pair<std::string, std::string>> runtime_environment(const CheckOptions& options) {
  return {
      {"MEMKIT_LEAK_CHECK", std::string(leak_check_mode_key(options.leak_check))},
      {"MEMKIT_LEAK_RESOLUTION", options.leak_resolution},
      {"MEMKIT_LEAK_CHECK_HEURISTICS", options.leak_check_heuristics},
      {"MEMKIT_NUM_CALLERS", std::to_string(options.num_callers)},
      {"MEMKIT_TRACE_CHILDREN", options.trace_children ? "yes" : "no"},
      {"MEMKIT_FREELIST_VOL", std::to_string(options.freelist_vol)},
      {"MEMKIT_KEEP_STACKTRACES", options.keep_free_stacks ? "alloc-and-free" : "alloc"},
      {"MEMKIT_RUN_FREERES", options.run_libc_freeres ? "yes" : "no"},
  };
}

std::string expand_pid_pattern(std::string_view pattern, long pid) {
  std::string path;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%' && i + 1 < pattern.size() && pattern[i + 1] == 'p') {
      path += std::to_string(pid);
      ++i;
    } else if (pattern[i] == '%' && i + 1 < pattern.size() && pattern[i + 1] == '%') {
      path += '%';
      ++i;
    } else {
      path += pattern[i];
    }
  }
  return path;
}

}  // namespace memkit::check
