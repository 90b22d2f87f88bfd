// ProcessMap: parsing smaps and maps text (fixtures with odd lines), classifying every kind of
// region, modules, totals, and reading real processes.
#include "memkit/inspect/process_map.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fixture_file.h"
#include "memkit/base/error.h"
#include "support/throws.h"

namespace memkit::inspect {
namespace {

using memkit::testing::fixture_path;
using memkit::testing::read_fixture;
using memkit::testing::what_of;
using ::testing::HasSubstr;

constexpr const char* kServer = "/opt/my app/bin/server";
constexpr std::uint64_t kThreadStackPointer = 0x7ffff7800800;

ProcessMap odd_process() {
  return ProcessMap::parse(read_fixture("odd_process.smaps"), "odd_process.smaps",
                           {{4243, kThreadStackPointer}}, kServer);
}

struct Expected {
  RegionKind kind;
  int module;
  int thread;
};

TEST(ProcessMapParse, ClassifiesEveryKindInTheOddFixture) {
  const ProcessMap map = odd_process();
  const std::vector<Expected> expected{
      {RegionKind::kReadOnlyData, 0, -1},  // server ELF headers
      {RegionKind::kText, 0, -1},
      {RegionKind::kReadOnlyData, 0, -1},  // .rodata
      {RegionKind::kReadOnlyData, 0, -1},  // RELRO
      {RegionKind::kData, 0, -1},
      {RegionKind::kBss, 0, -1},
      {RegionKind::kHeap, -1, -1},
      {RegionKind::kStackGuard, -1, 4243},
      {RegionKind::kThreadStack, -1, 4243},
      {RegionKind::kStackGuard, -1, 0},  // a running thread: found by the guard shape
      {RegionKind::kThreadStack, -1, 0},
      {RegionKind::kAnonymous, -1, -1},  // a malloc arena: rw- below ---
      {RegionKind::kReserved, -1, -1},
      {RegionKind::kSharedMemory, -1, -1},  // /dev/zero (deleted), shared
      {RegionKind::kSharedMemory, -1, -1},  // /dev/shm/queue with spaces
      {RegionKind::kSharedMemory, -1, -1},  // /memfd:arena (deleted)
      {RegionKind::kSharedMemory, -1, -1},  // SysV
      {RegionKind::kFileMapping, -1, -1},
      {RegionKind::kFileMapping, -1, -1},
      {RegionKind::kFileMapping, -1, -1},
      {RegionKind::kAnonymous, -1, -1},  // [anon:memkit arena]
      {RegionKind::kReadOnlyData, 1, -1},
      {RegionKind::kText, 1, -1},
      {RegionKind::kReadOnlyData, 1, -1},
      {RegionKind::kReserved, 1, -1},  // the gap between libc's segments
      {RegionKind::kReadOnlyData, 1, -1},
      {RegionKind::kData, 1, -1},
      {RegionKind::kBss, 1, -1},
      {RegionKind::kVvar, -1, -1},
      {RegionKind::kVvar, -1, -1},
      {RegionKind::kVdso, -1, -1},
      {RegionKind::kMainStack, -1, -1},
      {RegionKind::kVsyscall, -1, -1},
  };
  ASSERT_EQ(map.regions().size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const Region& region = map.regions()[i];
    EXPECT_EQ(kind_name(region.kind), kind_name(expected[i].kind)) << "region " << i;
    EXPECT_EQ(region.module, expected[i].module) << "region " << i;
    EXPECT_EQ(region.thread_id, expected[i].thread) << "region " << i;
  }
}

TEST(ProcessMapParse, KeepsPathsWithSpacesDeletedMarksAndEscapes) {
  const ProcessMap map = odd_process();
  const auto& r = map.regions();
  EXPECT_EQ(r[0].path, kServer);
  EXPECT_FALSE(r[0].deleted);
  EXPECT_EQ(r[13].path, "/dev/zero");
  EXPECT_TRUE(r[13].deleted);
  EXPECT_EQ(r[14].path, "/dev/shm/queue with spaces");
  EXPECT_FALSE(r[14].deleted);
  EXPECT_EQ(r[15].path, "/memfd:arena");
  EXPECT_TRUE(r[15].deleted);
  // " (deleted)" in the middle of a name is part of the name.
  EXPECT_EQ(r[17].path, "/var/data/report (deleted) final.csv");
  EXPECT_FALSE(r[17].deleted);
  EXPECT_EQ(r[18].path, "/var/data/old.log");
  EXPECT_TRUE(r[18].deleted);
  EXPECT_EQ(r[19].path, "/tmp/line\nbreak");
  EXPECT_EQ(r[20].path, "[anon:memkit arena]");
  EXPECT_TRUE(r[5].path.empty());
}

TEST(ProcessMapParse, KeepsEveryFieldOfTheMappingLineAndTheCounters) {
  const ProcessMap map = odd_process();
  const Region& text = map.regions()[1];
  EXPECT_EQ(text.start, 0x555555556000U);
  EXPECT_EQ(text.end, 0x55555555a000U);
  EXPECT_EQ(text.permissions.to_string(), "r-xp");
  EXPECT_EQ(text.offset, 0x2000U);
  EXPECT_EQ(text.device_major, 0xfeU);
  EXPECT_EQ(text.device_minor, 0U);
  EXPECT_EQ(text.inode, 1001U);
  EXPECT_EQ(text.size_kib(), 16U);
  EXPECT_EQ(text.smaps.get(SmapsField::kKernelPageSize), 4U);
  EXPECT_TRUE(text.smaps.has(SmapsField::kPssDirty));
  EXPECT_EQ(text.smaps.get(SmapsField::kThpEligible), 0U);
  EXPECT_TRUE(text.smaps.has(SmapsField::kThpEligible));
  EXPECT_FALSE(text.smaps.has(SmapsField::kAnonHugePages));  // not in the fixture
  EXPECT_EQ(text.vm_flags, "rd mr mw me");
  EXPECT_EQ(map.regions()[6].swap_kib(), 12U);

  const Region& named = map.regions()[20];
  ASSERT_EQ(named.extra_fields.size(), 1U);
  EXPECT_EQ(named.extra_fields[0].name, "Pss_Future_Field");
  EXPECT_EQ(named.extra_fields[0].value, "7 kB");
}

TEST(ProcessMapParse, GroupsModulesWithTheirBss) {
  const ProcessMap map = odd_process();
  ASSERT_EQ(map.modules().size(), 2U);
  const Module& server = map.modules()[0];
  EXPECT_EQ(server.path, kServer);
  EXPECT_EQ(server.name, "server");
  EXPECT_TRUE(server.main_executable);
  EXPECT_EQ(server.regions, (std::vector<std::size_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(server.kib(RegionKind::kText), 16U);
  EXPECT_EQ(server.kib(RegionKind::kReadOnlyData), 20U);
  EXPECT_EQ(server.kib(RegionKind::kData), 4U);
  EXPECT_EQ(server.kib(RegionKind::kBss), 8U);
  EXPECT_EQ(server.size_kib(), 48U);
  EXPECT_EQ(server.totals.get(SmapsField::kRss), 48U);

  const Module& libc = map.modules()[1];
  EXPECT_EQ(libc.name, "libc.so.6");
  EXPECT_FALSE(libc.main_executable);
  EXPECT_EQ(libc.kib(RegionKind::kText), 1368U);
  EXPECT_EQ(libc.kib(RegionKind::kBss), 52U);
  EXPECT_EQ(libc.kib(RegionKind::kReserved), 4U);
  EXPECT_EQ(libc.totals.get(SmapsField::kPss), 19U + 124 + 30 + 0 + 16 + 8 + 20);
}

TEST(ProcessMapParse, TotalsSumEveryRegion) {
  const ProcessMap map = odd_process();
  std::uint64_t size = 0;
  std::uint64_t rss = 0;
  std::uint64_t pss = 0;
  for (const Region& region : map.regions()) {
    size += (region.end - region.start) / 1024;
    rss += region.rss_kib();
    pss += region.pss_kib();
  }
  EXPECT_EQ(map.totals().get(SmapsField::kSize), size);
  EXPECT_EQ(map.size_kib(), size);
  EXPECT_EQ(map.totals().get(SmapsField::kRss), rss);
  EXPECT_EQ(map.totals().get(SmapsField::kPss), pss);
  EXPECT_EQ(map.totals().get(SmapsField::kSwap), 12U);
  // Page sizes are not amounts: the total keeps the page size.
  EXPECT_EQ(map.totals().get(SmapsField::kKernelPageSize), 4U);
  EXPECT_TRUE(map.has_smaps());
}

TEST(ProcessMapParse, MapsTextGivesTheSameKindsWithoutCounters) {
  const ProcessMap smaps = odd_process();
  const ProcessMap maps = ProcessMap::parse(read_fixture("odd_process.maps"), "odd_process.maps",
                                            {{4243, kThreadStackPointer}}, kServer);
  EXPECT_FALSE(maps.has_smaps());
  ASSERT_EQ(maps.regions().size(), smaps.regions().size());
  for (std::size_t i = 0; i < maps.regions().size(); ++i) {
    EXPECT_EQ(maps.regions()[i].kind, smaps.regions()[i].kind) << "region " << i;
    EXPECT_EQ(maps.regions()[i].path, smaps.regions()[i].path) << "region " << i;
    EXPECT_EQ(maps.regions()[i].size_kib(), smaps.regions()[i].size_kib()) << "region " << i;
    EXPECT_TRUE(maps.regions()[i].smaps.empty());
  }
  EXPECT_EQ(maps.size_kib(), smaps.size_kib());
}

TEST(ProcessMapParse, FindsTheRegionOfAnAddress) {
  const ProcessMap map = odd_process();
  ASSERT_NE(map.find(0x555555556000), nullptr);
  EXPECT_EQ(map.find(0x555555556000)->kind, RegionKind::kText);
  EXPECT_EQ(map.find(0x555555559fff)->kind, RegionKind::kText);
  EXPECT_EQ(map.find(0x55555555a000)->kind, RegionKind::kReadOnlyData);
  EXPECT_EQ(map.find(0x1000), nullptr);
  EXPECT_EQ(map.find(0x6fffffffffff), nullptr);  // a gap
}

TEST(ProcessMapParse, EmptyTextIsAnEmptyMap) {
  const ProcessMap map = ProcessMap::parse("", "empty");
  EXPECT_TRUE(map.regions().empty());
  EXPECT_TRUE(map.modules().empty());
  EXPECT_EQ(map.size_kib(), 0U);
}

struct Malformed {
  const char* file;
  std::size_t line;
  const char* message;
};

void PrintTo(const Malformed& malformed, std::ostream* out) { *out << malformed.file; }

class ProcessMapMalformed : public ::testing::TestWithParam<Malformed> {};

TEST_P(ProcessMapMalformed, NamesTheFileTheLineAndTheProblem) {
  const Malformed& c = GetParam();
  const std::string name = std::string("malformed/") + c.file;
  std::size_t line = 0;
  const std::string what = what_of<MapParseError>([&] {
    try {
      (void)ProcessMap::parse(read_fixture(name), name);
    } catch (const MapParseError& e) {
      line = e.line();
      throw;
    }
  });
  EXPECT_EQ(what, c.message);
  EXPECT_EQ(line, c.line);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, ProcessMapMalformed,
    ::testing::Values(
        Malformed{"bad_address.maps", 1,
                  "memkit::inspect: malformed/bad_address.maps:1: malformed line "
                  "\"00400000-0040z000 r-xp 00000000 fe:00 12 /bin/true\": expected a space "
                  "after the address range"},
        Malformed{"end_below_start.maps", 2,
                  "memkit::inspect: malformed/end_below_start.maps:2: malformed line "
                  "\"00500000-00400000 r--p 00001000 fe:00 12 /bin/true\": the end address is "
                  "not above the start address"},
        Malformed{"bad_permissions.maps", 1,
                  "memkit::inspect: malformed/bad_permissions.maps:1: malformed line "
                  "\"00400000-00401000 rwzp 00000000 fe:00 12 /bin/true\": expected permissions "
                  "like \"r-xp\" after the address range"},
        Malformed{"counter_first.smaps", 1,
                  "memkit::inspect: malformed/counter_first.smaps:1: malformed line \"Size:       "
                  "           4 kB\": a counter line before the first mapping line"},
        Malformed{"bad_number.smaps", 3,
                  "memkit::inspect: malformed/bad_number.smaps:3: malformed line \"Rss:          "
                  "      lots kB\": expected a decimal number after \"Rss:\""},
        Malformed{"bad_unit.smaps", 3,
                  "memkit::inspect: malformed/bad_unit.smaps:3: malformed line \"Rss:           "
                  "        4 MB\": expected the unit \"kB\" after the number"},
        Malformed{"overlapping.maps", 2,
                  "memkit::inspect: malformed/overlapping.maps:2: malformed line "
                  "\"00401000-00403000 r--p 00002000 fe:00 12 /bin/true\": the region starts "
                  "below the end of the region before it (a map lists regions in address order, "
                  "without overlaps)"},
        Malformed{"garbage.maps", 2,
                  "memkit::inspect: malformed/garbage.maps:2: malformed line \"hello world\": "
                  "neither a mapping line (START-END PERMS OFFSET DEV INODE PATH) nor a counter "
                  "line (Name: value)"},
        Malformed{"missing_inode.maps", 1,
                  "memkit::inspect: malformed/missing_inode.maps:1: malformed line "
                  "\"00400000-00401000 r-xp 00000000 fe:00 /bin/true\": expected a decimal inode "
                  "after the device"}),
    [](const ::testing::TestParamInfo<Malformed>& param_info) {
      std::string name = param_info.param.file;
      for (char& c : name) {
        if (c == '.') c = '_';
      }
      return name;
    });

// ---- a fake /proc -------------------------------------------------------------------------

ReadOptions fake_proc() {
  ReadOptions options;
  options.proc_root = fixture_path("proc");
  return options;
}

TEST(ProcessMapRead, ReadsSmapsAndThreadStackPointersFromAProcRoot) {
  const ProcessMap map = ProcessMap::read(4242, fake_proc());
  EXPECT_EQ(map.pid(), 4242);
  EXPECT_TRUE(map.has_smaps());
  EXPECT_EQ(map.executable(), "");  // the fixture has no exe link
  ASSERT_EQ(map.regions().size(), 33U);
  // task/4243/syscall has the thread's stack pointer; 4242's is in [stack]; 4244 is running.
  EXPECT_EQ(map.regions()[8].kind, RegionKind::kThreadStack);
  EXPECT_EQ(map.regions()[8].thread_id, 4243);
  EXPECT_EQ(map.regions()[7].thread_id, 4243);
  EXPECT_EQ(map.regions()[10].thread_id, 0);
  EXPECT_EQ(map.regions()[31].kind, RegionKind::kMainStack);
}

TEST(ProcessMapRead, ThreadStackPointersFromSyscallFiles) {
  const auto threads = read_thread_stack_pointers(4242, fixture_path("proc"));
  ASSERT_EQ(threads.size(), 2U);  // 4244 is "running"
  EXPECT_EQ(threads[0].thread_id, 4242);
  EXPECT_EQ(threads[0].stack_pointer, 0x7ffffffde8c8U);
  EXPECT_EQ(threads[1].thread_id, 4243);
  EXPECT_EQ(threads[1].stack_pointer, kThreadStackPointer);
  EXPECT_TRUE(read_thread_stack_pointers(4545, fixture_path("proc")).empty());
}

TEST(ProcessMapRead, FallsBackToMapsWhenThereIsNoSmaps) {
  const ProcessMap map = ProcessMap::read(4343, fake_proc());
  EXPECT_FALSE(map.has_smaps());
  EXPECT_EQ(map.regions().size(), 33U);
  EXPECT_EQ(map.regions()[6].kind, RegionKind::kHeap);
}

TEST(ProcessMapRead, AVanishedProcessIsAClearError) {
  const std::string path = fixture_path("proc") + "/4545/smaps";
  EXPECT_EQ(what_of<ProcReadError>([] { (void)ProcessMap::read(4545, fake_proc()); }),
            "memkit::inspect: cannot read " + path +
                ": No such file or directory (the process has exited, or never existed)");
  try {
    (void)ProcessMap::read(4545, fake_proc());
  } catch (const ProcReadError& e) {
    EXPECT_EQ(e.path(), path);
    EXPECT_EQ(e.error_number(), ENOENT);
  }
}

TEST(ProcessMapRead, AnEmptyMapIsAnExitedProcess) {
  const std::string path = fixture_path("proc") + "/4444/smaps";
  EXPECT_EQ(what_of<ProcReadError>([] { (void)ProcessMap::read(4444, fake_proc()); }),
            "memkit::inspect: cannot read " + path +
                ": No such process (the process has exited, or never existed)");
}

// A proc root in a temporary directory holding one process's smaps, removed at the end.
class TemporaryProc {
 public:
  TemporaryProc(int pid, const std::string& smaps) {
    char name[] = "/tmp/memkit-proc-XXXXXX";
    if (::mkdtemp(name) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = name;
    std::filesystem::create_directory(root_ / std::to_string(pid));
    std::ofstream(root_ / std::to_string(pid) / "smaps", std::ios::binary) << smaps;
  }
  TemporaryProc(const TemporaryProc&) = delete;
  TemporaryProc& operator=(const TemporaryProc&) = delete;
  ~TemporaryProc() { std::filesystem::remove_all(root_); }

  ReadOptions options() const {
    ReadOptions options;
    options.proc_root = root_.string();
    options.find_thread_stacks = false;
    return options;
  }
  std::string smaps_path(int pid) const { return (root_ / std::to_string(pid) / "smaps").string(); }

 private:
  std::filesystem::path root_;
};

// Regions with every counter line, far more text than the reader's buffer holds, one path
// longer than the buffer, and no '\n' after the last line: the reader parses the file a chunk at
// a time and must see the same lines, numbered the same, as the whole text.
std::string big_smaps() {
  std::string text;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    char line[96];
    std::snprintf(line, sizeof line, "%012llx-%012llx rw-p 00000000 00:00 0 ",
                  static_cast<unsigned long long>(0x10000000 + i * 0x2000),
                  static_cast<unsigned long long>(0x10001000 + i * 0x2000));
    text += line;
    if (i == 1000) text += "/" + std::string(200000, 'p');
    text += '\n';
    for (std::size_t f = 0; f < kSmapsFieldCount; ++f) {
      const auto field = static_cast<SmapsField>(f);
      text.append(smaps_field_name(field)).append(":   ").append(std::to_string(i + f));
      text += smaps_field_is_kib(field) ? " kB\n" : "\n";
    }
    text += "VmFlags: rd wr mr mw me ac";
    if (i + 1 < 2000) text += '\n';
  }
  return text;
}

TEST(ProcessMapRead, ReadsAMapLargerThanItsBufferAsTheWholeTextParses) {
  const std::string text = big_smaps();
  const TemporaryProc proc(4646, text);
  const ProcessMap read = ProcessMap::read(4646, proc.options());
  const ProcessMap parsed = ProcessMap::parse(text, "big.smaps");
  ASSERT_EQ(read.regions().size(), 2000U);
  ASSERT_EQ(parsed.regions().size(), 2000U);
  for (std::size_t i = 0; i < 2000; ++i) {
    const Region& a = read.regions()[i];
    const Region& b = parsed.regions()[i];
    EXPECT_EQ(a.start, b.start) << "region " << i;
    EXPECT_EQ(a.path, b.path) << "region " << i;
    EXPECT_EQ(a.vm_flags, "rd wr mr mw me ac") << "region " << i;
    for (std::size_t f = 0; f < kSmapsFieldCount; ++f) {
      const auto field = static_cast<SmapsField>(f);
      EXPECT_EQ(a.smaps.get(field), i + f) << "region " << i << " " << smaps_field_name(field);
    }
  }
  EXPECT_EQ(read.regions()[1000].path.size(), 200001U);
}

TEST(ProcessMapRead, NumbersLinesAcrossTheReadersChunks) {
  const std::string text = big_smaps() + "\nhello world\n";
  const std::size_t lines = 2000 * (kSmapsFieldCount + 2) + 1;
  const TemporaryProc proc(4747, text);
  std::size_t line = 0;
  const std::string what = what_of<MapParseError>([&] {
    try {
      (void)ProcessMap::read(4747, proc.options());
    } catch (const MapParseError& e) {
      line = e.line();
      throw;
    }
  });
  EXPECT_EQ(line, lines);
  EXPECT_EQ(what, "memkit::inspect: " + proc.smaps_path(4747) + ":" + std::to_string(lines) +
                      ": malformed line \"hello world\": neither a mapping line (START-END PERMS "
                      "OFFSET DEV INODE PATH) nor a counter line (Name: value)");
}

TEST(ProcessMapRead, ReadProcFileOfADirectoryNamesTheError) {
  const std::string path = fixture_path("proc");
  EXPECT_EQ(what_of<ProcReadError>([&] { (void)read_proc_file(path); }),
            "memkit::inspect: cannot read " + path + ": Is a directory");
}

// ---- this process -------------------------------------------------------------------------

TEST(ProcessMapSelf, FindsThisProgramItsStackAndItsTotals) {
  const ProcessMap map = ProcessMap::read_self();
  EXPECT_EQ(map.pid(), ::getpid());
  EXPECT_TRUE(map.has_smaps());
  ASSERT_FALSE(map.executable().empty());

  int local = 0;
  const Region* stack = map.find(reinterpret_cast<std::uint64_t>(&local));
  ASSERT_NE(stack, nullptr);
  EXPECT_EQ(stack->kind, RegionKind::kMainStack);

  const Region* code = map.find(reinterpret_cast<std::uint64_t>(&ProcessMap::read_self));
  ASSERT_NE(code, nullptr);
  EXPECT_EQ(code->kind, RegionKind::kText);
  ASSERT_GE(code->module, 0);
  const Module& self = map.modules()[static_cast<std::size_t>(code->module)];
  EXPECT_TRUE(self.main_executable);
  EXPECT_EQ(self.path, map.executable());
  EXPECT_GT(self.kib(RegionKind::kText), 0U);

  std::uint64_t rss = 0;
  for (const Region& region : map.regions()) rss += region.rss_kib();
  EXPECT_EQ(map.totals().get(SmapsField::kRss), rss);
  EXPECT_GT(rss, 0U);
}

TEST(ProcessMapSelf, FindsAThreadStackAndItsGuardByTheThreadsStackPointer) {
  int thread_id = 0;
  ProcessMap seen = ProcessMap::parse("", "none");
  std::uint64_t local_address = 0;
  std::thread thread([&] {
    int local = 0;
    local_address = reinterpret_cast<std::uint64_t>(&local);
    thread_id = static_cast<int>(::syscall(SYS_gettid));
    seen = ProcessMap::read_self();
  });
  thread.join();
  const Region* stack = seen.find(local_address);
  ASSERT_NE(stack, nullptr);
  EXPECT_EQ(stack->kind, RegionKind::kThreadStack);
  EXPECT_EQ(stack->thread_id, thread_id);
  const Region* guard = seen.find(stack->start - 1);
  ASSERT_NE(guard, nullptr);
  EXPECT_EQ(guard->kind, RegionKind::kStackGuard);
  EXPECT_EQ(guard->thread_id, thread_id);
}

TEST(ProcessMapSelf, ReadsAnotherLiveProcess) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  const ProcessMap map = ProcessMap::read(child);
  EXPECT_EQ(map.pid(), child);
  EXPECT_FALSE(map.regions().empty());
  bool has_stack = false;
  for (const Region& region : map.regions()) has_stack |= region.kind == RegionKind::kMainStack;
  EXPECT_TRUE(has_stack);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
}

}  // namespace
}  // namespace memkit::inspect
