// The printf strings of mc_errors.c, mc_leakcheck.c and m_errormgr.c (valgrind 3.19), rendered
// from an Analysis. Recorded outputs to compare with: the research notes, section 2.
#include "valgrind_text.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>

#include "memkit/version.h"

namespace memkit::check {
namespace {

std::string hex_upper(std::uintptr_t value) {
  char digits[20];
  const auto result = std::to_chars(digits, digits + sizeof digits, value, 16);
  std::string text(digits, result.ptr);
  for (char& c : text) {
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  }
  return "0x" + text;
}

std::string hex_lower(std::uintptr_t value) {
  char digits[20];
  const auto result = std::to_chars(digits, digits + sizeof digits, value, 16);
  return "0x" + std::string(digits, result.ptr);
}

// Lines with valgrind's prefixes: "==PID== " for the report, "--PID-- " for -s's debug lines, and
// none for suppression blocks.
class Writer {
 public:
  explicit Writer(long pid)
      : report_prefix_("==" + std::to_string(pid) + "== "),
        debug_prefix_("--" + std::to_string(pid) + "-- ") {}

  void line(std::string_view text) { text_.append(report_prefix_).append(text).append("\n"); }
  void blank() { line(""); }
  void debug(std::string_view text) { text_.append(debug_prefix_).append(text).append("\n"); }
  void raw(std::string_view text) { text_.append(text).append("\n"); }
  std::string take() { return std::move(text_); }

