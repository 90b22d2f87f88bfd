// Reading and checking a raw report. Every accessor takes the JSON path of the value it reads, so
// that an error says exactly which key was wrong.
#include "raw_report.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "check_error.h"

namespace memkit::check {
namespace {

using nlohmann::json;

std::string describe(const json& value) {
  std::string text = value.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

std::string join(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string path(parent);
  return path.append(".").append(key);
}

std::string index_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  [[noreturn]] void fail(std::string_view path, std::string_view problem) const {
    throw RawReportError(source_, path, problem);
  }

  const json& member(const json& object, std::string_view parent, const char* key) const {
    const auto it = object.find(key);
    if (it == object.end()) fail(join(parent, key), "missing (every key is required)");
    return *it;
  }

  const json& object(const json& parent, std::string_view parent_path, const char* key) const {
    const json& value = member(parent, parent_path, key);
    if (!value.is_object())
      fail(join(parent_path, key), "expected an object, found " + describe(value));
    return value;
  }

  const json& array(const json& parent, std::string_view parent_path, const char* key) const {
    const json& value = member(parent, parent_path, key);
    if (!value.is_array())
      fail(join(parent_path, key), "expected an array, found " + describe(value));
    return value;
  }

  std::uint64_t unsigned_value(const json& value, std::string_view path) const {
    // A parsed non-negative number is "unsigned" to nlohmann; one built in memory may not be.
    if (!value.is_number_integer() || (!value.is_number_unsigned() && value.get<long long>() < 0)) {
      fail(path, "expected a non-negative integer, found " + describe(value));
    }
    return value.get<std::uint64_t>();
  }

  std::uint64_t unsigned_member(const json& parent, std::string_view parent_path,
                                const char* key) const {
    return unsigned_value(member(parent, parent_path, key), join(parent_path, key));
  }

  std::uint32_t stack_member(const json& parent, std::string_view parent_path,
                             const char* key) const {
    const std::uint64_t id = unsigned_member(parent, parent_path, key);
    if (id > std::numeric_limits<std::uint32_t>::max()) {
      fail(join(parent_path, key), "stack id " + std::to_string(id) + " is out of range");
    }
    return static_cast<std::uint32_t>(id);
  }

  long long signed_member(const json& parent, std::string_view parent_path, const char* key) const {
    const json& value = member(parent, parent_path, key);
    if (!value.is_number_integer()) {
      fail(join(parent_path, key), "expected an integer, found " + describe(value));
    }
    return value.get<long long>();
  }

  std::string string_member(const json& parent, std::string_view parent_path,
                            const char* key) const {
    const json& value = member(parent, parent_path, key);
    if (!value.is_string()) {
      fail(join(parent_path, key), "expected a string, found " + describe(value));
    }
    return value.get<std::string>();
  }

  bool bool_member(const json& parent, std::string_view parent_path, const char* key) const {
    const json& value = member(parent, parent_path, key);
    if (!value.is_boolean()) {
      fail(join(parent_path, key), "expected true or false, found " + describe(value));
    }
    return value.get<bool>();
  }

  // A string that must be one of `choices`; returns its index.
  template <std::size_t N>
  std::size_t choice_member(const json& parent, std::string_view parent_path, const char* key,
                            const std::string_view (&choices)[N]) const {
    const std::string value = string_member(parent, parent_path, key);
    for (std::size_t i = 0; i < N; ++i) {
      if (choices[i] == value) return i;
    }
    std::string expected = "expected ";
    for (std::size_t i = 0; i < N; ++i) {
      if (i > 0) expected += i + 1 == N ? " or " : ", ";
      expected.append("\"").append(choices[i]).append("\"");
    }
    fail(join(parent_path, key), expected + ", found \"" + value + "\"");
  }

 private:
  std::string source_;
};

constexpr std::string_view kEndHows[] = {"return", "exit", "_exit", "destructor", "request"};
constexpr std::string_view kLeakCheckModes[] = {"no", "summary", "full"};
constexpr std::string_view kRecordKinds[] = {"definite", "indirect", "possible", "reachable"};
constexpr LeakKind kRecordKindValues[] = {LeakKind::definite, LeakKind::indirect,
                                          LeakKind::possible, LeakKind::reachable};
constexpr std::string_view kHeuristicNames[] = {"stdstring", "length64", "newarray",
                                                "multipleinheritance"};
constexpr std::string_view kErrorKinds[] = {"invalid_free", "mismatched_free"};
constexpr std::string_view kOperations[] = {"free", "delete", "delete[]", "realloc"};
constexpr std::string_view kBlockStates[] = {"live", "freed"};
constexpr std::string_view kAllocKinds[] = {"malloc", "new", "new[]"};

RawBlock read_block(const Reader& reader, const json& value, const std::string& path) {
  RawBlock block;
  block.address = reader.unsigned_member(value, path, "address");
  block.size = reader.unsigned_member(value, path, "size");
  block.freed = reader.choice_member(value, path, "state", kBlockStates) == 1;
  block.alloc_kind =
      static_cast<AllocFamily>(reader.choice_member(value, path, "alloc_kind", kAllocKinds));
  block.alloc_stack = reader.stack_member(value, path, "alloc_stack");
  block.free_stack = reader.stack_member(value, path, "free_stack");
  if (!block.freed && block.free_stack != 0) {
    reader.fail(join(path, "free_stack"),
                "must be 0 for a live block, found " + std::to_string(block.free_stack));
  }
  return block;
}

void check_stack_exists(const Reader& reader, const RawReport& report, std::uint32_t id,
                        const std::string& path, bool zero_allowed) {
  if (id == 0) {
    if (!zero_allowed) reader.fail(path, "stack id 0 (none) where a stack is required");
    return;
  }
  if (report.stacks.find(id) == report.stacks.end()) {
    reader.fail(path, "stack " + std::to_string(id) + " is not in \"stacks\"");
  }
}

}  // namespace

std::string_view free_operation_key(FreeOperation operation) noexcept {
  return kOperations[static_cast<std::size_t>(operation)];
}

std::string_view alloc_family_key(AllocFamily family) noexcept {
  return kAllocKinds[static_cast<std::size_t>(family)];
}

const std::vector<std::uintptr_t>& RawReport::frames(std::uint32_t id) const {
  static const std::vector<std::uintptr_t> kNone;
  const auto it = stacks.find(id);
  return it == stacks.end() ? kNone : it->second;
}

RawReport parse_raw_report(std::string_view text, std::string_view source) {
  const Reader reader(source);
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& error) {
    reader.fail("", std::string("not valid JSON (") + error.what() + ")");
  }
  if (!root.is_object()) reader.fail("", "expected a JSON object, found " + describe(root));

