// Names of region kinds and smaps counters, and the sum of counters.
#include "memkit/inspect/region.h"

namespace memkit::inspect {
namespace {

struct KindNames {
  std::string_view name;
  std::string_view key;
};

constexpr std::array<KindNames, kRegionKindCount> kKindNames{{
    {"text", "text"},
    {"read-only data", "rodata"},
    {"data", "data"},
    {"bss", "bss"},
    {"heap", "heap"},
    {"main stack", "main_stack"},
    {"thread stack", "thread_stack"},
    {"stack guard", "stack_guard"},
    {"anonymous", "anonymous"},
    {"file mapping", "file"},
    {"shared memory", "shm"},
    {"reserved", "reserved"},
    {"vdso", "vdso"},
    {"vvar", "vvar"},
    {"vsyscall", "vsyscall"},
}};

constexpr std::array<std::string_view, kSmapsFieldCount> kFieldNames{
    "Size",
    "KernelPageSize",
    "MMUPageSize",
    "Rss",
    "Pss",
    "Pss_Dirty",
    "Pss_Anon",
    "Pss_File",
    "Pss_Shmem",
    "Shared_Clean",
    "Shared_Dirty",
    "Private_Clean",
    "Private_Dirty",
    "Referenced",
    "Anonymous",
    "KSM",
    "LazyFree",
    "AnonHugePages",
    "ShmemPmdMapped",
    "FilePmdMapped",
    "Shared_Hugetlb",
    "Private_Hugetlb",
    "Swap",
    "SwapPss",
    "Locked",
    "THPeligible",
    "ProtectionKey",
};

}  // namespace

std::string_view kind_name(RegionKind kind) noexcept {
  return kKindNames[static_cast<std::size_t>(kind)].name;
}

std::string_view kind_key(RegionKind kind) noexcept {
  return kKindNames[static_cast<std::size_t>(kind)].key;
}

std::string_view smaps_field_name(SmapsField field) noexcept {
  return kFieldNames[static_cast<std::size_t>(field)];
}

bool smaps_field_is_kib(SmapsField field) noexcept {
  return field != SmapsField::kThpEligible && field != SmapsField::kProtectionKey;
}

void SmapsValues::add(const SmapsValues& other) noexcept {
  for (std::size_t i = 0; i < kSmapsFieldCount; ++i) {
    const auto field = static_cast<SmapsField>(i);
    if (!other.has(field) || !smaps_field_is_kib(field)) continue;
    // Page sizes are per region, not amounts: the sum keeps the largest.
    if (field == SmapsField::kKernelPageSize || field == SmapsField::kMmuPageSize) {
      if (!has(field) || other.get(field) > get(field)) set(field, other.get(field));
      continue;
    }
    set(field, get(field) + other.get(field));
  }
}

}  // namespace memkit::inspect
