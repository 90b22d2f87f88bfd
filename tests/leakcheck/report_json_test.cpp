// json_report: every field of an Analysis survives the trip through JSON, and the document's
// envelope.
#include <gtest/gtest.h>

#include "analysis.h"
#include "check_error.h"
#include "json_report.h"
#include "report_test_fixtures.h"

namespace memkit::check {
namespace {

Analysis multi_analysis() {
  const RawReport raw = parse_raw_report(testing::read_data("multi.json"), "multi.json");
  auto symbols = testing::multi_symbols();
  SuppressionSet suppressions;
  suppressions.parse(testing::read_data("leak.supp"), "leak.supp");
  Analysis analysis = analyze(raw, CheckOptions{}, suppressions, symbols);
  FreeErrorContext error;
  error.mismatched = true;
  error.operation = FreeOperation::delete_array;
  error.address = 0x1234;
  error.stack = analysis.records[0].stack;
  error.block = ErrorBlock{0x1230, 16, true, AllocFamily::new_object};
  error.alloc_stack = analysis.records[1].stack;
  error.free_stack = analysis.records[2].stack;
  error.count = 3;
  analysis.error_contexts.push_back(error);
  analysis.heuristics.push_back({"newarray", 48, 1});
  return analysis;
}

TEST(ReportJson, RoundTrip) {
  const Analysis analysis = multi_analysis();
  const nlohmann::json json = analysis_to_json(analysis);
  const Analysis again = analysis_from_json(nlohmann::json::parse(json.dump()), "again");
  EXPECT_EQ(again, analysis);
}

TEST(ReportJson, Schema) {
  const nlohmann::json json = analysis_to_json(multi_analysis());
  EXPECT_EQ(json["heap_summary"]["bytes_allocated"], 2207);
  const nlohmann::json& record = json["loss_records"][4];
  EXPECT_EQ(record["index"], 5);
  EXPECT_EQ(record["total"], 7);
  EXPECT_EQ(record["kind"], "definite");
  EXPECT_EQ(record["bytes_direct"], 300);
  EXPECT_EQ(record["suppressed_by"], nullptr);
  EXPECT_EQ(record["stack"][1]["function"], "a3");
  EXPECT_EQ(record["stack"][1]["file"], "multi.c");
  EXPECT_EQ(record["stack"][1]["line"], 6);
  EXPECT_EQ(json["loss_records"][0]["suppressed_by"], "suppress_calloc_any");
  EXPECT_EQ(json["leak_summary"]["suppressed"]["bytes"], 822);
  EXPECT_EQ(json["leak_summary"]["reachable"]["bytes"], 1000);
  EXPECT_EQ(json["error_summary"]["suppressed"], 4);
  EXPECT_EQ(json["used_suppressions"][0]["name"], "suppress_calloc_any");
  EXPECT_EQ(json["used_suppressions"][0]["bytes"], 748);
}

TEST(ReportJson, Document) {
  CheckRun run;
  run.command = {"./multi"};
  run.pid = 26819;
  run.exit_status = 0;
  const nlohmann::json document = check_document(run, {analysis_to_json(multi_analysis())});
  EXPECT_EQ(document["format"], "memkit-check");
  EXPECT_EQ(document["version"], 1);
  EXPECT_EQ(document["exit_status"], 0);
  EXPECT_EQ(document["signal"], nullptr);
  EXPECT_EQ(document["processes"].size(), 1u);
}

TEST(ReportJson, BadDocumentsAreAnError) {
  nlohmann::json json = analysis_to_json(multi_analysis());
  json.erase("heap_summary");
  EXPECT_THROW(analysis_from_json(json, "x.json"), RawReportError);
  json = analysis_to_json(multi_analysis());
  json["leak_check"] = "sometimes";
  try {
    analysis_from_json(json, "x.json");
    FAIL();
  } catch (const RawReportError& error) {
    EXPECT_TRUE(
        std::string(error.what()).starts_with("memkit check: x.json: not a memkit check JSON"))
        << error.what();
  }
}

}  // namespace
}  // namespace memkit::check