  if (reader.string_member(root, "", "format") != kRawReportFormat) {
    reader.fail("format", "expected \"memkit-check-raw\" (is this a memkit check raw report?)");
  }
  const std::uint64_t version = reader.unsigned_member(root, "", "version");
  if (version != kRawReportVersion) {
    reader.fail("version", "this memkit reads version " + std::to_string(kRawReportVersion) +
                               ", the file is version " + std::to_string(version));
  }

  RawReport report;
  report.pid = static_cast<long>(reader.unsigned_member(root, "", "pid"));
  report.ppid = static_cast<long>(reader.unsigned_member(root, "", "ppid"));
  const json& command = reader.array(root, "", "command");
  for (std::size_t i = 0; i < command.size(); ++i) {
    if (!command[i].is_string()) {
      reader.fail(index_path("command", i), "expected a string, found " + describe(command[i]));
    }
    report.command.push_back(command[i].get<std::string>());
  }
  report.exe = reader.string_member(root, "", "exe");

  const json& end = reader.object(root, "", "end");
  report.end_how = std::string(kEndHows[reader.choice_member(end, "end", "how", kEndHows)]);
  report.end_status = static_cast<int>(reader.signed_member(end, "end", "status"));

  report.leak_check =
      static_cast<LeakCheckMode>(reader.choice_member(root, "", "leak_check", kLeakCheckModes));

  const json& heap = reader.object(root, "", "heap");
  report.heap.in_use_bytes = reader.unsigned_member(heap, "heap", "in_use_bytes");
  report.heap.in_use_blocks = reader.unsigned_member(heap, "heap", "in_use_blocks");
  report.heap.allocs = reader.unsigned_member(heap, "heap", "allocs");
  report.heap.frees = reader.unsigned_member(heap, "heap", "frees");
  report.heap.bytes_allocated = reader.unsigned_member(heap, "heap", "bytes_allocated");

