// Shared by the report_*_test.cpp files: data-file access, a symbolizer from a table (so that
// golden tests can use the exact names valgrind printed), and pid normalisation.
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "raw_report.h"
#include "symbolizer.h"

namespace memkit::check::testing {

inline std::string data_path(const std::string& name) {
  return std::string(MEMKIT_LEAKCHECK_TEST_DATA) + "/" + name;
}

inline std::string read_data(const std::string& name) {
  std::ifstream file(data_path(name), std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// "==26819== " and "--26819-- " become "==PID== " and "--PID-- ". (By hand: std::regex trips
// GCC 12's -Wmaybe-uninitialized at -O1 in the asan preset.)
inline std::string normalise_pids(const std::string& text) {
  std::string result;
  std::size_t i = 0;
  while (i < text.size()) {
    const char mark = text[i];
    if ((mark == '=' || mark == '-') && i + 1 < text.size() && text[i + 1] == mark) {
      std::size_t end = i + 2;
      while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
      if (end > i + 2 && end + 1 < text.size() && text[end] == mark && text[end + 1] == mark) {
        result.append(2, mark).append("PID").append(2, mark);
        i = end + 2;
        continue;
      }
    }
    result += text[i++];
  }
  return result;
}

// Looks addresses up in a table; anything else is "???".
class TableSymbolizer final : public Symbolizer {
 public:
  void add(std::uintptr_t address, std::string function, std::string file = "", unsigned line = 0,
           std::string object = "") {
    SourceFrame frame;
    frame.ip = address;
    frame.mangled = function;
    frame.function = std::move(function);
    frame.file = std::move(file);
    frame.line = line;
    frame.object = std::move(object);
    table_[address].push_back(frame);
  }
  std::vector<SourceFrame> frames_at(std::uintptr_t address) override {
    const auto it = table_.find(address);
    if (it != table_.end()) return it->second;
    SourceFrame unknown;
    unknown.ip = address;
    unknown.function = "???";
    return {unknown};
  }

 private:
  std::map<std::uintptr_t, std::vector<SourceFrame>> table_;
};

// The names valgrind printed for multi.c (research notes, section 2.7).
inline TableSymbolizer multi_symbols() {
  const std::string vg = "/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so";
  TableSymbolizer symbols;
  symbols.add(0x48417B4, "malloc", "", 0, vg);
  symbols.add(0x48465EF, "calloc", "", 0, vg);
  symbols.add(0x484682F, "realloc", "", 0, vg);
  symbols.add(0x109180, "a1", "multi.c", 4, "/tmp/multi");
  symbols.add(0x10919F, "a2", "multi.c", 5, "/tmp/multi");
  symbols.add(0x1091CE, "a3", "multi.c", 6, "/tmp/multi");
  const std::pair<std::uintptr_t, unsigned> mains[] = {
      {0x1091EC, 8},  {0x109200, 9},  {0x10920A, 10}, {0x109214, 11},
      {0x109225, 12}, {0x10923A, 13}, {0x109266, 14}};
  for (const auto& [address, line] : mains)
    symbols.add(address, "main", "multi.c", line, "/tmp/multi");
  return symbols;
}

}  // namespace memkit::check::testing
