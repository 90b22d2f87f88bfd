// check_options.h — the options of `memkit check`, with valgrind's names, and their MEMKIT_*
// environment twins. One table (check_option_table()) drives both: the command line registers a
// flag per entry, a program preloaded by hand (and `memkit check --render`) reads the variables.
// A bad value throws CheckOptionError naming the flag or variable and the accepted values.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace memkit::check {

// valgrind's four leak kinds, in its Reachedness order: loss records of equal size sort by it.
enum class LeakKind : std::uint8_t { reachable, possible, indirect, definite };
inline constexpr LeakKind kAllLeakKinds[] = {LeakKind::definite, LeakKind::indirect,
                                             LeakKind::possible, LeakKind::reachable};

// "definite", "indirect", "possible", "reachable" (option values, suppressions, the raw report).
std::string_view leak_kind_key(LeakKind kind) noexcept;
// "definitely lost", "indirectly lost", "possibly lost", "still reachable" (the text report).
std::string_view leak_kind_words(LeakKind kind) noexcept;
std::optional<LeakKind> leak_kind_from_key(std::string_view key) noexcept;

// A set of leak kinds (--show-leak-kinds, --errors-for-leak-kinds, match-leak-kinds:).
class LeakKindSet {
 public:
  constexpr LeakKindSet() = default;
  static constexpr LeakKindSet all() { return LeakKindSet(0xF); }
  static constexpr LeakKindSet of(std::initializer_list<LeakKind> kinds) {
    LeakKindSet set;
    for (LeakKind kind : kinds) set.add(kind);
    return set;
  }
  constexpr bool contains(LeakKind kind) const { return (bits_ >> bit(kind)) & 1u; }
  constexpr void add(LeakKind kind) {
    bits_ = static_cast<std::uint8_t>(bits_ | (1u << bit(kind)));
  }
  constexpr void remove(LeakKind kind) {
    bits_ = static_cast<std::uint8_t>(bits_ & ~(1u << bit(kind)));
  }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool operator==(const LeakKindSet&) const = default;
  // "all", "none" or the kinds in valgrind's order: "definite,possible".
  std::string to_string() const;

 private:
  constexpr explicit LeakKindSet(std::uint8_t bits) : bits_(bits) {}
  static constexpr unsigned bit(LeakKind kind) { return static_cast<unsigned>(kind); }
  std::uint8_t bits_ = 0;
};

// Parses "all", "none" or a comma-separated list of kinds; nullopt if any part is not a kind.
std::optional<LeakKindSet> parse_leak_kinds(std::string_view text);

enum class LeakCheckMode : std::uint8_t { no, summary, full };
std::string_view leak_check_mode_key(LeakCheckMode mode) noexcept;

// --gen-suppressions: memkit renders after the program has exited, so it cannot ask per error
// as valgrind does; `yes` prints every block, like `all`.
enum class GenSuppressions : std::uint8_t { no, yes, all };

struct CheckOptions {
  LeakCheckMode leak_check = LeakCheckMode::full;
  LeakKindSet show_leak_kinds = LeakKindSet::of({LeakKind::definite, LeakKind::possible});
  LeakKindSet errors_for_leak_kinds = LeakKindSet::of({LeakKind::definite, LeakKind::possible});
  std::string leak_check_heuristics = "all";  // normalised: all, none or a list in valgrind's order
  std::string leak_resolution = "high";       // low, med or high
  unsigned num_callers = 12;                  // 1..64
  int error_exitcode = 0;                     // 0: the program's own status is kept
  std::vector<std::string> suppressions;      // files, in the order given
  GenSuppressions gen_suppressions = GenSuppressions::no;
  bool trace_children = false;
  std::string json_file;  // "" = no JSON; %p becomes the pid
  std::string log_file;   // "" = stderr; %p becomes the pid
  std::uint64_t freelist_vol = 0;
  bool keep_free_stacks = false;  // --keep-stacktraces=alloc-and-free
  bool run_libc_freeres = true;
  bool quiet = false;            // -q
  bool show_error_list = false;  // -s, --show-error-list=yes (and -v)
  bool verbose = false;          // -v
};

// One option: its flag, its environment twin, the values it takes (for --help and for errors),
// and how a value changes CheckOptions. `takes_value` is false for -q, -s and -v, whose flags
// stand alone (their variables take yes|no).
struct CheckOptionSpec {
  std::string_view flag;        // "--leak-check", or "-q"
  std::string_view long_alias;  // "--quiet" for -q, "" otherwise
  std::string_view variable;    // "MEMKIT_LEAK_CHECK"
  std::string_view values;      // "no|summary|full"
  std::string_view help;
  bool takes_value = true;
  bool repeatable = false;  // --suppressions
  // Applies `value`; `spelling` is what the user wrote ("--leak-check" or "MEMKIT_LEAK_CHECK"),
  // for the error message.
  void (*apply)(CheckOptions& options, std::string_view value, std::string_view spelling) = nullptr;
};

std::span<const CheckOptionSpec> check_option_table() noexcept;
const CheckOptionSpec* find_check_option(std::string_view flag) noexcept;

// Applies the MEMKIT_* twin of every option for which `given_on_command_line(spec)` is false.
// `lookup` returns the variable's value, or nullptr when it is unset (std::getenv fits).
void apply_environment(CheckOptions& options, const std::function<const char*(const char*)>& lookup,
                       const std::function<bool(const CheckOptionSpec&)>& given_on_command_line);
inline void apply_environment(CheckOptions& options,
                              const std::function<const char*(const char*)>& lookup) {
  apply_environment(options, lookup, [](const CheckOptionSpec&) { return false; });
}

// The variables the preloaded runtime reads itself (raw_report.md's handshake table), from the
// options: MEMKIT_LEAK_CHECK, MEMKIT_LEAK_RESOLUTION, MEMKIT_LEAK_CHECK_HEURISTICS,
// MEMKIT_NUM_CALLERS, MEMKIT_TRACE_CHILDREN, MEMKIT_FREELIST_VOL, MEMKIT_RUN_FREERES.
std::vector<std::pair<std::string, std::string>> runtime_environment(const CheckOptions& options);

// Replaces every %p in a --log-file or --json path with `pid` (valgrind's rule), %% with %.
std::string expand_pid_pattern(std::string_view pattern, long pid);

}  // namespace memkit::check
