// memkit maps: reading (or snapshotting) a map, then printing it as a table or as JSON.
#include "maps_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string_view>
#include <type_traits>

#include "memkit/base/error.h"
#include "memkit/inspect/human_size.h"
#include "memkit/inspect/process_map.h"
#include "preload_launch.h"

namespace memkit_tool {
namespace {

using memkit::inspect::kind_key;
using memkit::inspect::kind_name;
using memkit::inspect::Module;
using memkit::inspect::ProcessMap;
using memkit::inspect::Region;
using memkit::inspect::RegionKind;
using memkit::inspect::SmapsField;
using memkit::inspect::SmapsValues;

constexpr std::string_view kSnapshotMagic = "memkit-maps-snapshot 1";

bool all_digits(const std::string& text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The output: one buffer, handed to the stream a block at a time. Going through std::cout's
// operator<< for 10,000 regions (a sentry and a locale-aware number format per piece) cost as
// much as parsing them; appending to a string and formatting numbers with std::to_chars does
// not. Writing every 64 KiB keeps the buffer small and in cache instead of building 7 MB of
// JSON in memory first.
class Output {
 public:
  explicit Output(std::ostream& sink) : sink_(sink) { text_.reserve(kBlock + kBlock / 4); }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  Output& operator<<(std::string_view text) {
    text_.append(text);
    if (text_.size() >= kBlock) write_buffered();
    return *this;
  }
  Output& operator<<(char c) {
    text_ += c;
    return *this;
  }
  template <typename Integer>
  requires std::is_integral_v<Integer> Output& operator<<(Integer value) {
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, value);
    return *this << std::string_view(digits, static_cast<std::size_t>(result.ptr - digits));
  }
  // Lower-case hex, zero-padded to at least `width` digits.
  Output& hex(std::uint64_t value, std::size_t width = 0) {
    char digits[16];
    const auto result = std::to_chars(digits, digits + sizeof digits, value, 16);
    const auto count = static_cast<std::size_t>(result.ptr - digits);
    if (count < width) text_.append(width - count, '0');
    return *this << std::string_view(digits, count);
  }
  // Writes what is left and flushes the stream.
  void finish() {
    write_buffered();
    sink_.flush();
  }

 private:
  static constexpr std::size_t kBlock = std::size_t{64} << 10;

  void write_buffered() {
    sink_.write(text_.data(), static_cast<std::streamsize>(text_.size()));
    text_.clear();
  }

  std::ostream& sink_;
  std::string text_;
};

std::string hex(std::uint64_t value) {
  char digits[16];
  const auto result = std::to_chars(digits, digits + sizeof digits, value, 16);
  return std::string(digits, result.ptr);
}

// ---- running a program under the snapshot library ------------------------------------------

std::string preload_library_path() {
  return memkit_tool::preload_library("MEMKIT_MAPS_PRELOAD", MEMKIT_MAPS_PRELOAD_BUILD_PATH,
                                      MEMKIT_MAPS_PRELOAD_INSTALL_PATH);
}

struct ProgramRun {
  pid_t pid = 0;
  int exit_status = 0;  // what memkit exits with: the code, or 128 + signal
  std::string ended;    // "exited with status 3", "was killed by signal 9 (Killed)"
  std::string snapshot;
};

ProgramRun run_program(const std::vector<std::string>& command) {
  const std::string preload = preload_library_path();
  if (::access(preload.c_str(), R_OK) != 0) {
    throw std::runtime_error("cannot find " + preload +
                             " (the snapshot library; set MEMKIT_MAPS_PRELOAD to its path)");
  }
  char output_template[] = "/tmp/memkit-maps-XXXXXX";
  const int output_fd = ::mkstemp(output_template);
  if (output_fd < 0) {
    throw std::runtime_error(std::string("cannot create a temporary file: ") +
                             std::strerror(errno));
  }
  ::close(output_fd);
  const std::string output = output_template;

  const std::string ld_preload = memkit_tool::ld_preload_with(preload);
  std::vector<char*> argv = memkit_tool::exec_argv(command);

  std::cout.flush();
  const pid_t child = ::fork();
  if (child < 0) {
    ::unlink(output.c_str());
    throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  }
  if (child == 0) {
    ::setenv("MEMKIT_MAPS_OUTPUT", output.c_str(), 1);
    ::setenv("MEMKIT_MAPS_PID", std::to_string(::getpid()).c_str(), 1);
    ::setenv("LD_PRELOAD", ld_preload.c_str(), 1);
    ::execvp(argv[0], argv.data());
    const std::string message =
        "memkit maps: cannot run " + command[0] + ": " + std::strerror(errno) + "\n";
    (void)!::write(STDERR_FILENO, message.data(), message.size());
    ::_exit(127);
  }

  // Like time(1): an interrupt goes to the program; memkit waits for it and still reports.
  struct sigaction ignore {};
  struct sigaction old_int {};
  struct sigaction old_quit {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGINT, &ignore, &old_int);
  ::sigaction(SIGQUIT, &ignore, &old_quit);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGQUIT, &old_quit, nullptr);

