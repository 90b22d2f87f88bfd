// Reading struct layouts with libdw: walk every unit's DIE tree, keeping the names of the
// enclosing namespaces and types, and turn each defined struct/class/union into a TypeLayout.
#include "memkit/inspect/dwarf_layout.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <unordered_map>

#include "memkit/base/error.h"

namespace memkit::inspect {
namespace {

class Descriptor {
 public:
  explicit Descriptor(int fd) noexcept : fd_(fd) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

bool attribute_udata(Dwarf_Die* die, unsigned name, Dwarf_Word* value) {
  Dwarf_Attribute attribute;
  if (dwarf_attr_integrate(die, name, &attribute) == nullptr) return false;
  return dwarf_formudata(&attribute, value) == 0;
}

bool has_flag(Dwarf_Die* die, unsigned name) {
  Dwarf_Attribute attribute;
  bool flag = false;
  if (dwarf_attr_integrate(die, name, &attribute) == nullptr) return false;
  return dwarf_formflag(&attribute, &flag) == 0 && flag;
}

bool type_of(Dwarf_Die* die, Dwarf_Die* type) {
  Dwarf_Attribute attribute;
  if (dwarf_attr_integrate(die, DW_AT_type, &attribute) == nullptr) return false;
  return dwarf_formref_die(&attribute, type) != nullptr;
}

bool is_record(int tag) {
  return tag == DW_TAG_structure_type || tag == DW_TAG_class_type || tag == DW_TAG_union_type;
}

class Reader {
 public:
  explicit Reader(Dwarf* dwarf) : dwarf_(dwarf) {}

  std::string type_name(Dwarf_Die* die, int depth = 0) {
    if (depth > 16) return "...";
    const char* name = dwarf_diename(die);
    Dwarf_Die inner;
    switch (dwarf_tag(die)) {
      case DW_TAG_pointer_type:
        return (type_of(die, &inner) ? type_name(&inner, depth + 1) : "void") + "*";
      case DW_TAG_reference_type:
        return (type_of(die, &inner) ? type_name(&inner, depth + 1) : "void") + "&";
      case DW_TAG_rvalue_reference_type:
        return (type_of(die, &inner) ? type_name(&inner, depth + 1) : "void") + "&&";
      case DW_TAG_const_type:
        return std::string("const ").append(type_of(die, &inner) ? type_name(&inner, depth + 1)
                                                                 : "void");
      case DW_TAG_volatile_type:
        return std::string("volatile ")
            .append(type_of(die, &inner) ? type_name(&inner, depth + 1) : "void");
      case DW_TAG_array_type: {
        std::string text = type_of(die, &inner) ? type_name(&inner, depth + 1) : "?";
        Dwarf_Die child;
        if (dwarf_child(die, &child) == 0) {
          do {
            if (dwarf_tag(&child) != DW_TAG_subrange_type) continue;
            Dwarf_Word count = 0;
            Dwarf_Word upper = 0;
            if (attribute_udata(&child, DW_AT_count, &count)) {
              text.append("[").append(std::to_string(count)).append("]");
            } else if (attribute_udata(&child, DW_AT_upper_bound, &upper)) {
              text.append("[").append(std::to_string(upper + 1)).append("]");
            } else {
              text += "[]";
            }
          } while (dwarf_siblingof(&child, &child) == 0);
        }
        return text;
      }
      case DW_TAG_subroutine_type:
        return "function";
      case DW_TAG_ptr_to_member_type:
        return (type_of(die, &inner) ? type_name(&inner, depth + 1) : "?") + " (member pointer)";
      default:
        break;
    }
    if (name != nullptr) return name;
    switch (dwarf_tag(die)) {
      case DW_TAG_structure_type:
        return "(anonymous struct)";
      case DW_TAG_class_type:
        return "(anonymous class)";
      case DW_TAG_union_type:
        return "(anonymous union)";
      case DW_TAG_enumeration_type:
        return "(anonymous enum)";
      default:
        return "?";
    }
  }

  std::uint64_t size_of(Dwarf_Die* type) {
    Dwarf_Word size = 0;
    if (dwarf_aggregate_size(type, &size) == 0) return size;
    const int tag = dwarf_tag(type);
    if (tag == DW_TAG_pointer_type || tag == DW_TAG_reference_type ||
        tag == DW_TAG_rvalue_reference_type) {
      return 8;
    }
    return 0;
  }

