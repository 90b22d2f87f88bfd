// Offline symbolization with libdw's dwfl, and valgrind's rules for what a stack shows.
#include "symbolizer.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include <cstdlib>
#include <string_view>

namespace memkit::check {
namespace {

std::string basename_of(const char* path) {
  const std::string_view view(path);
  const std::size_t slash = view.rfind('/');
  return std::string(slash == std::string_view::npos ? view : view.substr(slash + 1));
}

const char* string_attribute(Dwarf_Die* die, unsigned name) {
  Dwarf_Attribute attribute;
  // _integrate follows DW_AT_abstract_origin and DW_AT_specification: an inlined call or an
  // out-of-line member function has its names on the declaration.
  if (dwarf_attr_integrate(die, name, &attribute) == nullptr) return nullptr;
  return dwarf_formstring(&attribute);
}

// The linkage name if there is one (C++), else the plain name (C, main, extern "C").
const char* die_linkage_name(Dwarf_Die* die) {
  if (const char* name = string_attribute(die, DW_AT_linkage_name)) return name;
  if (const char* name = string_attribute(die, DW_AT_MIPS_linkage_name)) return name;
  return string_attribute(die, DW_AT_name);
}

bool is_function_scope(Dwarf_Die* die) {
  const int tag = dwarf_tag(die);
  return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine;
}

// Where an inlined call was made: DW_AT_call_file (an index into the unit's file table) and
// DW_AT_call_line on the DW_TAG_inlined_subroutine.
bool call_site(Dwarf_Die* inlined, Dwarf_Die* unit, std::string& file, unsigned& line) {
  Dwarf_Attribute attribute;
  Dwarf_Word file_index = 0;
  Dwarf_Word line_number = 0;
  if (dwarf_attr(inlined, DW_AT_call_file, &attribute) == nullptr ||
      dwarf_formudata(&attribute, &file_index) != 0) {
    return false;
  }
  if (dwarf_attr(inlined, DW_AT_call_line, &attribute) == nullptr ||
      dwarf_formudata(&attribute, &line_number) != 0) {
    return false;
  }
  Dwarf_Files* files = nullptr;
  std::size_t file_count = 0;
  if (dwarf_getsrcfiles(unit, &files, &file_count) != 0 || file_index >= file_count) return false;
  const char* path = dwarf_filesrc(files, file_index, nullptr, nullptr);
  if (path == nullptr) return false;
  file = basename_of(path);
  line = static_cast<unsigned>(line_number);
  return true;
}

bool is_below_main(std::string_view name) {
  // valgrind's Vg_FnNameBelowMain: glibc's start-up code that calls main.
  return name.starts_with("__libc_start_main") || name.starts_with("__libc_start_call_main") ||
         name == "generic_start_main" || name.starts_with("generic_start_main.");
}

}  // namespace

std::string demangle(const std::string& name) {
  if (!name.starts_with("_Z")) return name;
  int status = 0;
  char* demangled = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
  if (demangled == nullptr || status != 0) {
    std::free(demangled);
    return name;
  }
  std::string result(demangled);
  std::free(demangled);
  return result;
}

struct DwarfSymbolizer::Session {
  Session() {
    callbacks.find_elf = dwfl_build_id_find_elf;
    callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
    callbacks.section_address = dwfl_offline_section_address;
    callbacks.debuginfo_path = &debuginfo_path;
    dwfl = dwfl_begin(&callbacks);
  }
  ~Session() {
    if (dwfl != nullptr) dwfl_end(dwfl);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  char* debuginfo_path = nullptr;
  Dwfl_Callbacks callbacks{};
  Dwfl* dwfl = nullptr;
};

DwarfSymbolizer::DwarfSymbolizer(const std::vector<RawModule>& modules)
    : modules_(modules), session_(std::make_unique<Session>()) {
  if (session_->dwfl == nullptr) return;
  dwfl_report_begin(session_->dwfl);
  for (const RawModule& module : modules_) {
    if (!module.path.starts_with("/")) continue;  // [vdso] and the like have no file
    // base is the mapping of file offset 0, i.e. where the first PT_LOAD went (add_p_vaddr false).
    // A module that cannot be opened is simply not reported; frames in it fall back below.
    dwfl_report_elf(session_->dwfl, module.path.c_str(), module.path.c_str(), -1,
                    static_cast<GElf_Addr>(module.base), false);
  }
  dwfl_report_end(session_->dwfl, nullptr, nullptr);
}

DwarfSymbolizer::~DwarfSymbolizer() = default;

std::vector<SourceFrame> DwarfSymbolizer::frames_at(std::uintptr_t address) {
  if (const auto it = cache_.find(address); it != cache_.end()) return it->second;

  SourceFrame outer;
  outer.ip = address;
  outer.function = "???";
  for (const RawModule& module : modules_) {
    for (const auto& [begin, end] : module.ranges) {
      if (address >= begin && address < end) outer.object = module.path;
    }
  }

  std::vector<SourceFrame> frames;
  Dwfl_Module* module =
      session_->dwfl != nullptr ? dwfl_addrmodule(session_->dwfl, address) : nullptr;
  if (module != nullptr) {
    const char* module_name =
        dwfl_module_info(module, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
    if (module_name != nullptr) outer.object = module_name;

    GElf_Off offset = 0;
    GElf_Sym symbol;
    if (const char* name =
            dwfl_module_addrinfo(module, address, &offset, &symbol, nullptr, nullptr, nullptr)) {
      outer.mangled = name;
      outer.function = demangle(name);
    }

    Dwarf_Addr bias = 0;
    Dwarf_Die* unit = dwfl_module_addrdie(module, address, &bias);
    // dwarf_getscopes finds the innermost scope at the address, but past an inlined call its
    // chain climbs the abstract definition; the physical parents (the callers the code was
    // inlined into) come from dwarf_getscopes_die on that innermost DIE, as eu-addr2line -i does.
    Dwarf_Die* scopes = nullptr;
    int scope_count = 0;
    if (unit != nullptr) {
      Dwarf_Die* innermost = nullptr;
      if (dwarf_getscopes(unit, address - bias, &innermost) > 0) {
        Dwarf_Die start = innermost[0];
        scope_count = dwarf_getscopes_die(&start, &scopes);
        if (scope_count < 0) scope_count = 0;
      }
      std::free(innermost);
    }

    // The innermost frame's line comes from the line table; each outer frame's from the call
    // site of the inlined frame inside it.
    std::string file;
    unsigned line = 0;
    if (Dwfl_Line* source_line = dwfl_module_getsrc(module, address)) {
      int line_number = 0;
      if (const char* path =
              dwfl_lineinfo(source_line, nullptr, &line_number, nullptr, nullptr, nullptr)) {
        file = basename_of(path);
        line = static_cast<unsigned>(line_number);
      }
    }
    for (int i = 0; i < scope_count; ++i) {
      Dwarf_Die* scope = &scopes[i];
      if (!is_function_scope(scope)) continue;
      const bool inlined = dwarf_tag(scope) == DW_TAG_inlined_subroutine;
      SourceFrame frame = outer;
      frame.file = file;
      frame.line = line;
      frame.inlined = inlined;
      if (inlined || outer.mangled.empty()) {
        if (const char* name = die_linkage_name(scope)) {
          frame.mangled = name;
          frame.function = demangle(name);
        }
      }
      frames.push_back(frame);
      if (!inlined) break;  // the containing function: done
      file.clear();
      line = 0;
      if (!call_site(scope, unit, file, line)) file.clear();
    }
    std::free(scopes);
    if (frames.empty()) {
      outer.file = file;
      outer.line = line;
    }
  }
  if (frames.empty()) frames.push_back(outer);
  // A line without a file is no line: valgrind then names the object.
  for (SourceFrame& frame : frames) {
    if (frame.file.empty()) frame.line = 0;
  }
  cache_.emplace(address, frames);
  return frames;
}

SymbolizedStack symbolize_stack(Symbolizer& symbolizer, const std::vector<std::uintptr_t>& frames,
                                unsigned num_callers) {
  SymbolizedStack stack;
  const std::size_t depth = std::min<std::size_t>(frames.size(), num_callers);
  for (std::size_t i = 0; i < depth; ++i) {
    if (i == 0) {
      // The interposed allocator: its own name, never its inlined helpers or its source lines.
      SourceFrame frame = symbolizer.frames_at(frames[0]).back();
      frame.file.clear();
      frame.line = 0;
      frame.inlined = false;
      stack.push_back(frame);
      continue;
    }
    const std::uintptr_t lookup = frames[i] - 1;  // inside the call instruction
    std::vector<SourceFrame> lines = symbolizer.frames_at(lookup);
    const SourceFrame& containing = lines.back();
    if (is_below_main(containing.function)) {
      SourceFrame below = containing;
      below.function = "(below main)";
      below.inlined = false;
      stack.push_back(below);
      break;
    }
    for (SourceFrame& line : lines) line.ip = lookup;
    stack.insert(stack.end(), lines.begin(), lines.end());
    if (containing.function == "main") break;
  }
  return stack;
}

}  // namespace memkit::check