  ProgramRun run;
  run.pid = child;
  if (WIFEXITED(status)) {
    run.exit_status = WEXITSTATUS(status);
    run.ended = "exited with status " + std::to_string(run.exit_status);
  } else if (WIFSIGNALED(status)) {
    run.exit_status = 128 + WTERMSIG(status);
    run.ended = "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                ::strsignal(WTERMSIG(status)) + ")";
  }
  try {
    run.snapshot = memkit::inspect::read_proc_file(output);
  } catch (const memkit::ProcReadError&) {
    run.snapshot.clear();
  }
  ::unlink(output.c_str());
  return run;
}

struct Snapshot {
  pid_t pid = 0;
  std::string executable;
  std::vector<memkit::inspect::ThreadStackPointer> threads;
  std::string_view smaps;
};

// The header the preload library writes (src/inspect/preload/maps_snapshot.c), then smaps.
Snapshot parse_snapshot(std::string_view text) {
  Snapshot snapshot;
  auto next_line = [&text]() {
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    return line;
  };
  if (next_line() != kSnapshotMagic) {
    throw std::runtime_error("the snapshot does not start with \"" + std::string(kSnapshotMagic) +
                             "\"");
  }
  while (!text.empty()) {
    const std::string_view line = next_line();
    if (line == "smaps") {
      snapshot.smaps = text;
      return snapshot;
    }
    if (line.substr(0, 4) == "pid ") {
      snapshot.pid =
          static_cast<pid_t>(std::strtol(std::string(line.substr(4)).c_str(), nullptr, 10));
    } else if (line.substr(0, 4) == "exe ") {
      snapshot.executable = std::string(line.substr(4));
    } else if (line.substr(0, 7) == "thread ") {
      std::istringstream in{std::string(line.substr(7))};
      int id = 0;
      std::string stack_pointer;
      in >> id >> stack_pointer;
      snapshot.threads.push_back(
          {id, static_cast<std::uint64_t>(std::strtoull(stack_pointer.c_str(), nullptr, 16))});
    }
  }
  throw std::runtime_error("the snapshot has no \"smaps\" section");
}

// ---- ordering ---------------------------------------------------------------------------

std::uint64_t sort_value(const std::string& sort, std::uint64_t size, std::uint64_t rss) {
  return sort == "rss" ? rss : size;
}

void sort_indexes(std::vector<std::size_t>& indexes, const ProcessMap& map,
                  const std::string& sort) {
  if (sort == "address") return;  // the map is in address order already
  std::stable_sort(indexes.begin(), indexes.end(), [&](std::size_t a, std::size_t b) {
    const Region& ra = map.regions()[a];
    const Region& rb = map.regions()[b];
    return sort_value(sort, ra.size_kib(), ra.rss_kib()) >
           sort_value(sort, rb.size_kib(), rb.rss_kib());
  });
}

struct Group {
  const Module* module = nullptr;  // null: the regions outside every module
  std::vector<std::size_t> regions;
  std::uint64_t size_kib = 0;
  std::uint64_t rss_kib = 0;
};

std::vector<Group> grouped(const ProcessMap& map, const std::string& sort) {
  std::vector<Group> groups;
  for (const Module& module : map.modules()) {
    Group group;
    group.module = &module;
    group.regions = module.regions;
    group.size_kib = module.size_kib();
    group.rss_kib = module.totals.get(SmapsField::kRss);
    groups.push_back(std::move(group));
  }
  if (sort != "address") {
    std::stable_sort(groups.begin(), groups.end(), [&](const Group& a, const Group& b) {
      return sort_value(sort, a.size_kib, a.rss_kib) > sort_value(sort, b.size_kib, b.rss_kib);
    });
  }
  Group others;
  for (std::size_t i = 0; i < map.regions().size(); ++i) {
    if (map.regions()[i].module < 0) others.regions.push_back(i);
  }
  if (!others.regions.empty()) groups.push_back(std::move(others));
  for (Group& group : groups) sort_indexes(group.regions, map, sort);
  return groups;
}