  // Stacks first: records and errors are checked against them.
  const json& stacks = reader.array(root, "", "stacks");
  for (std::size_t i = 0; i < stacks.size(); ++i) {
    const std::string path = index_path("stacks", i);
    if (!stacks[i].is_object())
      reader.fail(path, "expected an object, found " + describe(stacks[i]));
    const std::uint32_t id = reader.stack_member(stacks[i], path, "id");
    if (id == 0) reader.fail(join(path, "id"), "stack ids start at 1");
    const json& frames = reader.array(stacks[i], path, "frames");
    std::vector<std::uintptr_t> addresses;
    for (std::size_t f = 0; f < frames.size(); ++f) {
      addresses.push_back(reader.unsigned_value(frames[f], index_path(join(path, "frames"), f)));
    }
    if (!report.stacks.emplace(id, std::move(addresses)).second) {
      reader.fail(join(path, "id"), "stack " + std::to_string(id) + " appears twice");
    }
  }

  const json& leaks = reader.object(root, "", "leaks");
  report.searched = reader.bool_member(leaks, "leaks", "searched");
  const json& records = reader.array(leaks, "leaks", "records");
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::string path = index_path("leaks.records", i);
    if (!records[i].is_object())
      reader.fail(path, "expected an object, found " + describe(records[i]));
    RawLossRecord record;
    record.kind = kRecordKindValues[reader.choice_member(records[i], path, "kind", kRecordKinds)];
    record.stack = reader.stack_member(records[i], path, "stack");
    check_stack_exists(reader, report, record.stack, join(path, "stack"), false);
    record.bytes = reader.unsigned_member(records[i], path, "bytes");
    record.indirect_bytes = reader.unsigned_member(records[i], path, "indirect_bytes");
    record.blocks = reader.unsigned_member(records[i], path, "blocks");
    if (record.blocks == 0)
      reader.fail(join(path, "blocks"), "a loss record holds at least 1 block");
    report.records.push_back(record);
  }
  const json& heuristics = reader.array(leaks, "leaks", "heuristics");
  for (std::size_t i = 0; i < heuristics.size(); ++i) {
    const std::string path = index_path("leaks.heuristics", i);
    if (!heuristics[i].is_object()) {
      reader.fail(path, "expected an object, found " + describe(heuristics[i]));
    }
    RawHeuristic heuristic;
    heuristic.name = std::string(
        kHeuristicNames[reader.choice_member(heuristics[i], path, "name", kHeuristicNames)]);
    heuristic.bytes = reader.unsigned_member(heuristics[i], path, "bytes");
    heuristic.blocks = reader.unsigned_member(heuristics[i], path, "blocks");
    report.heuristics.push_back(heuristic);
  }
  report.threads_not_stopped = reader.unsigned_member(leaks, "leaks", "threads_not_stopped");
  report.checked_bytes = reader.unsigned_member(leaks, "leaks", "checked_bytes");

  const json& errors = reader.array(root, "", "errors");
  for (std::size_t i = 0; i < errors.size(); ++i) {
    const std::string path = index_path("errors", i);
    if (!errors[i].is_object())
      reader.fail(path, "expected an object, found " + describe(errors[i]));
    RawFreeError error;
    error.mismatched = reader.choice_member(errors[i], path, "kind", kErrorKinds) == 1;
    error.operation =
        static_cast<FreeOperation>(reader.choice_member(errors[i], path, "operation", kOperations));
    error.address = reader.unsigned_member(errors[i], path, "address");
    error.stack = reader.stack_member(errors[i], path, "stack");
    check_stack_exists(reader, report, error.stack, join(path, "stack"), false);
    const json& block = reader.member(errors[i], path, "block");
    const std::string block_path = join(path, "block");
    if (block.is_object()) {
      error.block = read_block(reader, block, block_path);
      check_stack_exists(reader, report, error.block->alloc_stack, join(block_path, "alloc_stack"),
                         true);
      check_stack_exists(reader, report, error.block->free_stack, join(block_path, "free_stack"),
                         true);
    } else if (!block.is_null()) {
      reader.fail(block_path, "expected an object or null, found " + describe(block));
    }
    if (error.mismatched && !error.block) {
      reader.fail(block_path, "a mismatched free always names its block");
    }
    report.errors.push_back(std::move(error));
  }
  report.errors_dropped = reader.unsigned_member(root, "", "errors_dropped");

  const json& modules = reader.array(root, "", "modules");
  for (std::size_t i = 0; i < modules.size(); ++i) {
    const std::string path = index_path("modules", i);
    if (!modules[i].is_object())
      reader.fail(path, "expected an object, found " + describe(modules[i]));
    RawModule module;
    module.path = reader.string_member(modules[i], path, "path");
    module.base = reader.unsigned_member(modules[i], path, "base");
    const json& ranges = reader.array(modules[i], path, "ranges");
    for (std::size_t r = 0; r < ranges.size(); ++r) {
      const std::string range_path = index_path(join(path, "ranges"), r);
      if (!ranges[r].is_array() || ranges[r].size() != 2) {
        reader.fail(range_path, "expected [begin, end], found " + describe(ranges[r]));
      }
      const std::uint64_t begin = reader.unsigned_value(ranges[r][0], range_path + "[0]");
      const std::uint64_t end_address = reader.unsigned_value(ranges[r][1], range_path + "[1]");
      if (end_address <= begin) reader.fail(range_path, "the range ends before it begins");
      module.ranges.emplace_back(begin, end_address);
    }
    report.modules.push_back(std::move(module));
  }
  return report;
}

