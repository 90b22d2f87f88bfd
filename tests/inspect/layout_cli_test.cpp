// `memkit layout` and read_type_layouts(): a fixture compiled with -g, checked by hand and
// against pahole; binaries without debug information, files that are not ELF, unknown types.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "memkit/base/error.h"
#include "memkit/inspect/dwarf_layout.h"
#include "subprocess.h"
#include "support/throws.h"

namespace memkit::inspect {
namespace {

using memkit::testing::Finished;
using memkit::testing::run_and_capture;
using memkit::testing::what_of;
using ::testing::HasSubstr;
using Json = nlohmann::json;

const std::string kMemkit = MEMKIT_CLI_PATH;
const std::string kFixture = LAYOUT_FIXTURE_PATH;
const std::string kNoDebug = LAYOUT_FIXTURE_NODEBUG_PATH;
const std::string kSource = LAYOUT_FIXTURE_SOURCE;

TEST(LayoutCommand, PrintsTheTwelveByteStructAndItsEightByteOrder) {
  const Finished layout = run_and_capture({kMemkit, "layout", kFixture, "Unpadded"});
  ASSERT_EQ(layout.exit_code, 0) << layout.err;
  EXPECT_EQ(layout.out,
            "struct Unpadded  (" + kSource +
                ":4)\n"
                "  size 12, alignment 4, 3 members\n"
                "  offset  size  member\n"
                "       0     1  uint8_t a\n"
                "       1     3  (hole: 3 bytes)\n"
                "       4     4  uint32_t b\n"
                "       8     2  uint16_t c\n"
                "      10     2  (trailing padding: 2 bytes)\n"
                "  members 7 bytes, holes 3 bytes in 1, trailing padding 2 bytes: 5 bytes wasted "
                "(42%)\n"
                "  suggested order: b, c, a -> size 8 (saves 4 bytes)\n");
}

Json layout_json(const std::vector<std::string>& types) {
  std::vector<std::string> argv{kMemkit, "layout", "--json", kFixture};
  argv.insert(argv.end(), types.begin(), types.end());
  const Finished layout = run_and_capture(argv);
  EXPECT_EQ(layout.exit_code, 0) << layout.err;
  return Json::parse(layout.out);
}

TEST(LayoutCommand, BasesBitFieldsArraysUnionsAndNestedTypes) {
  const Json json = layout_json({"Derived", "Flags", "Value", "geo::Outer", "Inner", "Aligned"});
  ASSERT_EQ(json.size(), 6U);

  const Json& derived = json[0];
  EXPECT_EQ(derived["size"], 32);
  EXPECT_TRUE(derived["members"][0]["base"].get<bool>());
  EXPECT_EQ(derived["members"][0]["type"], "Base");
  EXPECT_EQ(derived["members"][1]["name"], "flag");
  EXPECT_EQ(derived["members"][1]["offset"], 9);  // in Base's tail padding
  EXPECT_EQ(derived["hole_bytes"], 6);
  EXPECT_EQ(derived["suggested_size"], 24);

  const Json& flags = json[1];
  EXPECT_EQ(flags["size"], 8);
  EXPECT_EQ(flags["members"][1]["name"], "mode");
  EXPECT_EQ(flags["members"][1]["bit_offset"], 1);
  EXPECT_EQ(flags["members"][1]["bit_size"], 3);
  EXPECT_EQ(flags["members"][3]["bit_offset"], 16);
  EXPECT_EQ(flags["members"][3]["bit_size"], 40);
  EXPECT_EQ(flags["wasted_bytes"], 0);

  const Json& value = json[2];
  EXPECT_EQ(value["kind"], "union");
  EXPECT_EQ(value["size"], 16);
  EXPECT_EQ(value["members"][2]["type"], "char[12]");
  EXPECT_EQ(value["trailing_padding"], 4);

  const Json& outer = json[3];
  EXPECT_EQ(outer["name"], "geo::Outer");
  EXPECT_EQ(outer["members"][3]["type"], "int[3]");
  EXPECT_EQ(outer["members"][3]["offset"], 40);
  EXPECT_EQ(outer["suggested_size"], 48);

  EXPECT_EQ(json[4]["name"], "geo::Outer::Inner");  // found by its plain name
  EXPECT_EQ(json[4]["size"], 16);
  EXPECT_EQ(json[5]["alignment"], 32);
  EXPECT_EQ(json[5]["trailing_padding"], 24);
}

TEST(LayoutCommand, WithoutTypesListsEveryTypeOutsideSystemHeaders) {
  const Json json = layout_json({});
  std::vector<std::string> names;
  for (const Json& layout : json) names.push_back(layout["name"]);
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("Unpadded", "Packed", "Node", "Base",
                                                     "Derived", "Flags", "Value", "geo::Outer",
                                                     "geo::Outer::Inner", "Aligned"));
}

TEST(LayoutErrors, ABinaryWithoutDebugInformation) {
  EXPECT_EQ(what_of<DebugInfoError>([] { (void)read_type_layouts(kNoDebug, {"Unpadded"}); }),
            "memkit layout: " + kNoDebug + " has no DWARF debug information (compile it with -g)");
  const Finished layout = run_and_capture({kMemkit, "layout", kNoDebug});
  EXPECT_EQ(layout.exit_code, 1);
  EXPECT_EQ(layout.err, "memkit layout: " + kNoDebug +
                            " has no DWARF debug information (compile it with -g)\n");
}

TEST(LayoutErrors, AFileThatIsNotElf) {
  EXPECT_EQ(what_of<DebugInfoError>([] { (void)read_type_layouts(kSource); }),
            "memkit layout: " + kSource + " is not an ELF file");
}

TEST(LayoutErrors, AFileThatDoesNotExist) {
  EXPECT_EQ(what_of<DebugInfoError>([] { (void)read_type_layouts("/nonexistent/binary"); }),
            "memkit layout: /nonexistent/binary cannot be opened: No such file or directory");
}

TEST(LayoutErrors, ATypeThatIsNotThere) {
  EXPECT_EQ(what_of<DebugInfoError>([] { (void)read_type_layouts(kFixture, {"Unpaded"}); }),
            "memkit layout: " + kFixture + " defines no struct, class or union named 'Unpaded'");
}

// ---- against pahole ------------------------------------------------------------------------

struct PaholeSummary {
  std::uint64_t size = 0;
  std::uint64_t sum_members = 0;
  std::uint64_t holes = 0;
  std::uint64_t sum_holes = 0;
  std::uint64_t padding = 0;
  std::map<std::string, std::uint64_t> offsets;
};

// "\tuint32_t  b;  /*     4     4 */" -> {"b", 4}; false for other lines.
bool parse_member_line(const std::string& line, std::string* name, std::uint64_t* offset) {
  const std::size_t semicolon = line.find(';');
  const std::size_t comment = line.find("/*");
  if (line.empty() || line[0] != '\t' || semicolon == std::string::npos ||
      comment == std::string::npos || comment < semicolon) {
    return false;
  }
  std::string declaration = line.substr(0, semicolon);
  if (const std::size_t bracket = declaration.find('['); bracket != std::string::npos) {
    declaration.resize(bracket);
  }
  const std::size_t space = declaration.find_last_of(" \t");
  if (space == std::string::npos) return false;
  *name = declaration.substr(space + 1);
  std::istringstream numbers(line.substr(comment + 2));
  return static_cast<bool>(numbers >> *offset);
}

// "/* size: 12, cachelines: 1, members: 3 */": the number after `key: `, if the line has it.
bool number_after(const std::string& line, const std::string& key, std::uint64_t* value) {
  const std::string needle = key + ": ";
  std::size_t at = line.find(needle);
  // "holes: " must not match inside "sum holes: ".
  while (at != std::string::npos && at > 0 && line[at - 1] != ' ' && line[at - 1] != ',') {
    at = line.find(needle, at + 1);
  }
  if (at != std::string::npos && key == "holes" && at >= 4 &&
      line.compare(at - 4, 4, "sum ") == 0) {
    at = line.find(needle, at + 1);
  }
  if (at == std::string::npos) return false;
  *value = std::stoull(line.substr(at + needle.size()));
  return true;
}

PaholeSummary pahole(const std::string& type, bool reorganize = false) {
  std::vector<std::string> argv{"pahole", "-C", type};
  if (reorganize) argv.insert(argv.begin() + 1, "--reorganize");
  argv.push_back(kFixture);
  const Finished run = run_and_capture(argv);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  PaholeSummary summary;
  bool saw_sum_members = false;
  std::istringstream in(run.out);
  for (std::string line; std::getline(in, line);) {
    std::string name;
    std::uint64_t offset = 0;
    if (parse_member_line(line, &name, &offset)) {
      summary.offsets[name] = offset;
      continue;
    }
    number_after(line, "size", &summary.size);
    saw_sum_members |= number_after(line, "sum members", &summary.sum_members);
    number_after(line, "holes", &summary.holes);
    number_after(line, "sum holes", &summary.sum_holes);
    number_after(line, "padding", &summary.padding);
  }
  // pahole prints "sum members" only when there are holes.
  if (!saw_sum_members) summary.sum_members = summary.size - summary.padding - summary.sum_holes;
  return summary;
}

bool have_pahole() { return run_and_capture({"pahole", "--version"}).exit_code == 0; }

TEST(LayoutAgainstPahole, SizesHolesPaddingAndOffsetsAgree) {
  if (!have_pahole()) {
    GTEST_SKIP()
        << "pahole (Debian package dwarves) is not installed; scripts/setup.sh installs it";
  }
  for (const char* type : {"Unpadded", "Packed", "Node", "Aligned"}) {
    SCOPED_TRACE(type);
    const TypeLayout layout = read_type_layouts(kFixture, {type}).at(0);
    const LayoutAnalysis ours = analyze(layout);
    const PaholeSummary theirs = pahole(type);
    EXPECT_EQ(layout.size, theirs.size);
    EXPECT_EQ(ours.member_bytes, theirs.sum_members);
    EXPECT_EQ(ours.holes.size(), theirs.holes);
    EXPECT_EQ(ours.hole_bytes, theirs.sum_holes);
    EXPECT_EQ(ours.trailing_padding, theirs.padding);
    ASSERT_EQ(theirs.offsets.size(), layout.members.size());
    for (const LayoutMember& member : layout.members) {
      EXPECT_EQ(member.offset, theirs.offsets.at(member.name)) << member.name;
    }
  }
}

TEST(LayoutAgainstPahole, TheSuggestedSizeIsNoWorseThanReorganize) {
  if (!have_pahole()) {
    GTEST_SKIP()
        << "pahole (Debian package dwarves) is not installed; scripts/setup.sh installs it";
  }
  for (const char* type : {"Unpadded", "Node"}) {
    SCOPED_TRACE(type);
    const LayoutAnalysis ours = analyze(read_type_layouts(kFixture, {type}).at(0));
    const PaholeSummary theirs = pahole(type, /*reorganize=*/true);
    EXPECT_EQ(ours.suggested_size, theirs.size);
  }
}

}  // namespace
}  // namespace memkit::inspect
