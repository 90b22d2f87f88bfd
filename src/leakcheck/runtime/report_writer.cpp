// report_writer.cpp — the raw report's JSON, by hand; see report_writer.h and raw_report.md.
#include "report_writer.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "proc_maps.h"

namespace memkit::check_rt {
namespace {

class JsonOut {
 public:
  JsonOut(int fd, char* buffer, std::size_t capacity)
      : fd_(fd), buffer_(buffer), capacity_(capacity) {}

  void raw(const char* text) {
    while (*text != '\0') put(*text++);
  }
  void string(const char* text, std::size_t length = static_cast<std::size_t>(-1)) {
    put('"');
    for (std::size_t i = 0; i < length && text[i] != '\0'; ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (c == '"' || c == '\\') {
        put('\\');
        put(static_cast<char>(c));
      } else if (c < 0x20) {
        static const char kHex[] = "0123456789abcdef";
        raw("\\u00");
        put(kHex[c >> 4]);
        put(kHex[c & 15]);
      } else {
        put(static_cast<char>(c));
      }
    }
    put('"');
  }
  void number(uint64_t value) {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (n > 0) put(digits[--n]);
  }
  void signed_number(int64_t value) {
    if (value < 0) {
      put('-');
      number(static_cast<uint64_t>(-(value + 1)) + 1);
    } else {
      number(static_cast<uint64_t>(value));
    }
  }
  void key(const char* name) {
    string(name);
    put(':');
  }
  bool finish() {
    flush();
    return ok_;
  }

 private:
  void put(char c) {
    if (used_ == capacity_) flush();
    buffer_[used_++] = c;
  }
  void flush() {
    std::size_t done = 0;
    while (done < used_ && ok_) {
      const ssize_t n = write(fd_, buffer_ + done, used_ - done);
      if (n <= 0)
        ok_ = false;
      else
        done += static_cast<std::size_t>(n);
    }
    used_ = 0;
  }

  int fd_;
  char* buffer_;
  std::size_t capacity_;
  std::size_t used_ = 0;
  bool ok_ = true;
};

const char* end_name(EndHow how) {
  switch (how) {
    case EndHow::return_from_main:
      return "return";
    case EndHow::exit:
      return "exit";
    case EndHow::underscore_exit:
      return "_exit";
    case EndHow::destructor:
      return "destructor";
    case EndHow::request:
      return "request";
  }
  return "destructor";
}

const char* kind_name(Reachedness state) {
  switch (state) {
    case Reachedness::reachable:
      return "reachable";
    case Reachedness::possible:
      return "possible";
    case Reachedness::indirect_leak:
      return "indirect";
    case Reachedness::unreached:
      return "definite";
  }
  return "definite";
}

const char* operation_name(FreeKind kind) {
  switch (kind) {
    case FreeKind::free:
      return "free";
    case FreeKind::delete_object:
      return "delete";
    case FreeKind::delete_array:
      return "delete[]";
    case FreeKind::realloc:
      return "realloc";
  }
  return "free";
}

const char* alloc_name(AllocKind kind) {
  switch (kind) {
    case AllocKind::malloc:
      return "malloc";
    case AllocKind::new_object:
      return "new";
    case AllocKind::new_array:
      return "new[]";
  }
  return "malloc";
}

std::size_t append(char* out, std::size_t at, std::size_t capacity, const char* text) {
  while (*text != '\0' && at + 1 < capacity) out[at++] = *text++;
  out[at] = '\0';
  return at;
}

std::size_t append_number(char* out, std::size_t at, std::size_t capacity, uint64_t value) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0 && at + 1 < capacity) out[at++] = digits[--n];
  out[at] = '\0';
  return at;
}

struct ErrorWriter {
  JsonOut* out;
  uint8_t* stack_used;
  uint32_t stack_count;
  bool first = true;
};

void mark_stack(uint8_t* used, uint32_t count, uint32_t id) {
  if (id != 0 && id <= count) used[id] = 1;
}

void write_error(const FreeError& error, void* context) {
  auto* writer = static_cast<ErrorWriter*>(context);
  JsonOut& out = *writer->out;
  out.raw(writer->first ? "\n    {" : ",\n    {");
  writer->first = false;
  out.key("kind");
  out.string(error.kind == FreeErrorKind::invalid_free ? "invalid_free" : "mismatched_free");
  out.raw(",");
  out.key("operation");
  out.string(operation_name(error.operation));
  out.raw(",");
  out.key("address");
  out.number(error.address);
  out.raw(",");
  out.key("stack");
  out.number(error.stack_id);
  out.raw(",");
  out.key("block");
  mark_stack(writer->stack_used, writer->stack_count, error.stack_id);
  if (!error.has_block) {
    out.raw("null}");
    return;
  }
  out.raw("{");
  out.key("address");
  out.number(error.block.address);
  out.raw(",");
  out.key("size");
  out.number(error.block.size);
  out.raw(",");
  out.key("state");
  out.string(error.block_was_freed ? "freed" : "live");
  out.raw(",");
  out.key("alloc_kind");
  out.string(alloc_name(error.block.kind));
  out.raw(",");
  out.key("alloc_stack");
  out.number(error.block.stack_id);
  out.raw(",");
  out.key("free_stack");
  out.number(error.block_was_freed ? error.freed_stack_id : 0);
  out.raw("}}");
  mark_stack(writer->stack_used, writer->stack_count, error.block.stack_id);
  if (error.block_was_freed)
    mark_stack(writer->stack_used, writer->stack_count, error.freed_stack_id);
}