RawReport read_raw_report(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw RawReportError(path, "", std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad())
    throw RawReportError(path, "", std::string("cannot read: ") + std::strerror(errno));
  return parse_raw_report(text.str(), path);
}

json raw_report_to_json(const RawReport& report) {
  json records = json::array();
  for (const RawLossRecord& record : report.records) {
    records.push_back({{"kind", leak_kind_key(record.kind)},
                       {"stack", record.stack},
                       {"bytes", record.bytes},
                       {"indirect_bytes", record.indirect_bytes},
                       {"blocks", record.blocks}});
  }
  json heuristics = json::array();
  for (const RawHeuristic& heuristic : report.heuristics) {
    heuristics.push_back(
        {{"name", heuristic.name}, {"bytes", heuristic.bytes}, {"blocks", heuristic.blocks}});
  }
  json errors = json::array();
  for (const RawFreeError& error : report.errors) {
    json block = nullptr;
    if (error.block) {
      block = {{"address", error.block->address},
               {"size", error.block->size},
               {"state", error.block->freed ? "freed" : "live"},
               {"alloc_kind", alloc_family_key(error.block->alloc_kind)},
               {"alloc_stack", error.block->alloc_stack},
               {"free_stack", error.block->free_stack}};
    }
    errors.push_back({{"kind", error.mismatched ? "mismatched_free" : "invalid_free"},
                      {"operation", free_operation_key(error.operation)},
                      {"address", error.address},
                      {"stack", error.stack},
                      {"block", block}});
  }
  json stacks = json::array();
  for (const auto& [id, frames] : report.stacks) stacks.push_back({{"id", id}, {"frames", frames}});
  json modules = json::array();
  for (const RawModule& module : report.modules) {
    json ranges = json::array();
    for (const auto& [begin, end] : module.ranges) ranges.push_back({begin, end});
    modules.push_back({{"path", module.path}, {"base", module.base}, {"ranges", ranges}});
  }
  return {{"format", kRawReportFormat},
          {"version", kRawReportVersion},
          {"pid", report.pid},
          {"ppid", report.ppid},
          {"command", report.command},
          {"exe", report.exe},
          {"end", {{"how", report.end_how}, {"status", report.end_status}}},
          {"leak_check", leak_check_mode_key(report.leak_check)},
          {"heap",
           {{"in_use_bytes", report.heap.in_use_bytes},
            {"in_use_blocks", report.heap.in_use_blocks},
            {"allocs", report.heap.allocs},
            {"frees", report.heap.frees},
            {"bytes_allocated", report.heap.bytes_allocated}}},
          {"leaks",
           {{"searched", report.searched},
            {"records", records},
            {"heuristics", heuristics},
            {"threads_not_stopped", report.threads_not_stopped},
            {"checked_bytes", report.checked_bytes}}},
          {"errors", errors},
          {"errors_dropped", report.errors_dropped},
          {"stacks", stacks},
          {"modules", modules}};
}

}  // namespace memkit::check
