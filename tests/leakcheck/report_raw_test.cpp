// raw_report: reading the runtime's file, and a precise error for every way it can be wrong.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "check_error.h"
#include "raw_report.h"
#include "report_test_fixtures.h"

namespace memkit::check {
namespace {

using nlohmann::json;

json valid() { return json::parse(testing::read_data("multi.json")); }

std::string error_of(const json& document) {
  try {
    parse_raw_report(document.dump(), "r.json");
  } catch (const RawReportError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(ReportRaw, ReadsTheFixture) {
  const RawReport report = read_raw_report(testing::data_path("multi.json"));
  EXPECT_EQ(report.pid, 26819);
  EXPECT_EQ(report.command, std::vector<std::string>{"./multi"});
  EXPECT_EQ(report.heap, (RawHeap{2122, 13, 15, 2, 2207}));
  ASSERT_EQ(report.records.size(), 7u);
  EXPECT_EQ(report.records[2].kind, LeakKind::definite);
  EXPECT_EQ(report.records[2].indirect_bytes, 48u);
  EXPECT_EQ(report.frames(1).size(), 3u);
  EXPECT_TRUE(report.frames(0).empty());
  EXPECT_EQ(report.checked_bytes, 105088u);
}

TEST(ReportRaw, RoundTripsThroughJson) {
  RawReport report = read_raw_report(testing::data_path("multi.json"));
  RawFreeError error;
  error.mismatched = true;
  error.operation = FreeOperation::delete_array;
  error.address = 0x1000;
  error.stack = 2;
  error.block = RawBlock{0x1000, 16, false, AllocFamily::new_object, 1, 0};
  report.errors.push_back(error);
  report.modules.push_back({"/bin/x", 0x400000, {{0x401000, 0x402000}}});
  const RawReport again = parse_raw_report(raw_report_to_json(report).dump(), "again");
  EXPECT_EQ(raw_report_to_json(again), raw_report_to_json(report));
}

TEST(ReportRaw, MissingFileAndBadJson) {
  try {
    read_raw_report("/nonexistent/memkit-check.1.0.json");
    FAIL();
  } catch (const RawReportError& error) {
    EXPECT_STREQ(error.what(),
                 "memkit check: /nonexistent/memkit-check.1.0.json: cannot open: No such file or "
                 "directory");
  }
  try {
    parse_raw_report("{\"format\": ", "cut.json");
    FAIL();
  } catch (const RawReportError& error) {
    EXPECT_TRUE(std::string(error.what()).starts_with("memkit check: cut.json: not valid JSON ("))
        << error.what();
  }
  EXPECT_EQ(error_of(json::array()), "memkit check: r.json: expected a JSON object, found []");
}

TEST(ReportRaw, FormatAndVersion) {
  json document = valid();
  document["format"] = "other";
  EXPECT_EQ(error_of(document),
            "memkit check: r.json: format: expected \"memkit-check-raw\" (is this a memkit check "
            "raw report?)");
  document = valid();
  document["version"] = 2;
  EXPECT_EQ(error_of(document),
            "memkit check: r.json: version: this memkit reads version 1, the file is version 2");
}

TEST(ReportRaw, MissingKeysAndWrongTypesNameTheKey) {
  json document = valid();
  document["heap"].erase("allocs");
  EXPECT_EQ(error_of(document),
            "memkit check: r.json: heap.allocs: missing (every key is required)");
  document = valid();
  document["heap"]["frees"] = "many";
  EXPECT_EQ(error_of(document),
            "memkit check: r.json: heap.frees: expected a non-negative integer, found \"many\"");
  document = valid();
  document["heap"]["frees"] = -1;
  EXPECT_EQ(error_of(document),
            "memkit check: r.json: heap.frees: expected a non-negative integer, found -1");
  document = valid();
  document["leaks"]["records"][3]["kind"] = "lost";
  EXPECT_EQ(error_of(document),
            "memkit check: r.json: leaks.records[3].kind: expected \"definite\", \"indirect\", "
            "\"possible\" or \"reachable\", found \"lost\"");
  document = valid();
  document["leaks"]["searched"] = 1;
  EXPECT_EQ(error_of(document),
            "memkit check: r.json: leaks.searched: expected true or false, found 1");
  document = valid();
  document["end"]["how"] = "crash";
  EXPECT_EQ(error_of(document),
            "memkit check: r.json: end.how: expected \"return\", \"exit\", \"_exit\", "
            "\"destructor\" or \"request\", found \"crash\"");
  document = valid();
  document["command"] = {"./multi", 3};
  EXPECT_EQ(error_of(document), "memkit check: r.json: command[1]: expected a string, found 3");
}

TEST(ReportRaw, ReferencesMustResolve) {
  json document = valid();
  document["leaks"]["records"][0]["stack"] = 99;
  EXPECT_EQ(error_of(document),
            "memkit check: r.json: leaks.records[0].stack: stack 99 is not in \"stacks\"");
  document = valid();
  document["stacks"][1]["id"] = 1;
  EXPECT_EQ(error_of(document), "memkit check: r.json: stacks[1].id: stack 1 appears twice");
  document = valid();
  document["leaks"]["records"][0]["blocks"] = 0;
  EXPECT_EQ(error_of(document),
            "memkit check: r.json: leaks.records[0].blocks: a loss record holds at least 1 block");
  document = valid();
  document["errors"] = json::array({{{"kind", "mismatched_free"},
                                     {"operation", "delete"},
                                     {"address", 16},
                                     {"stack", 1},
                                     {"block", nullptr}}});
  EXPECT_EQ(error_of(document),
            "memkit check: r.json: errors[0].block: a mismatched free always names its block");
  document["errors"][0]["block"] = {{"address", 16},     {"size", 4},
                                    {"state", "live"},   {"alloc_kind", "new[]"},
                                    {"alloc_stack", 99}, {"free_stack", 0}};
  EXPECT_EQ(error_of(document),
            "memkit check: r.json: errors[0].block.alloc_stack: stack 99 is not in \"stacks\"");
  document["errors"][0]["block"]["alloc_stack"] = 2;
  document["errors"][0]["block"]["free_stack"] = 3;
  EXPECT_EQ(
      error_of(document),
      "memkit check: r.json: errors[0].block.free_stack: must be 0 for a live block, found 3");
  document = valid();
  document["modules"] = json::array({{{"path", "/x"}, {"base", 0}, {"ranges", {{10, 5}}}}});
  EXPECT_EQ(error_of(document),
            "memkit check: r.json: modules[0].ranges[0]: the range ends before it begins");
}

}  // namespace
}  // namespace memkit::check