 private:
  std::string report_prefix_;
  std::string debug_prefix_;
  std::string text_;
};

// "fn (file.c:3)", "fn (in /lib/x.so)", "??? (in /path)" or "???": VG_(describe_IP)'s choices.
std::string describe(const SourceFrame& frame) {
  std::string text = frame.function.empty() ? "???" : frame.function;
  if (!frame.file.empty()) {
    text.append(" (").append(frame.file).append(":").append(std::to_string(frame.line)).append(")");
  } else if (!frame.object.empty()) {
    text.append(" (in ").append(frame.object).append(")");
  }
  return text;
}

void write_stack(Writer& out, const SymbolizedStack& stack) {
  for (std::size_t i = 0; i < stack.size(); ++i) {
    out.line(std::string(i == 0 ? "   at " : "   by ") + hex_upper(stack[i].ip) + ": " +
             describe(stack[i]));
  }
}

// A --gen-suppressions block: fun:MANGLED, else obj:PATH, else obj:* (printSuppForIp_nonXML).
void write_suppression(Writer& out, std::string_view kind_line, const SymbolizedStack& stack,
                       const LeakKind* leak_kind) {
  out.raw("{");
  out.raw("   <insert_a_suppression_name_here>");
  out.raw(std::string("   ").append(kind_line));
  if (leak_kind != nullptr) {
    out.raw(std::string("   match-leak-kinds: ").append(leak_kind_key(*leak_kind)));
  }
  for (const SourceFrame& frame : stack) {
    if (!frame.mangled.empty()) {
      out.raw("   fun:" + frame.mangled);
    } else if (!frame.object.empty()) {
      out.raw("   obj:" + frame.object);
    } else {
      out.raw("   obj:*");
    }
  }
  out.raw("}");
}

std::string record_header(const LossRecordView& record, std::size_t total_records) {
  std::string text;
  if (record.indirect_bytes == 0) {
    text = with_thousands(record.bytes);
  } else {
    text = with_thousands(record.bytes + record.indirect_bytes) + " (" +
           with_thousands(record.bytes) + " direct, " + with_thousands(record.indirect_bytes) +
           " indirect)";
  }
  return text + " bytes in " + with_thousands(record.blocks) + " blocks are " +
         std::string(leak_kind_words(record.kind)) + " in loss record " +
         with_thousands(record.index) + " of " + with_thousands(total_records);
}

// mc_pp_AddrInfo for a heap block: " Address 0x4a42040 is 0 bytes inside a block of size 10
// free'd", then the stack that freed it and where it was allocated.
void write_address(Writer& out, const FreeErrorContext& error) {
  if (!error.block) {
    out.line(" Address " + hex_lower(error.address) +
             " is not stack'd, malloc'd or (recently) free'd");
    return;
  }
  const ErrorBlock& block = *error.block;
  std::uint64_t delta = 0;
  std::string_view relative = "inside";
  if (error.address < block.address) {
    delta = block.address - error.address;
    relative = "before";
  } else if (error.address - block.address >= block.size) {
    delta = error.address - block.address - block.size;
    relative = "after";
  } else {
    delta = error.address - block.address;
  }
  out.line(" Address " + hex_lower(error.address) + " is " + with_thousands(delta) + " bytes " +
           std::string(relative) + " a block of size " + with_thousands(block.size) +
           (block.freed ? " free'd" : " alloc'd"));
  if (!block.freed) {
    write_stack(out, error.alloc_stack);
    return;
  }
  if (error.free_stack.empty()) {
    // The runtime keeps free stacks only with --keep-stacktraces=alloc-and-free (they cost a
    // stack walk per free): say so rather than leave a bare "free'd".
    out.line(
        "   (where it was freed is not recorded: rerun with "
        "--keep-stacktraces=alloc-and-free)");
  } else {
    write_stack(out, error.free_stack);
  }
  if (!error.alloc_stack.empty()) {
    out.line(" Block was alloc'd at");
    write_stack(out, error.alloc_stack);
  }
}

void write_free_error(Writer& out, const FreeErrorContext& error) {
  out.line(error.mismatched ? "Mismatched free() / delete / delete []"
                            : "Invalid free() / delete / delete[] / realloc()");
  write_stack(out, error.stack);
  write_address(out, error);
  out.blank();
}

std::string error_summary_line(const ErrorSummary& summary) {
  return "ERROR SUMMARY: " + std::to_string(summary.errors) + " errors from " +
         std::to_string(summary.contexts) +
         " contexts (suppressed: " + std::to_string(summary.suppressed) + " from " +
         std::to_string(summary.suppressed_contexts) + ")";
}

std::string totals_line(std::string_view label, const Totals& totals) {
  return std::string(label) + with_thousands(totals.bytes) + " bytes in " +
         with_thousands(totals.blocks) + " blocks";
}

void write_leaks(Writer& out, const Analysis& analysis, const CheckOptions& options) {
  const bool normal = !options.quiet;
  if (analysis.leak_check == LeakCheckMode::no || !analysis.searched) {
    if (normal && !options.verbose) {
      out.line("For a detailed leak analysis, rerun with: --leak-check=full");
      out.blank();
    }
    return;
  }
  if (analysis.heap.in_use_blocks == 0) {
    if (normal) {
      out.line("All heap blocks were freed -- no leaks are possible");
      out.blank();
    }
    return;
  }
  if (options.verbose) {
    out.line("Searching for pointers to " + with_thousands(analysis.heap.in_use_blocks) +
             " not-freed blocks");
    out.line("Checked " + with_thousands(analysis.checked_bytes) + " bytes");
    out.blank();
  }
  if (analysis.threads_not_stopped > 0) {
    out.line("Warning: " + with_thousands(analysis.threads_not_stopped) +
             " thread(s) could not be stopped for the leak search: blocks they point to may be "
             "reported lost");
    out.blank();
  }
  const bool gen = options.gen_suppressions != GenSuppressions::no;
  for (const LossRecordView& record : analysis.records) {
    if (!record.shown) continue;
    out.line(record_header(record, analysis.records.size()));
    write_stack(out, record.stack);
    out.blank();
    if (gen) write_suppression(out, "Memcheck:Leak", record.stack, &record.kind);
  }
  if (!normal) return;
  out.line("LEAK SUMMARY:");
  out.line(totals_line("   definitely lost: ", analysis.totals(LeakKind::definite)));
  out.line(totals_line("   indirectly lost: ", analysis.totals(LeakKind::indirect)));
  out.line(totals_line("     possibly lost: ", analysis.totals(LeakKind::possible)));
  out.line(totals_line("   still reachable: ", analysis.totals(LeakKind::reachable)));
  if (!analysis.heuristics.empty()) {
    out.line("                      of which reachable via heuristic:");
    for (const RawHeuristic& heuristic : analysis.heuristics) {
      std::string name = heuristic.name;
      name.resize(std::max<std::size_t>(name.size(), 19), ' ');  // %-19s
      out.line("                        " + name + ": " + with_thousands(heuristic.bytes) +
               " bytes in " + with_thousands(heuristic.blocks) + " blocks");
    }
  }
  out.line(totals_line("        suppressed: ", analysis.suppressed));
  std::uint64_t unsuppressed_blocks = 0;
  for (const Totals& totals : analysis.kind_totals) unsuppressed_blocks += totals.blocks;
  if (analysis.leak_check != LeakCheckMode::full && unsuppressed_blocks > 0) {
    out.line("Rerun with --leak-check=full to see details of leaked memory");
  }
  if (analysis.leak_check == LeakCheckMode::full &&
      analysis.totals(LeakKind::reachable).blocks > 0 &&
      !options.show_leak_kinds.contains(LeakKind::reachable)) {
    out.line("Reachable blocks (those to which a pointer was found) are not shown.");
    out.line("To see them, rerun with: --leak-check=full --show-leak-kinds=all");
  }
  out.blank();
}

// m_errormgr.c's show_all_errors: the summary, then with -s the error contexts by increasing
// count, the suppressions used, and the summary again.
void write_error_summary(Writer& out, const Analysis& analysis, const CheckOptions& options) {
  const bool normal = !options.quiet;
  if (!normal && !options.show_error_list) return;
  if (normal && !options.verbose && !options.show_error_list) {
    out.line("For lists of detected and suppressed errors, rerun with: -s");
  }
  out.line(error_summary_line(analysis.error_summary));
  if (!options.show_error_list) return;

  std::vector<const FreeErrorContext*> listed;
  for (const FreeErrorContext& error : analysis.error_contexts) {
    if (error.suppressed_by.empty()) listed.push_back(&error);
  }
  std::stable_sort(
      listed.begin(), listed.end(),
      [](const FreeErrorContext* a, const FreeErrorContext* b) { return a->count < b->count; });
  for (std::size_t i = 0; i < listed.size(); ++i) {
    out.blank();
    out.line(std::to_string(listed[i]->count) + " errors in context " + std::to_string(i + 1) +
             " of " + std::to_string(analysis.error_summary.contexts) + ":");
    write_free_error(out, *listed[i]);
  }
  for (std::size_t i = 0; i < analysis.used_suppressions.size(); ++i) {
    const UsedSuppression& used = analysis.used_suppressions[i];
    if (i == 0) out.debug("");
    std::string count = std::to_string(used.count);
    if (count.size() < 6) count.insert(0, 6 - count.size(), ' ');  // %6d
    std::string line = "used_suppression: " + count + " " + used.name + " " + used.file + ":" +
                       std::to_string(used.line);
    if (used.leak) {
      line += " suppressed: " + with_thousands(used.bytes) + " bytes in " +
              with_thousands(used.blocks) + " blocks";
    }
    out.debug(line);
  }
  if (!analysis.used_suppressions.empty()) out.blank();
  if (!analysis.used_suppressions.empty() || !listed.empty()) {
    out.line(error_summary_line(analysis.error_summary));
  }
}

}  // namespace

std::string with_thousands(std::uint64_t value) {
  std::string digits = std::to_string(value);
  for (std::size_t i = digits.size(); i > 3; i -= 3) digits.insert(i - 3, ",");
  return digits;
}

std::string render_preamble(long pid, const std::vector<std::string>& command,
                            const CheckOptions& options) {
  if (options.quiet) return "";
  Writer out(pid);
  out.line("memkit check, a leak checker for unmodified programs");
  out.line(std::string("memkit ") + memkit::version() + "; docs/check.md explains this report");
  std::string joined;
  for (const std::string& argument : command) {
    if (!joined.empty()) joined += ' ';
    joined += argument;
  }
  out.line("Command: " + joined);
  out.blank();
  return out.take();
}

std::string render_valgrind_text(const Analysis& analysis, const CheckOptions& options) {
  Writer out(analysis.pid);
  const bool gen = options.gen_suppressions != GenSuppressions::no;
  for (const FreeErrorContext& error : analysis.error_contexts) {
    if (!error.suppressed_by.empty()) continue;
    write_free_error(out, error);
    if (gen) write_suppression(out, "Memcheck:Free", error.stack, nullptr);
  }
  if (analysis.errors_dropped > 0) {
    out.line(with_thousands(analysis.errors_dropped) +
             " more invalid or mismatched frees happened after the runtime's error table was "
             "full: counted, not shown");
    out.blank();
  }
  if (!options.quiet) {
    out.blank();
    out.line("HEAP SUMMARY:");
    out.line("    in use at exit: " + with_thousands(analysis.heap.in_use_bytes) + " bytes in " +
             with_thousands(analysis.heap.in_use_blocks) + " blocks");
    out.line("  total heap usage: " + with_thousands(analysis.heap.allocs) + " allocs, " +
             with_thousands(analysis.heap.frees) + " frees, " +
             with_thousands(analysis.heap.bytes_allocated) + " bytes allocated");
    out.blank();
  }
  write_leaks(out, analysis, options);
  write_error_summary(out, analysis, options);
  return out.take();
}

std::string render_signal_line(long pid, int signal_number) {
  Writer out(pid);
  const char* abbreviation = sigabbrev_np(signal_number);
  out.line("Process terminating with default action of signal " + std::to_string(signal_number) +
           (abbreviation != nullptr ? std::string(" (SIG") + abbreviation + ")" : std::string()));
  return out.take();
}

}  // namespace memkit::check