// ---- text -------------------------------------------------------------------------------

class TextPrinter {
 public:
  TextPrinter(const ProcessMap& map, bool kib) : map_(map), kib_(kib) {}

  std::string size(std::uint64_t kib) const {
    return kib_ ? std::to_string(kib) : memkit::inspect::human_kib(kib);
  }

  std::string describe(const Region& region) const {
    std::string text(kind_name(region.kind));
    if (region.thread_id > 0) text += " (thread " + std::to_string(region.thread_id) + ")";
    if (region.thread_id == 0) text += " (thread unknown)";
    if (region.module < 0 && !region.path.empty()) text += "  " + region.path;
    if (region.deleted) text += " (deleted)";
    return text;
  }

  void row(Output& out, const Region& region) const {
    char line[160];
    std::snprintf(line, sizeof line, "  %16s-%-16s %10s %10s %10s %10s  %s  %08llx  ",
                  hex(region.start).c_str(), hex(region.end).c_str(),
                  size(region.size_kib()).c_str(), size(region.rss_kib()).c_str(),
                  size(region.pss_kib()).c_str(), size(region.swap_kib()).c_str(),
                  region.permissions.to_string().c_str(),
                  static_cast<unsigned long long>(region.offset));
    out << line << describe(region) << "\n";
  }

  void module_heading(Output& out, const Module& module) const {
    out << module.path << (module.main_executable ? " (executable)" : "") << ": "
        << size(module.size_kib()) << " mapped";
    const RegionKind parts[] = {RegionKind::kText, RegionKind::kReadOnlyData, RegionKind::kData,
                                RegionKind::kBss};
    const char* separator = " (";
    for (RegionKind kind : parts) {
      out << separator << kind_name(kind) << " " << size(module.kib(kind));
      separator = ", ";
    }
    out << "), rss " << size(module.totals.get(SmapsField::kRss)) << ", pss "
        << size(module.totals.get(SmapsField::kPss)) << "\n";
  }

  void print(Output& out, const std::vector<Group>& groups) const {
    char header[160];
    std::snprintf(header, sizeof header, "  %-33s %10s %10s %10s %10s  %s  %-8s  %s\n", "ADDRESS",
                  kib_ ? "SIZE KiB" : "SIZE", kib_ ? "RSS KiB" : "RSS", kib_ ? "PSS KiB" : "PSS",
                  kib_ ? "SWAP KiB" : "SWAP", "PERM", "OFFSET", "KIND");
    for (const Group& group : groups) {
      out << "\n";
      if (group.module != nullptr) {
        module_heading(out, *group.module);
      } else {
        out << "other regions:\n";
      }
      out << header;
      for (std::size_t index : group.regions) row(out, map_.regions()[index]);
    }

    std::array<std::uint64_t, memkit::inspect::kRegionKindCount> by_kind{};
    for (const Region& region : map_.regions()) {
      by_kind[static_cast<std::size_t>(region.kind)] += region.size_kib();
    }
    out << "\nby kind:";
    const char* separator = " ";
    for (std::size_t i = 0; i < by_kind.size(); ++i) {
      if (by_kind[i] == 0) continue;
      out << separator << kind_name(static_cast<RegionKind>(i)) << " " << size(by_kind[i]);
      separator = ", ";
    }
    const SmapsValues& totals = map_.totals();
    out << "\ntotal: " << size(map_.size_kib()) << " mapped";
    if (map_.has_smaps()) {
      out << ", " << size(totals.get(SmapsField::kRss)) << " resident (rss), "
          << size(totals.get(SmapsField::kPss)) << " proportional (pss), "
          << size(totals.get(SmapsField::kSwap)) << " swapped";
      out << "\n       in KiB as pmap -X counts: size " << map_.size_kib() << ", rss "
          << totals.get(SmapsField::kRss) << ", pss " << totals.get(SmapsField::kPss) << ", swap "
          << totals.get(SmapsField::kSwap);
    }
    out << "\n";
  }

 private:
  const ProcessMap& map_;
  bool kib_;
};

