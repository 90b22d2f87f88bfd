// memkit/inspect/type_layout.h — how a struct is laid out in memory, and how to make it smaller.
//
// C++ never reorders members: each one goes at the next offset its alignment allows, and the
// struct's size is rounded up to its own alignment. Order members carelessly and the compiler
// fills the gaps with padding:
//
//   struct Unpadded { uint8_t a; uint32_t b; uint16_t c; };
//
//   offset size  member
//        0    1  uint8_t a
//        1    3  (hole)                 b must start at a multiple of 4
//        4    4  uint32_t b
//        8    2  uint16_t c
//       10    2  (trailing padding)     sizeof must be a multiple of 4, for arrays
//   size 12, 7 bytes of members: 5 bytes wasted
//
// Ordered by alignment, largest first — b, c, a — the same members take 8 bytes. analyze()
// finds the holes and the trailing padding and proposes that order (what pahole --reorganize
// does); the layout itself comes from a binary's debug information (memkit/inspect/
// dwarf_layout.h, `memkit layout BINARY TYPE`).
//
// Bases and the vtable pointer stay first, in their order; a run of bit-fields that share
// storage moves as one block; a union has no holes, only trailing padding, and nothing to
// reorder. A suggestion is exact for plain members and a lower bound where the ABI reuses a
// base's tail padding.
#ifndef MEMKIT_INSPECT_TYPE_LAYOUT_H_
#define MEMKIT_INSPECT_TYPE_LAYOUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "memkit/export.h"

namespace memkit::inspect {

struct LayoutMember {
  std::string name;             // empty for an anonymous struct or union member
  std::string type_name;        // "uint32_t", "char[3]", "geo::Point", "const char*"
  std::uint64_t offset = 0;     // bytes from the start (for a bit-field: of its first byte)
  std::uint64_t size = 0;       // bytes (a bit-field: its declared type's size)
  std::uint64_t alignment = 1;  // of its type
  // A base's size without its own trailing padding, which the ABI lets the derived class's
  // members reuse (the Itanium ABI does for non-POD bases). Equal to `size` for other members.
  std::uint64_t data_size = 0;
  bool is_base = false;          // a base class subobject
  bool is_virtual_base = false;  // its offset is only known at run time (offset 0 here)
  bool artificial = false;       // made by the compiler: the vtable pointer
  // Bit-fields: the offset in bits from the start of the struct, and the width in bits.
  bool is_bit_field = false;
  std::uint64_t bit_offset = 0;
  std::uint64_t bit_size = 0;
};

struct TypeLayout {
  std::string name;  // qualified: "geo::Outer::Inner"
  std::string kind;  // "struct", "class" or "union"
  std::uint64_t size = 0;
  std::uint64_t alignment = 1;
  std::string decl_file;  // where it is defined, when the debug information says
  std::uint64_t decl_line = 0;
  std::vector<LayoutMember> members;  // in declaration order, bases first
};

// A gap nothing uses: a hole between members, or the padding at the end.
struct LayoutGap {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

struct LayoutAnalysis {
  std::vector<LayoutGap> holes;  // between members, in offset order
  std::uint64_t hole_bytes = 0;
  std::uint64_t trailing_padding = 0;
  std::uint64_t member_bytes = 0;  // sizes of the members (bit-fields: whole bytes they span)
  std::uint64_t wasted_bytes = 0;  // hole_bytes + trailing_padding
  // A member order that minimises the size (indexes into members), and the size it gives.
  // Equal to the declaration order and the size when nothing can be gained.
  std::vector<std::size_t> suggested_order;
  std::uint64_t suggested_size = 0;
};

MEMKIT_EXPORT LayoutAnalysis analyze(const TypeLayout& layout);

// The table above, then the totals and the suggestion, as `memkit layout` prints it.
MEMKIT_EXPORT std::string format_layout(const TypeLayout& layout, const LayoutAnalysis& analysis);

}  // namespace memkit::inspect

#endif  // MEMKIT_INSPECT_TYPE_LAYOUT_H_
