// memkit/inspect/dwarf_layout.h — type layouts from a binary's DWARF debug information.
//
// A binary built with -g describes every struct, class and union it uses: size, members,
// offsets, bit-fields, bases. read_type_layouts() reads that with elfutils' libdw and returns
// TypeLayouts (memkit/inspect/type_layout.h) to analyze:
//
//   for (const TypeLayout& layout : read_type_layouts("./server", {"Connection"}))
//     std::cout << format_layout(layout, analyze(layout));
//
// This lives in the separate library memkit::dwarf (it links libdw); the core memkit library
// depends on the standard library only. Errors are DebugInfoError (memkit/base/error.h):
//
//   "memkit layout: ./server cannot be opened: No such file or directory"
//   "memkit layout: notes.txt is not an ELF file"
//   "memkit layout: ./server has no DWARF debug information (compile it with -g)"
//   "memkit layout: ./server defines no struct, class or union named 'Conection'"
#ifndef MEMKIT_INSPECT_DWARF_LAYOUT_H_
#define MEMKIT_INSPECT_DWARF_LAYOUT_H_

#include <string>
#include <vector>

#include "memkit/inspect/type_layout.h"

namespace memkit::inspect {

// The layouts of the named types, in the order asked; a name matches a qualified name
// ("geo::Outer::Inner") or, when unique enough, the plain one ("Inner"; the first definition
// wins). With no names: every named struct, class and union the binary defines outside system
// headers (/usr/...), in the order of the debug information.
std::vector<TypeLayout> read_type_layouts(const std::string& binary,
                                          const std::vector<std::string>& names = {});

}  // namespace memkit::inspect

#endif  // MEMKIT_INSPECT_DWARF_LAYOUT_H_