// ---- JSON ----------------------------------------------------------------------------------
// Written by hand, not through a JSON DOM: 10,000 regions with 25 counters each would be 300,000
// nodes to build and then print, which took longer than pmap -X itself (measured).

void json_string(Output& out, std::string_view text) {
  out << '"';
  std::size_t plain = 0;  // the start of characters not yet written, none needing an escape
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto byte = static_cast<unsigned char>(c);
    if (c != '"' && c != '\\' && byte >= 0x20) continue;
    out << text.substr(plain, i - plain);
    plain = i + 1;
    if (c == '"' || c == '\\') {
      out << '\\' << c;
    } else if (c == '\n') {
      out << "\\n";
    } else {
      out << "\\u00";
      out.hex(byte, 2);
    }
  }
  out << text.substr(plain) << '"';
}

void json_smaps(Output& out, const SmapsValues& values, bool sums_only) {
  out << '{';
  const char* separator = "";
  for (std::size_t i = 0; i < memkit::inspect::kSmapsFieldCount; ++i) {
    const auto field = static_cast<SmapsField>(i);
    if (!values.has(field)) continue;
    if (sums_only && !memkit::inspect::smaps_field_is_kib(field)) continue;
    out << separator << '"' << memkit::inspect::smaps_field_name(field)
        << "\":" << values.get(field);
    separator = ",";
  }
  out << '}';
}

struct JsonExtras {
  pid_t pid = 0;
  std::string executable;
  bool has_exit_status = false;
  int exit_status = 0;
};

void write_json(Output& out, const ProcessMap& map, const std::vector<Group>& groups,
                const JsonExtras& extras) {
  out << "{\n  \"pid\": " << extras.pid << ",\n  \"executable\": ";
  json_string(out, extras.executable);
  out << ",\n  \"has_smaps\": " << (map.has_smaps() ? "true" : "false");
  if (extras.has_exit_status) out << ",\n  \"exit_status\": " << extras.exit_status;
  out << ",\n  \"regions\": [";
  const char* separator = "\n    ";
  for (const Group& group : groups) {
    for (std::size_t index : group.regions) {
      const Region& region = map.regions()[index];
      out << separator << "{\"start\": \"0x";
      out.hex(region.start) << "\", \"end\": \"0x";
      out.hex(region.end) << "\", \"size_kib\": " << region.size_kib()
                          << ", \"rss_kib\": " << region.rss_kib()
                          << ", \"pss_kib\": " << region.pss_kib()
                          << ", \"swap_kib\": " << region.swap_kib() << ", \"permissions\": \""
                          << region.permissions.to_string() << "\", \"offset\": \"0x";
      out.hex(region.offset) << "\", \"device\": \"";
      out.hex(region.device_major, 2) << ':';
      out.hex(region.device_minor, 2) << "\", \"inode\": " << region.inode << ", \"path\": ";
      json_string(out, region.path);
      out << ", \"deleted\": " << (region.deleted ? "true" : "false") << ", \"kind\": \""
          << kind_key(region.kind) << "\", \"module\": ";
      if (region.module >= 0) {
        json_string(out, map.modules()[static_cast<std::size_t>(region.module)].path);
      } else {
        out << "null";
      }
      out << ", \"thread_id\": ";
      if (region.thread_id >= 0) {
        out << region.thread_id;
      } else {
        out << "null";
      }
      out << ", \"smaps\": ";
      json_smaps(out, region.smaps, false);
      out << ", \"vm_flags\": ";
      json_string(out, region.vm_flags);
      out << ", \"extra_fields\": {";
      const char* field_separator = "";
      for (const auto& field : region.extra_fields) {
        out << field_separator;
        json_string(out, field.name);
        out << ": ";
        json_string(out, field.value);
        field_separator = ", ";
      }
      out << "}}";
      separator = ",\n    ";
    }
  }
  out << "\n  ],\n  \"modules\": [";
  separator = "\n    ";
  for (const Group& group : groups) {
    if (group.module == nullptr) continue;
    const Module& module = *group.module;
    out << separator << "{\"path\": ";
    json_string(out, module.path);
    out << ", \"name\": ";
    json_string(out, module.name);
    out << ", \"main_executable\": " << (module.main_executable ? "true" : "false")
        << ", \"size_kib\": " << module.size_kib()
        << ", \"text_kib\": " << module.kib(RegionKind::kText)
        << ", \"rodata_kib\": " << module.kib(RegionKind::kReadOnlyData)
        << ", \"data_kib\": " << module.kib(RegionKind::kData)
        << ", \"bss_kib\": " << module.kib(RegionKind::kBss)
        << ", \"rss_kib\": " << module.totals.get(SmapsField::kRss)
        << ", \"pss_kib\": " << module.totals.get(SmapsField::kPss)
        << ", \"swap_kib\": " << module.totals.get(SmapsField::kSwap) << "}";
    separator = ",\n    ";
  }
  out << "\n  ],\n  \"totals\": {\"size_kib\": " << map.size_kib()
      << ", \"rss_kib\": " << map.totals().get(SmapsField::kRss)
      << ", \"pss_kib\": " << map.totals().get(SmapsField::kPss)
      << ", \"swap_kib\": " << map.totals().get(SmapsField::kSwap)
      << ", \"regions\": " << map.regions().size() << ", \"smaps\": ";
  json_smaps(out, map.totals(), true);
  out << "}\n}\n";
}

}  // namespace