  std::uint64_t alignment_of(Dwarf_Die* type, int depth = 0) {
    if (depth > 32) return 1;
    const Dwarf_Off key = dwarf_dieoffset(type);
    if (auto it = alignments_.find(key); it != alignments_.end()) return it->second;
    std::uint64_t alignment = 1;
    Dwarf_Word explicit_alignment = 0;
    Dwarf_Die inner;
    const int tag = dwarf_tag(type);
    if (attribute_udata(type, DW_AT_alignment, &explicit_alignment)) {
      alignment = explicit_alignment;
    } else if (tag == DW_TAG_typedef || tag == DW_TAG_const_type || tag == DW_TAG_volatile_type ||
               tag == DW_TAG_array_type || tag == DW_TAG_atomic_type) {
      alignment = type_of(type, &inner) ? alignment_of(&inner, depth + 1) : 1;
    } else if (tag == DW_TAG_pointer_type || tag == DW_TAG_reference_type ||
               tag == DW_TAG_rvalue_reference_type || tag == DW_TAG_ptr_to_member_type) {
      alignment = 8;
    } else if (tag == DW_TAG_base_type || tag == DW_TAG_enumeration_type ||
               tag == DW_TAG_unspecified_type) {
      Dwarf_Word encoding = 0;
      std::uint64_t size = size_of(type);
      if (tag == DW_TAG_base_type && attribute_udata(type, DW_AT_encoding, &encoding) &&
          encoding == DW_ATE_complex_float) {
        size /= 2;  // _Complex double is two doubles
      }
      alignment = std::clamp<std::uint64_t>(size, 1, 16);
    } else if (is_record(tag)) {
      Dwarf_Die child;
      if (dwarf_child(type, &child) == 0) {
        do {
          const int child_tag = dwarf_tag(&child);
          if ((child_tag != DW_TAG_member && child_tag != DW_TAG_inheritance) ||
              has_flag(&child, DW_AT_external) || has_flag(&child, DW_AT_declaration)) {
            continue;
          }
          Dwarf_Die member_type;
          if (type_of(&child, &member_type)) {
            alignment = std::max(alignment, alignment_of(&member_type, depth + 1));
          }
        } while (dwarf_siblingof(&child, &child) == 0);
      }
    }
    alignments_[key] = alignment;
    return alignment;
  }

  TypeLayout layout_of(Dwarf_Die* record, const std::string& qualified_name) {
    TypeLayout layout;
    layout.name = qualified_name;
    switch (dwarf_tag(record)) {
      case DW_TAG_class_type:
        layout.kind = "class";
        break;
      case DW_TAG_union_type:
        layout.kind = "union";
        break;
      default:
        layout.kind = "struct";
        break;
    }
    layout.size = size_of(record);
    layout.alignment = alignment_of(record);
    if (const char* file = dwarf_decl_file(record); file != nullptr) layout.decl_file = file;
    int line = 0;
    if (dwarf_decl_line(record, &line) == 0) layout.decl_line = static_cast<std::uint64_t>(line);

    Dwarf_Die child;
    if (dwarf_child(record, &child) != 0) return layout;
    do {
      const int tag = dwarf_tag(&child);
      if (tag != DW_TAG_member && tag != DW_TAG_inheritance) continue;
      // A static data member: DW_TAG_member with DW_AT_external/declaration (DWARF 4).
      if (has_flag(&child, DW_AT_external) || has_flag(&child, DW_AT_declaration)) continue;
      LayoutMember member;
      member.is_base = tag == DW_TAG_inheritance;
      if (const char* name = dwarf_diename(&child); name != nullptr) member.name = name;
      member.artificial = has_flag(&child, DW_AT_artificial);
      Dwarf_Die type;
      if (type_of(&child, &type)) {
        member.type_name = type_name(&type);
        member.size = size_of(&type);
        member.alignment = alignment_of(&type);
        member.data_size = member.size;
        if (member.is_base) {
          Dwarf_Die base = type;
          while (dwarf_tag(&base) == DW_TAG_typedef && type_of(&base, &base)) {
          }
          const TypeLayout base_layout = layout_of(&base, type_name(&base));
          member.data_size = member.size - analyze(base_layout).trailing_padding;
        }
      }
      Dwarf_Attribute location;
      if (dwarf_attr_integrate(&child, DW_AT_data_member_location, &location) != nullptr) {
        Dwarf_Word offset = 0;
        if (dwarf_formudata(&location, &offset) == 0) {
          member.offset = offset;
        } else {
          member.is_virtual_base = member.is_base;  // a location expression: a virtual base
        }
      }
      Dwarf_Word bit_size = 0;
      if (attribute_udata(&child, DW_AT_bit_size, &bit_size)) {
        member.is_bit_field = true;
        member.bit_size = bit_size;
        Dwarf_Word data_bit_offset = 0;
        Dwarf_Word old_bit_offset = 0;
        Dwarf_Word byte_size = member.size;
        if (attribute_udata(&child, DW_AT_data_bit_offset, &data_bit_offset)) {
          member.bit_offset = data_bit_offset;
        } else if (attribute_udata(&child, DW_AT_bit_offset, &old_bit_offset)) {
          // DWARF 2/3: counted from the most significant bit of the storage unit.
          attribute_udata(&child, DW_AT_byte_size, &byte_size);
          member.bit_offset = member.offset * 8 + byte_size * 8 - old_bit_offset - bit_size;
        } else {
          member.bit_offset = member.offset * 8;
        }
        member.offset = member.bit_offset / 8;
      }
      layout.members.push_back(std::move(member));
    } while (dwarf_siblingof(&child, &child) == 0);
    return layout;
  }

