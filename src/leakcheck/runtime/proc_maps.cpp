// proc_maps.cpp — reading /proc/self files into internal memory; see proc_maps.h.
#include "proc_maps.h"

#include <fcntl.h>
#include <unistd.h>

#include "runtime.h"

namespace memkit::check_rt {
namespace {

bool grow(ProcText* text) {
  const std::size_t capacity = text->capacity == 0 ? 64 * 1024 : text->capacity * 2;
  auto* data = static_cast<char*>(internal_map(capacity));
  if (data == nullptr) return false;
  release_proc_text(text);
  text->data = data;
  text->capacity = capacity;
  return true;
}

uint64_t parse_hex(const char*& at) {
  uint64_t value = 0;
  for (;; ++at) {
    const char c = *at;
    if (c >= '0' && c <= '9') {
      value = value * 16 + static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      value = value * 16 + static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return value;
    }
  }
}

uint64_t parse_decimal(const char*& at) {
  uint64_t value = 0;
  for (; *at >= '0' && *at <= '9'; ++at) value = value * 10 + static_cast<uint64_t>(*at - '0');
  return value;
}

void skip_spaces(const char*& at) {
  while (*at == ' ') ++at;
}

void skip_field(const char*& at) {
  while (*at != ' ' && *at != '\n' && *at != '\0') ++at;
}

}  // namespace

bool read_proc_file(const char* path, ProcText* text) {
  for (;;) {
    if (text->capacity == 0 && !grow(text)) return false;
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    std::size_t size = 0;
    for (;;) {
      const ssize_t n = read(fd, text->data + size, text->capacity - 1 - size);
      if (n <= 0) break;
      size += static_cast<std::size_t>(n);
      if (size == text->capacity - 1) break;
    }
    close(fd);
    if (size < text->capacity - 1) {
      text->data[size] = '\0';
      text->size = size;
      return true;
    }
    if (!grow(text)) return false;  // the file did not fit: read it again into twice the room
  }
}

void release_proc_text(ProcText* text) {
  if (text->data != nullptr) internal_unmap(text->data, text->capacity);
  *text = ProcText{};
}

bool read_maps(MapsSnapshot* maps) {
  if (!read_proc_file("/proc/self/maps", &maps->text)) return false;
  std::size_t lines = 0;
  for (std::size_t i = 0; i < maps->text.size; ++i) lines += maps->text.data[i] == '\n';
  if (lines > maps->capacity) {
    if (maps->entries != nullptr) internal_unmap(maps->entries, maps->capacity * sizeof(MapsEntry));
    maps->capacity = lines + 64;
    maps->entries = static_cast<MapsEntry*>(internal_map(maps->capacity * sizeof(MapsEntry)));
    if (maps->entries == nullptr) {
      maps->capacity = 0;
      return false;
    }
  }
  maps->count = 0;
  char* line = maps->text.data;
  while (*line != '\0') {
    char* newline = line;
    while (*newline != '\n' && *newline != '\0') ++newline;
    const bool last = *newline == '\0';
    *newline = '\0';
    // begin-end perms offset dev inode [path]
    const char* at = line;
    MapsEntry entry;
    entry.begin = parse_hex(at);
    if (*at == '-') ++at;
    entry.end = parse_hex(at);
    skip_spaces(at);
    entry.readable = at[0] == 'r';
    entry.writable = at[0] != '\0' && at[1] == 'w';
    entry.executable = at[0] != '\0' && at[1] != '\0' && at[2] == 'x';
    skip_field(at);
    skip_spaces(at);
    entry.offset = parse_hex(at);
    skip_spaces(at);
    skip_field(at);  // device
    skip_spaces(at);
    entry.inode = parse_decimal(at);
    skip_spaces(at);
    entry.path = at;
    if (entry.end > entry.begin && maps->count < maps->capacity)
      maps->entries[maps->count++] = entry;
    if (last) break;
    line = newline + 1;
  }
  return true;
}

void release_maps(MapsSnapshot* maps) {
  release_proc_text(&maps->text);
  if (maps->entries != nullptr) internal_unmap(maps->entries, maps->capacity * sizeof(MapsEntry));
  *maps = MapsSnapshot{};
}

const MapsEntry* find_mapping(const MapsSnapshot& maps, uintptr_t address) {
  std::size_t lo = 0;
  std::size_t hi = maps.count;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (maps.entries[mid].end <= address) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == maps.count || address < maps.entries[lo].begin) return nullptr;
  return &maps.entries[lo];
}

bool same_string(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

bool starts_with(const char* text, const char* prefix) {
  while (*prefix != '\0') {
    if (*text++ != *prefix++) return false;
  }
  return true;
}

}  // namespace memkit::check_rt