MapsCommand::MapsCommand(CLI::App& parent) {
  app_ = parent.add_subcommand(
      "maps",
      "Show a process's memory map: each region's kind (text, data, bss, heap, stacks, ...), "
      "grouped by module, with totals");
  app_->require_subcommand(0, 0);  // the tool requires one subcommand; maps has none
  app_->add_option("--sort", sort_, "Order regions (and modules) by size, rss or address")
      ->check(CLI::IsMember({"size", "rss", "address"}));
  app_->add_flag("--json", json_, "Print JSON: {\"regions\": [...], \"totals\": {...}}");
  app_->add_flag("--kib", kib_, "Print sizes as plain KiB numbers instead of 1.3 MiB");
  app_->add_option("target", target_,
                   "PID, or -- PROGRAM ARGS... to run PROGRAM and show its "
                   "map as it exits")
      ->required();
  app_->footer(
      "Examples:\n  memkit maps 4242\n  memkit maps --sort rss --json 4242\n"
      "  memkit maps -- ./server --port 8080");
}

int MapsCommand::run() const {
  const bool is_pid = target_.size() == 1 && all_digits(target_[0]);
  try {
    if (is_pid) {
      const pid_t pid = static_cast<pid_t>(std::strtol(target_[0].c_str(), nullptr, 10));
      const ProcessMap map = ProcessMap::read(pid);
      const std::vector<Group> groups = grouped(map, sort_);
      Output out(std::cout);
      if (json_) {
        JsonExtras extras;
        extras.pid = pid;
        extras.executable = map.executable();
        write_json(out, map, groups, extras);
      } else {
        out << "memkit maps: pid " << pid << " (" << map.executable() << "), "
            << map.regions().size() << " regions\n";
        TextPrinter(map, kib_).print(out, groups);
      }
      out.finish();
      return 0;
    }

    const ProgramRun run = run_program(target_);
    if (run.snapshot.empty()) {
      std::cerr << "memkit maps: " << target_[0] << " " << run.ended
                << " without writing its map (it ended with _exit() or a signal, or it ignores "
                   "LD_PRELOAD: a static or setuid program)\n";
      return run.exit_status != 0 ? run.exit_status : 1;
    }
    const Snapshot snapshot = parse_snapshot(run.snapshot);
    const ProcessMap map = ProcessMap::parse(snapshot.smaps, "the snapshot of " + target_[0],
                                             snapshot.threads, snapshot.executable);
    const std::vector<Group> groups = grouped(map, sort_);
    Output out(std::cout);
    if (json_) {
      JsonExtras extras;
      extras.pid = snapshot.pid;
      extras.executable = snapshot.executable;
      extras.has_exit_status = true;
      extras.exit_status = run.exit_status;
      write_json(out, map, groups, extras);
    } else {
      out << "memkit maps: " << target_[0] << " (pid " << snapshot.pid << ") as it " << run.ended
          << ", " << map.regions().size() << " regions\n";
      TextPrinter(map, kib_).print(out, groups);
    }
    out.finish();
    return run.exit_status;
  } catch (const memkit::InspectError& error) {
    std::cerr << "memkit maps: " << error.what() << "\n";
    return 1;
  } catch (const std::runtime_error& error) {
    std::cerr << "memkit maps: " << error.what() << "\n";
    return 1;
  }
}

}  // namespace memkit_tool
