// Analysis <-> JSON (schema in json_report.h).
#include "json_report.h"

#include "check_error.h"
#include "memkit/version.h"

namespace memkit::check {
namespace {

using nlohmann::json;

json optional_string(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

std::string string_or_empty(const json& value) {
  return value.is_null() ? std::string() : value.get<std::string>();
}

json stack_to_json(const SymbolizedStack& stack) {
  json frames = json::array();
  for (const SourceFrame& frame : stack) {
    frames.push_back({{"ip", frame.ip},
                      {"function", frame.function},
                      {"mangled", optional_string(frame.mangled)},
                      {"file", optional_string(frame.file)},
                      {"line", frame.file.empty() ? json(nullptr) : json(frame.line)},
                      {"object", optional_string(frame.object)},
                      {"inlined", frame.inlined}});
  }
  return frames;
}

SymbolizedStack stack_from_json(const json& frames) {
  SymbolizedStack stack;
  for (const json& frame : frames) {
    SourceFrame source;
    source.ip = frame.at("ip").get<std::uintptr_t>();
    source.function = frame.at("function").get<std::string>();
    source.mangled = string_or_empty(frame.at("mangled"));
    source.file = string_or_empty(frame.at("file"));
    source.line = frame.at("line").is_null() ? 0 : frame.at("line").get<unsigned>();
    source.object = string_or_empty(frame.at("object"));
    source.inlined = frame.at("inlined").get<bool>();
    stack.push_back(std::move(source));
  }
  return stack;
}

json totals_to_json(const Totals& totals) {
  return {{"bytes", totals.bytes}, {"blocks", totals.blocks}};
}

Totals totals_from_json(const json& value) {
  return {value.at("bytes").get<std::uint64_t>(), value.at("blocks").get<std::uint64_t>()};
}

template <typename Enum, std::size_t N>
Enum enum_from(const json& value, const std::string_view (&keys)[N]) {
  const std::string text = value.get<std::string>();
  for (std::size_t i = 0; i < N; ++i) {
    if (keys[i] == text) return static_cast<Enum>(i);
  }
  throw json::other_error::create(501, "unknown value \"" + text + "\"", &value);
}

constexpr std::string_view kModes[] = {"no", "summary", "full"};
constexpr std::string_view kOperations[] = {"free", "delete", "delete[]", "realloc"};
constexpr std::string_view kFamilies[] = {"malloc", "new", "new[]"};

}  // namespace

json analysis_to_json(const Analysis& analysis) {
  json records = json::array();
  for (const LossRecordView& record : analysis.records) {
    records.push_back({{"index", record.index},
                       {"total", analysis.records.size()},
                       {"kind", leak_kind_key(record.kind)},
                       {"bytes_direct", record.bytes},
                       {"bytes_indirect", record.indirect_bytes},
                       {"blocks", record.blocks},
                       {"shown", record.shown},
                       {"counted_as_error", record.counted},
                       {"suppressed_by", optional_string(record.suppressed_by)},
                       {"stack", stack_to_json(record.stack)}});
  }
  json heuristics = json::object();
  for (const RawHeuristic& heuristic : analysis.heuristics) {
    heuristics[heuristic.name] = {{"bytes", heuristic.bytes}, {"blocks", heuristic.blocks}};
  }
  json leak_summary = {{"suppressed", totals_to_json(analysis.suppressed)},
                       {"heuristics", heuristics}};
  for (LeakKind kind : kAllLeakKinds) {
    leak_summary[std::string(leak_kind_key(kind))] = totals_to_json(analysis.totals(kind));
  }
  json errors = json::array();
  for (const FreeErrorContext& error : analysis.error_contexts) {
    json block = nullptr;
    if (error.block) {
      block = {{"address", error.block->address},
               {"size", error.block->size},
               {"state", error.block->freed ? "freed" : "live"},
               {"alloc_kind", alloc_family_key(error.block->alloc_kind)},
               {"alloc_stack", stack_to_json(error.alloc_stack)},
               {"free_stack", stack_to_json(error.free_stack)}};
    }
    errors.push_back({{"kind", error.mismatched ? "mismatched_free" : "invalid_free"},
                      {"operation", free_operation_key(error.operation)},
                      {"address", error.address},
                      {"count", error.count},
                      {"suppressed_by", optional_string(error.suppressed_by)},
                      {"stack", stack_to_json(error.stack)},
                      {"block", block}});
  }
  json used = json::array();
  for (const UsedSuppression& suppression : analysis.used_suppressions) {
    used.push_back({{"name", suppression.name},
                    {"file", suppression.file},
                    {"line", suppression.line},
                    {"count", suppression.count},
                    {"leak", suppression.leak},
                    {"bytes", suppression.bytes},
                    {"blocks", suppression.blocks}});
  }
  const ErrorSummary& summary = analysis.error_summary;
  return {{"pid", analysis.pid},
          {"ppid", analysis.ppid},
          {"command", analysis.command},
          {"exe", analysis.exe},
          {"end", {{"how", analysis.end_how}, {"status", analysis.end_status}}},
          {"leak_check", leak_check_mode_key(analysis.leak_check)},
          {"searched", analysis.searched},
          {"heap_summary",
           {{"in_use_bytes", analysis.heap.in_use_bytes},
            {"in_use_blocks", analysis.heap.in_use_blocks},
            {"allocs", analysis.heap.allocs},
            {"frees", analysis.heap.frees},
            {"bytes_allocated", analysis.heap.bytes_allocated}}},
          {"loss_records", records},
          {"leak_summary", leak_summary},
          {"errors", errors},
          {"errors_dropped", analysis.errors_dropped},
          {"threads_not_stopped", analysis.threads_not_stopped},
          {"checked_bytes", analysis.checked_bytes},
          {"error_summary",
           {{"errors", summary.errors},
            {"contexts", summary.contexts},
            {"suppressed", summary.suppressed},
            {"suppressed_contexts", summary.suppressed_contexts}}},
          {"used_suppressions", used}};
}

Analysis analysis_from_json(const json& process, std::string_view source) {
  try {
    Analysis analysis;
    analysis.pid = process.at("pid").get<long>();
    analysis.ppid = process.at("ppid").get<long>();
    analysis.command = process.at("command").get<std::vector<std::string>>();
    analysis.exe = process.at("exe").get<std::string>();
    analysis.end_how = process.at("end").at("how").get<std::string>();
    analysis.end_status = process.at("end").at("status").get<int>();
    analysis.leak_check = enum_from<LeakCheckMode>(process.at("leak_check"), kModes);
    analysis.searched = process.at("searched").get<bool>();
    const json& heap = process.at("heap_summary");
    analysis.heap.in_use_bytes = heap.at("in_use_bytes").get<std::uint64_t>();
    analysis.heap.in_use_blocks = heap.at("in_use_blocks").get<std::uint64_t>();
    analysis.heap.allocs = heap.at("allocs").get<std::uint64_t>();
    analysis.heap.frees = heap.at("frees").get<std::uint64_t>();
    analysis.heap.bytes_allocated = heap.at("bytes_allocated").get<std::uint64_t>();
    for (const json& record : process.at("loss_records")) {
      LossRecordView view;
      view.index = record.at("index").get<unsigned>();
      const auto kind = leak_kind_from_key(record.at("kind").get<std::string>());
      if (!kind) throw json::other_error::create(501, "unknown leak kind", &record);
      view.kind = *kind;
      view.bytes = record.at("bytes_direct").get<std::uint64_t>();
      view.indirect_bytes = record.at("bytes_indirect").get<std::uint64_t>();
      view.blocks = record.at("blocks").get<std::uint64_t>();
      view.shown = record.at("shown").get<bool>();
      view.counted = record.at("counted_as_error").get<bool>();
      view.suppressed_by = string_or_empty(record.at("suppressed_by"));
      view.stack = stack_from_json(record.at("stack"));
      analysis.records.push_back(std::move(view));
    }
    const json& leak_summary = process.at("leak_summary");
    for (LeakKind kind : kAllLeakKinds) {
      analysis.kind_totals[static_cast<std::size_t>(kind)] =
          totals_from_json(leak_summary.at(std::string(leak_kind_key(kind))));
    }
    analysis.suppressed = totals_from_json(leak_summary.at("suppressed"));
    for (const std::string_view name :
         {"stdstring", "length64", "newarray", "multipleinheritance"}) {
      const json& heuristics = leak_summary.at("heuristics");
      if (const auto it = heuristics.find(std::string(name)); it != heuristics.end()) {
        const Totals totals = totals_from_json(*it);
        analysis.heuristics.push_back({std::string(name), totals.bytes, totals.blocks});
      }
    }
    for (const json& error : process.at("errors")) {
      FreeErrorContext context;
      context.mismatched = error.at("kind").get<std::string>() == "mismatched_free";
      context.operation = enum_from<FreeOperation>(error.at("operation"), kOperations);
      context.address = error.at("address").get<std::uintptr_t>();
      context.count = error.at("count").get<std::uint64_t>();
      context.suppressed_by = string_or_empty(error.at("suppressed_by"));
      context.stack = stack_from_json(error.at("stack"));
      const json& block = error.at("block");
      if (!block.is_null()) {
        context.block = ErrorBlock{block.at("address").get<std::uintptr_t>(),
                                   block.at("size").get<std::uint64_t>(),
                                   block.at("state").get<std::string>() == "freed",
                                   enum_from<AllocFamily>(block.at("alloc_kind"), kFamilies)};
        context.alloc_stack = stack_from_json(block.at("alloc_stack"));
        context.free_stack = stack_from_json(block.at("free_stack"));
      }
      analysis.error_contexts.push_back(std::move(context));
    }
    analysis.errors_dropped = process.at("errors_dropped").get<std::uint64_t>();
    analysis.threads_not_stopped = process.at("threads_not_stopped").get<std::uint64_t>();
    analysis.checked_bytes = process.at("checked_bytes").get<std::uint64_t>();
    const json& summary = process.at("error_summary");
    analysis.error_summary = {summary.at("errors").get<std::uint64_t>(),
                              summary.at("contexts").get<std::uint64_t>(),
                              summary.at("suppressed").get<std::uint64_t>(),
                              summary.at("suppressed_contexts").get<std::uint64_t>()};
    for (const json& used : process.at("used_suppressions")) {
      analysis.used_suppressions.push_back(
          {used.at("name").get<std::string>(), used.at("file").get<std::string>(),
           used.at("line").get<std::size_t>(), used.at("count").get<std::uint64_t>(),
           used.at("leak").get<bool>(), used.at("bytes").get<std::uint64_t>(),
           used.at("blocks").get<std::uint64_t>()});
    }
    return analysis;
  } catch (const json::exception& error) {
    throw RawReportError(source, "",
                         std::string("not a memkit check JSON process: ") + error.what());
  }
}

json check_document(const CheckRun& run, const std::vector<json>& processes) {
  return {{"format", kCheckJsonFormat},
          {"version", kCheckJsonVersion},
          {"memkit", memkit::version()},
          {"command", run.command},
          {"pid", run.pid},
          {"exit_status", run.exit_status ? json(*run.exit_status) : json(nullptr)},
          {"signal", run.signal ? json(*run.signal) : json(nullptr)},
          {"processes", processes}};
}

}  // namespace memkit::check
