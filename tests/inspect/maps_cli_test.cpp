// `memkit maps`: totals equal to pmap -X's for a stopped process, thread stacks found, the
// program mode's snapshot and exit status, and its errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "subprocess.h"

namespace {

using memkit::testing::Finished;
using memkit::testing::run_and_capture;
using ::testing::HasSubstr;
using Json = nlohmann::json;

const std::string kMemkit = MEMKIT_CLI_PATH;
const std::string kTarget = MAPS_TARGET_PATH;
const std::string kStaticTarget = MAPS_TARGET_STATIC_PATH;

// A copy of a target program in a directory of its own: its file pages are mapped by this one
// process only, whatever else runs at the same time, so its PSS is exact.
class PrivateCopy {
 public:
  explicit PrivateCopy(const std::string& program) {
    char dir_template[] = "/tmp/memkit-maps-test-XXXXXX";
    dir_ = ::mkdtemp(dir_template);
    path_ = dir_ + "/" + std::filesystem::path(program).filename().string();
    std::filesystem::copy_file(program, path_);
    ::chmod(path_.c_str(), 0755);
  }
  PrivateCopy(const PrivateCopy&) = delete;
  PrivateCopy& operator=(const PrivateCopy&) = delete;
  ~PrivateCopy() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

// `maps_target idle THREADS MAPPINGS`, stopped (SIGSTOP) once it printed "ready".
class StoppedTarget {
 public:
  StoppedTarget(const std::string& program, int threads, int mappings) {
    int out[2];
    if (::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      const std::string t = std::to_string(threads);
      const std::string m = std::to_string(mappings);
      ::execl(program.c_str(), program.c_str(), "idle", t.c_str(), m.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    char buffer[16] = {};
    const ssize_t n = ::read(out[0], buffer, sizeof buffer - 1);
    ::close(out[0]);
    ready_ = n > 0 && std::string(buffer) == "ready\n";
    ::kill(pid_, SIGSTOP);
    int status = 0;
    ::waitpid(pid_, &status, WUNTRACED);
  }
  StoppedTarget(const StoppedTarget&) = delete;
  StoppedTarget& operator=(const StoppedTarget&) = delete;
  ~StoppedTarget() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  pid_t pid() const { return pid_; }
  bool ready() const { return ready_; }

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
};

bool have_pmap() { return run_and_capture({"pmap", "-V"}).exit_code == 0; }

// The totals line of `pmap -X`, by column name ("Size", "Rss", "Pss", "Swap", ...).
std::map<std::string, std::uint64_t> pmap_totals(pid_t pid) {
  const Finished pmap = run_and_capture({"pmap", "-X", std::to_string(pid)});
  std::map<std::string, std::uint64_t> totals;
  if (pmap.exit_code != 0) {
    ADD_FAILURE() << "pmap -X failed: " << pmap.err;
    return totals;
  }
  std::vector<std::string> lines;
  std::istringstream in(pmap.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  EXPECT_GE(lines.size(), 4U);
  if (lines.size() < 4) return totals;
  std::vector<std::string> columns;
  std::istringstream header(lines[1]);
  for (std::string word; header >> word;) columns.push_back(word);
  std::vector<std::string> values;
  std::istringstream last(lines.back());
  for (std::string word; last >> word;) values.push_back(word);
  EXPECT_EQ(values.back(), "KB");
  // Header: Address Perm Offset Device Inode Size Rss Pss ... Mapping; totals start at Size.
  for (std::size_t i = 0; i + 1 < values.size() && 5 + i < columns.size(); ++i) {
    totals[columns[5 + i]] = std::stoull(values[i]);
  }
  return totals;
}

Json maps_json(pid_t pid) {
  const Finished maps = run_and_capture({kMemkit, "maps", "--json", std::to_string(pid)});
  EXPECT_EQ(maps.exit_code, 0) << maps.err;
  return Json::parse(maps.out);
}

int count_kind(const Json& json, const std::string& kind) {
  int count = 0;
  for (const Json& region : json["regions"]) count += region["kind"] == kind ? 1 : 0;
  return count;
}

TEST(MapsCommand, TotalsEqualPmapForAStoppedStaticProcess) {
  if (!have_pmap()) GTEST_SKIP() << "pmap (procps) is not installed: scripts/setup.sh installs it";
  const PrivateCopy program(kStaticTarget);
  const StoppedTarget target(program.path(), 2, 100);
  ASSERT_TRUE(target.ready());
  const Json json = maps_json(target.pid());
  const auto pmap = pmap_totals(target.pid());
  EXPECT_EQ(json["totals"]["size_kib"], pmap.at("Size"));
  EXPECT_EQ(json["totals"]["rss_kib"], pmap.at("Rss"));
  EXPECT_EQ(json["totals"]["pss_kib"], pmap.at("Pss"));
  EXPECT_EQ(json["totals"]["swap_kib"], pmap.at("Swap"));
  // Every other counter pmap -X totals, too.
  for (const auto& [name, value] : pmap) {
    if (json["totals"]["smaps"].contains(name)) {
      EXPECT_EQ(json["totals"]["smaps"][name], value) << name;
    }
  }
  EXPECT_GE(json["regions"].size(), 100U);
}

TEST(MapsCommand, TotalsEqualPmapForAStoppedDynamicProcess) {
  if (!have_pmap()) GTEST_SKIP() << "pmap (procps) is not installed: scripts/setup.sh installs it";
  const StoppedTarget target(kTarget, 1, 10);
  ASSERT_TRUE(target.ready());
  const Json json = maps_json(target.pid());
  const auto pmap = pmap_totals(target.pid());
  // PSS of shared libraries changes whenever another process maps or unmaps libc, so only the
  // counters private to the process are compared here (the static test compares PSS too).
  EXPECT_EQ(json["totals"]["size_kib"], pmap.at("Size"));
  EXPECT_EQ(json["totals"]["rss_kib"], pmap.at("Rss"));
  EXPECT_EQ(json["totals"]["swap_kib"], pmap.at("Swap"));
}

TEST(MapsCommand, FindsEachThreadsStackByItsStackPointer) {
  const StoppedTarget target(kTarget, 3, 0);
  ASSERT_TRUE(target.ready());
  const Json json = maps_json(target.pid());
  int stacks = 0;
  for (const Json& region : json["regions"]) {
    if (region["kind"] != "thread_stack") continue;
    ++stacks;
    EXPECT_GT(region["thread_id"].get<int>(), target.pid());
  }
  EXPECT_EQ(stacks, 3);
  EXPECT_EQ(count_kind(json, "stack_guard"), 3);
  EXPECT_EQ(count_kind(json, "main_stack"), 1);
  EXPECT_EQ(count_kind(json, "heap"), 1);
}

TEST(MapsCommand, TextGroupsModulesAndEndsWithTotals) {
  const StoppedTarget target(kTarget, 0, 0);
  ASSERT_TRUE(target.ready());
  const Finished maps = run_and_capture({kMemkit, "maps", std::to_string(target.pid())});
  ASSERT_EQ(maps.exit_code, 0) << maps.err;
  EXPECT_THAT(maps.out, HasSubstr(kTarget + " (executable): "));
  EXPECT_THAT(maps.out, HasSubstr("libc.so.6: "));
  EXPECT_THAT(maps.out, HasSubstr("\nother regions:\n"));
  EXPECT_THAT(maps.out, HasSubstr("  heap  [heap]\n"));
  EXPECT_THAT(maps.out, HasSubstr("\ntotal: "));
  EXPECT_THAT(maps.out, HasSubstr("KiB"));
}

TEST(MapsCommand, SortsRegionsBySizeWithinEachGroup) {
  const StoppedTarget target(kTarget, 0, 0);
  ASSERT_TRUE(target.ready());
  const Finished maps =
      run_and_capture({kMemkit, "maps", "--json", "--sort", "size", std::to_string(target.pid())});
  ASSERT_EQ(maps.exit_code, 0) << maps.err;
  const Json json = Json::parse(maps.out);
  const Json& regions = json["regions"];
  for (std::size_t i = 1; i < regions.size(); ++i) {
    if (regions[i]["module"] != regions[i - 1]["module"]) continue;  // a new group
    EXPECT_LE(regions[i]["size_kib"], regions[i - 1]["size_kib"]) << i;
  }
  // Modules by size, largest first: libc before the small test program.
  ASSERT_GE(json["modules"].size(), 2U);
  EXPECT_GE(json["modules"][0]["size_kib"], json["modules"][1]["size_kib"]);
}

TEST(MapsCommand, RejectsAnUnknownSortKey) {
  const Finished maps = run_and_capture({kMemkit, "maps", "--sort", "name", "1"});
  EXPECT_NE(maps.exit_code, 0);
  EXPECT_THAT(maps.err, HasSubstr("name not in {size,rss,address}"));
}

TEST(MapsCommand, AProcessThatDoesNotExistIsAClearError) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  const Finished maps = run_and_capture({kMemkit, "maps", std::to_string(child)});
  EXPECT_EQ(maps.exit_code, 1);
  EXPECT_EQ(maps.err, "memkit maps: memkit::inspect: cannot read /proc/" + std::to_string(child) +
                          "/smaps: No such file or directory (the process has exited, or never "
                          "existed)\n");
}

TEST(MapsProgram, SnapshotsTheMapAsTheProgramExitsAndPassesItsStatusThrough) {
  const Finished maps =
      run_and_capture({kMemkit, "maps", "--json", "--", kTarget, "exit", "7", "2"});
  EXPECT_EQ(maps.exit_code, 7) << maps.err;
  const Json json = Json::parse(maps.out);
  EXPECT_EQ(json["exit_status"], 7);
  EXPECT_EQ(json["executable"], kTarget);
  bool found_program = false;
  bool found_preload = false;
  for (const Json& module : json["modules"]) {
    if (module["path"] == kTarget) {
      found_program = true;
      EXPECT_TRUE(module["main_executable"].get<bool>());
      EXPECT_GT(module["text_kib"].get<int>(), 0);
    }
    found_preload |= module["name"] == "libmemkit_maps_preload.so";
  }
  EXPECT_TRUE(found_program);
  EXPECT_TRUE(found_preload);  // the snapshot library is part of the map it takes
  EXPECT_EQ(count_kind(json, "thread_stack"), 2);
  EXPECT_GT(json["totals"]["rss_kib"].get<int>(), 0);
}

TEST(MapsProgram, UnderExitWithoutDestructorsStillGivesASnapshot) {
  const Finished maps = run_and_capture({kMemkit, "maps", "--", kTarget, "_exit", "5"});
  EXPECT_EQ(maps.exit_code, 5) << maps.err;
  EXPECT_THAT(maps.out, HasSubstr(" as it exited with status 5, "));
  EXPECT_THAT(maps.out, HasSubstr("\ntotal: "));
}

TEST(MapsProgram, AStaticProgramIgnoresThePreloadAndSaysSo) {
  const Finished maps = run_and_capture({kMemkit, "maps", "--", kStaticTarget, "exit", "0", "0"});
  EXPECT_EQ(maps.exit_code, 1);
  EXPECT_EQ(maps.err, "memkit maps: " + kStaticTarget +
                          " exited with status 0 without writing its map (it ended with _exit() "
                          "or a signal, or it ignores LD_PRELOAD: a static or setuid program)\n");
}

TEST(MapsProgram, AProgramThatCannotStartIsAClearError) {
  const Finished maps = run_and_capture({kMemkit, "maps", "--", "/nonexistent/program"});
  EXPECT_EQ(maps.exit_code, 127);
  EXPECT_THAT(maps.err, HasSubstr("memkit maps: cannot run /nonexistent/program: No such file or "
                                  "directory\n"));
}

}  // namespace