void write_command(JsonOut& out) {
  ProcText text;
  out.raw("[");
  if (read_proc_file("/proc/self/cmdline", &text)) {
    bool first = true;
    for (std::size_t at = 0; at < text.size;) {
      const char* argument = text.data + at;
      std::size_t length = 0;
      while (at + length < text.size && argument[length] != '\0') ++length;
      if (!first) out.raw(",");
      first = false;
      out.string(argument, length);
      at += length + 1;
    }
  }
  release_proc_text(&text);
  out.raw("]");
}

void write_modules(JsonOut& out) {
  MapsSnapshot maps;
  out.raw("[");
  if (read_maps(&maps)) {
    bool first_module = true;
    for (std::size_t i = 0; i < maps.count; ++i) {
      const MapsEntry& entry = maps.entries[i];
      if (entry.inode == 0 || entry.path[0] != '/') continue;
      bool seen = false;  // one entry per path: its first mapping
      for (std::size_t j = 0; j < i && !seen; ++j)
        seen = same_string(maps.entries[j].path, entry.path);
      if (seen) continue;
      bool executable = false;
      uintptr_t base = entry.begin - 0;
      bool has_base = false;
      for (std::size_t j = i; j < maps.count; ++j) {
        if (!same_string(maps.entries[j].path, entry.path)) continue;
        executable = executable || maps.entries[j].executable;
        if (!has_base && maps.entries[j].offset == 0) {
          base = maps.entries[j].begin;
          has_base = true;
        }
      }
      if (!executable) continue;
      if (!has_base) base = entry.begin - entry.offset;
      out.raw(first_module ? "\n    {" : ",\n    {");
      first_module = false;
      out.key("path");
      out.string(entry.path);
      out.raw(",");
      out.key("base");
      out.number(base);
      out.raw(",");
      out.key("ranges");
      out.raw("[");
      bool first_range = true;
      for (std::size_t j = i; j < maps.count; ++j) {
        if (!maps.entries[j].executable || !same_string(maps.entries[j].path, entry.path)) continue;
        out.raw(first_range ? "[" : ",[");
        first_range = false;
        out.number(maps.entries[j].begin);
        out.raw(",");
        out.number(maps.entries[j].end);
        out.raw("]");
      }
      out.raw("]}");
    }
  }
  release_maps(&maps);
  out.raw("]");
}

