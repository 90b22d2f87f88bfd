// proc_maps.h — /proc/self files read without malloc: the whole file into internal memory, and
// /proc/self/maps parsed into entries (the roots and the report's module list both need it).
#pragma once

#include <cstddef>
#include <cstdint>

namespace memkit::check_rt {

struct ProcText {
  char* data = nullptr;  // NUL-terminated; internal memory of `capacity` bytes
  std::size_t size = 0;
  std::size_t capacity = 0;
};

// Reads a whole /proc file (their size is unknown until read). False on failure.
bool read_proc_file(const char* path, ProcText* text);
void release_proc_text(ProcText* text);

struct MapsEntry {
  uintptr_t begin = 0;
  uintptr_t end = 0;
  uint64_t offset = 0;
  uint64_t inode = 0;
  bool readable = false;
  bool writable = false;
  bool executable = false;
  const char* path = nullptr;  // points into the ProcText, NUL-terminated; "" for anonymous
};

struct MapsSnapshot {
  ProcText text;
  MapsEntry* entries = nullptr;  // ascending by address
  std::size_t count = 0;
  std::size_t capacity = 0;
};

bool read_maps(MapsSnapshot* maps);
void release_maps(MapsSnapshot* maps);

// The entry containing address, or nullptr.
const MapsEntry* find_mapping(const MapsSnapshot& maps, uintptr_t address);

bool same_string(const char* a, const char* b);
bool starts_with(const char* text, const char* prefix);

}  // namespace memkit::check_rt
