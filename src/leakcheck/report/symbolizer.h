// symbolizer.h — addresses to the lines valgrind prints: "fn (file.c:12)", "fn (in /lib/x.so)",
// "??? (in /path)", with inlined calls as extra lines at the same address.
//
// The renderer symbolizes offline, after the program has exited, from the module list in the raw
// report: libdw's dwfl reports each file at the address it was loaded at, then reads DWARF
// (DWARF 5, separate debug files by build id or .gnu_debuglink) for lines and inlining, and the
// symbol table when there is no DWARF. Only the stacks that are printed are symbolized, and each
// address once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "raw_report.h"

namespace memkit::check {

struct SourceFrame {
  std::uintptr_t ip = 0;  // the address printed ("0x10915E")
  std::string function;   // demangled with parameters: "make(char const*)"; "???" if unknown
  std::string mangled;    // the linkage name suppressions match ("_Z4makePKc"); "" if unknown
  std::string file;       // source basename; "" without line information
  unsigned line = 0;
  std::string object;    // the module's path; "" when the address is in no module
  bool inlined = false;  // inlined into the frame below it (which has the same ip)
  bool operator==(const SourceFrame&) const = default;
};
using SymbolizedStack = std::vector<SourceFrame>;

// Maps one lookup address to its frames, innermost first: the inlined callees, then the function
// that contains the address. Never returns an empty vector.
class Symbolizer {
 public:
  virtual ~Symbolizer() = default;
  virtual std::vector<SourceFrame> frames_at(std::uintptr_t address) = 0;
};

// The libdw implementation. Modules that cannot be opened (deleted since) still name themselves:
// their frames print as "??? (in /path)".
class DwarfSymbolizer final : public Symbolizer {
 public:
  explicit DwarfSymbolizer(const std::vector<RawModule>& modules);
  ~DwarfSymbolizer() override;
  DwarfSymbolizer(const DwarfSymbolizer&) = delete;
  DwarfSymbolizer& operator=(const DwarfSymbolizer&) = delete;

  std::vector<SourceFrame> frames_at(std::uintptr_t address) override;

 private:
  struct Session;
  std::vector<RawModule> modules_;
  std::unique_ptr<Session> session_;
  std::unordered_map<std::uintptr_t, std::vector<SourceFrame>> cache_;
};

// A raw stack as valgrind prints it: at most `num_callers` addresses; frames[0] (a pc inside the
// interposed allocator) by its name alone, "malloc (in /path/libmemkit_check.so)"; every later
// frame a return address, looked up and printed as ra - 1; inlined calls expanded; nothing below
// `main` (a frame of glibc's start-up code that is reached prints as "(below main)" and ends it).
SymbolizedStack symbolize_stack(Symbolizer& symbolizer, const std::vector<std::uintptr_t>& frames,
                                unsigned num_callers);

// Demangles a C++ linkage name ("_Znwm" -> "operator new(unsigned long)"); other names unchanged.
std::string demangle(const std::string& name);

}  // namespace memkit::check