bool write_body(int fd, const EndInfo& end, const LeakCheckResult& result) {
  constexpr std::size_t kBuffer = 64 * 1024;
  auto* buffer = static_cast<char*>(internal_map(kBuffer));
  if (buffer == nullptr) return false;
  const uint32_t stacks = stack_count();
  auto* stack_used = static_cast<uint8_t*>(internal_map(stacks + 1u));
  if (stack_used == nullptr) {
    internal_unmap(buffer, kBuffer);
    return false;
  }
  JsonOut out(fd, buffer, kBuffer);
  out.raw("{\n  \"format\":\"memkit-check-raw\",\n  \"version\":1,\n  ");
  out.key("pid");
  out.number(static_cast<uint64_t>(getpid()));
  out.raw(",\n  ");
  out.key("ppid");
  out.number(static_cast<uint64_t>(getppid()));
  out.raw(",\n  ");
  out.key("command");
  write_command(out);
  out.raw(",\n  ");
  out.key("exe");
  char exe[4096];
  const ssize_t exe_length = readlink("/proc/self/exe", exe, sizeof exe - 1);
  out.string(exe, exe_length > 0 ? static_cast<std::size_t>(exe_length) : 0);
  out.raw(",\n  ");
  out.key("end");
  out.raw("{");
  out.key("how");
  out.string(end_name(end.how));
  out.raw(",");
  out.key("status");
  out.signed_number(end.status);
  out.raw("},\n  ");
  out.key("leak_check");
  const LeakCheckMode mode = options().leak_check;
  out.string(mode == LeakCheckMode::no        ? "no"
             : mode == LeakCheckMode::summary ? "summary"
                                              : "full");
  out.raw(",\n  ");
  out.key("heap");
  out.raw("{");
  out.key("in_use_bytes");
  out.number(result.heap.in_use_bytes);
  out.raw(",");
  out.key("in_use_blocks");
  out.number(result.heap.in_use_blocks);
  out.raw(",");
  out.key("allocs");
  out.number(result.heap.allocs);
  out.raw(",");
  out.key("frees");
  out.number(result.heap.frees);
  out.raw(",");
  out.key("bytes_allocated");
  out.number(result.heap.bytes_allocated);
  out.raw("},\n  ");
  out.key("leaks");
  out.raw("{");
  out.key("searched");
  out.raw(result.searched ? "true" : "false");
  out.raw(",\n    ");
  out.key("records");
  out.raw("[");
  for (std::size_t i = 0; result.searched && i < result.records.count; ++i) {
    const LossRecord& record = result.records.records[i];
    out.raw(i == 0 ? "\n      {" : ",\n      {");
    out.key("kind");
    out.string(kind_name(record.state));
    out.raw(",");
    out.key("stack");
    out.number(record.stack_id);
    out.raw(",");
    out.key("bytes");
    out.number(record.bytes);
    out.raw(",");
    out.key("indirect_bytes");
    out.number(record.indirect_bytes);
    out.raw(",");
    out.key("blocks");
    out.number(record.blocks);
    out.raw("}");
    mark_stack(stack_used, stacks, record.stack_id);
  }
  out.raw("],\n    ");
  out.key("heuristics");
  out.raw("[");
  bool first = true;
  for (int h = 1; result.searched && h < kHeuristicCount; ++h) {
    if (result.records.heuristic_blocks[h] == 0) continue;
    out.raw(first ? "{" : ",{");
    first = false;
    out.key("name");
    out.string(heuristic_name(static_cast<Heuristic>(h)));
    out.raw(",");
    out.key("bytes");
    out.number(result.records.heuristic_bytes[h]);
    out.raw(",");
    out.key("blocks");
    out.number(result.records.heuristic_blocks[h]);
    out.raw("}");
  }
  out.raw("],\n    ");
  out.key("threads_not_stopped");
  out.number(result.threads_not_stopped);
  out.raw(",\n    ");
  out.key("checked_bytes");
  out.number(result.checked_bytes);
  out.raw("},\n  ");
  out.key("errors");
  out.raw("[");
  ErrorWriter errors{&out, stack_used, stacks};
  for_each_free_error(write_error, &errors);
  out.raw("],\n  ");
  out.key("errors_dropped");
  out.number(free_errors_dropped());
  out.raw(",\n  ");
  out.key("stacks");
  out.raw("[");
  first = true;
  for (uint32_t id = 1; id <= stacks; ++id) {
    if (stack_used[id] == 0) continue;
    const Stack frames = stack(id);
    out.raw(first ? "\n    {" : ",\n    {");
    first = false;
    out.key("id");
    out.number(id);
    out.raw(",");
    out.key("frames");
    out.raw("[");
    for (uint32_t f = 0; f < frames.depth; ++f) {
      if (f != 0) out.raw(",");
      out.number(frames.frames[f]);
    }
    out.raw("]}");
  }
  out.raw("],\n  ");
  out.key("modules");
  write_modules(out);
  out.raw("\n}\n");
  const bool ok = out.finish();
  internal_unmap(stack_used, stacks + 1u);
  internal_unmap(buffer, kBuffer);
  return ok;
}

}  // namespace

bool write_raw_report(const char* directory, const EndInfo& end, const LeakCheckResult& result,
                      char* path, std::size_t path_capacity) {
  char temporary[4200];
  for (uint32_t n = 0; n < 1000; ++n) {
    std::size_t at = append(path, 0, path_capacity, directory);
    at = append(path, at, path_capacity, "/memkit-check.");
    at = append_number(path, at, path_capacity, static_cast<uint64_t>(getpid()));
    at = append(path, at, path_capacity, ".");
    at = append_number(path, at, path_capacity, n);
    append(path, at, path_capacity, ".json");
    if (access(path, F_OK) == 0) continue;  // an earlier image of this pid (before an exec)
    std::size_t t = append(temporary, 0, sizeof temporary, path);
    append(temporary, t, sizeof temporary, ".tmp");
    const int fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) continue;
    const bool ok = write_body(fd, end, result);
    close(fd);
    if (ok && rename(temporary, path) == 0) return true;
    unlink(temporary);
    return false;
  }
  return false;
}

void notify_report(int fd, const char* path) {
  if (fd < 0) return;
  char line[4200];
  std::size_t at = append(line, 0, sizeof line - 1, path);
  line[at++] = '\n';
  ssize_t ignored = write(fd, line, at);
  (void)ignored;
}

}  // namespace memkit::check_rt