  // Visits every defined, named record under `die`, with its qualified name.
  template <class Visit>
  void walk(Dwarf_Die* die, const std::string& scope, Visit&& visit) {
    Dwarf_Die child;
    if (dwarf_child(die, &child) != 0) return;
    do {
      const int tag = dwarf_tag(&child);
      const char* name = dwarf_diename(&child);
      if (tag == DW_TAG_namespace) {
        walk(&child, scope + (name != nullptr ? name : "(anonymous namespace)") + "::", visit);
      } else if (is_record(tag)) {
        if (name == nullptr || has_flag(&child, DW_AT_declaration)) {
          if (name != nullptr) walk(&child, scope + name + "::", visit);
          continue;
        }
        const std::string qualified = scope + name;
        visit(&child, qualified, name);
        walk(&child, qualified + "::", visit);
      }
    } while (dwarf_siblingof(&child, &child) == 0);
  }

  template <class Visit>
  void for_each_record(Visit&& visit) {
    Dwarf_CU* unit = nullptr;
    Dwarf_Die unit_die;
    Dwarf_Half version = 0;
    std::uint8_t unit_type = 0;
    while (dwarf_get_units(dwarf_, unit, &unit, &version, &unit_type, &unit_die, nullptr) == 0) {
      walk(&unit_die, "", visit);
    }
  }

 private:
  Dwarf* dwarf_;
  std::unordered_map<Dwarf_Off, std::uint64_t> alignments_;
};

bool in_system_header(Dwarf_Die* die) {
  const char* file = dwarf_decl_file(die);
  return file != nullptr && std::strncmp(file, "/usr/", 5) == 0;
}

}  // namespace

std::vector<TypeLayout> read_type_layouts(const std::string& binary,
                                          const std::vector<std::string>& names) {
  Descriptor fd(::open(binary.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    throw DebugInfoError(binary, std::string("cannot be opened: ") + std::strerror(errno));
  }
  elf_version(EV_CURRENT);
  {
    std::unique_ptr<Elf, int (*)(Elf*)> elf(elf_begin(fd.get(), ELF_C_READ, nullptr), elf_end);
    if (elf == nullptr || elf_kind(elf.get()) != ELF_K_ELF) {
      throw DebugInfoError(binary, "is not an ELF file");
    }
  }
  std::unique_ptr<Dwarf, int (*)(Dwarf*)> dwarf(dwarf_begin(fd.get(), DWARF_C_READ), dwarf_end);
  if (dwarf == nullptr) {
    throw DebugInfoError(binary, "has no DWARF debug information (compile it with -g)");
  }
  Reader reader(dwarf.get());

  std::vector<TypeLayout> layouts;
  if (names.empty()) {
    std::map<std::string, bool> seen;
    reader.for_each_record([&](Dwarf_Die* die, const std::string& qualified, const char*) {
      if (in_system_header(die) || !seen.emplace(qualified, true).second) return;
      layouts.push_back(reader.layout_of(die, qualified));
    });
    return layouts;
  }

  // Qualified matches win over plain-name matches; the first definition of each wins.
  std::vector<std::unique_ptr<TypeLayout>> exact(names.size());
  std::vector<std::unique_ptr<TypeLayout>> plain(names.size());
  reader.for_each_record([&](Dwarf_Die* die, const std::string& qualified, const char* name) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (!exact[i] && qualified == names[i]) {
        exact[i] = std::make_unique<TypeLayout>(reader.layout_of(die, qualified));
      } else if (!exact[i] && !plain[i] && names[i] == name) {
        plain[i] = std::make_unique<TypeLayout>(reader.layout_of(die, qualified));
      }
    }
  });
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (exact[i]) {
      layouts.push_back(std::move(*exact[i]));
    } else if (plain[i]) {
      layouts.push_back(std::move(*plain[i]));
    } else {
      throw DebugInfoError(binary, "defines no struct, class or union named '" + names[i] + "'");
    }
  }
  return layouts;
}

}  // namespace memkit::inspect
