// Reading a process's map from /proc: one read(2) loop over smaps, the parser, the classifier.
#include "memkit/inspect/process_map.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "memkit/base/error.h"
#include "region_classifier.h"
#include "smaps_parser.h"

namespace memkit::inspect {

class ProcessMapBuilder {
 public:
  static ProcessMap build(detail::ParsedRegions parsed, pid_t pid,
                          const std::vector<ThreadStackPointer>& threads,
                          std::string_view executable) {
    ProcessMap map;
    map.pid_ = pid;
    map.executable_ = std::string(executable);
    map.has_smaps_ = parsed.has_smaps;
    map.regions_ = std::move(parsed.regions);
    map.modules_ = detail::classify_regions(map.regions_, threads, executable);
    for (const Region& region : map.regions_) map.totals_.add(region.smaps);
    return map;
  }
};

namespace {

// What read_proc_file asks for first (it doubles when the file is bigger). /proc files report
// no size, and one read(2) of a seq_file returns about a page anyway.
constexpr std::size_t kReadChunk = std::size_t{64} << 10;
// The map reader's buffer: a few pages, reused for the whole file.
constexpr std::size_t kMapReadBuffer = std::size_t{64} << 10;

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) noexcept : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

std::string proc_path(const std::string& root, pid_t pid, std::string_view file) {
  std::string path = root;
  path += '/';
  path += std::to_string(pid);
  path += '/';
  path += file;
  return path;
}

std::string read_link(const std::string& path) {
  char buffer[PATH_MAX];
  const ssize_t n = ::readlink(path.c_str(), buffer, sizeof buffer);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buffer) return {};
  std::string target(buffer, static_cast<std::size_t>(n));
  constexpr std::string_view kDeleted = " (deleted)";
  if (target.size() > kDeleted.size() &&
      std::string_view(target).substr(target.size() - kDeleted.size()) == kDeleted) {
    target.resize(target.size() - kDeleted.size());
  }
  return target;
}

// "NR a1 a2 a3 a4 a5 a6 SP PC", "-1 SP PC" or "running": the stack pointer is the second-last
// field of the first two forms.
bool parse_syscall_stack_pointer(std::string_view text, std::uint64_t* stack_pointer) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  const std::size_t last_space = text.rfind(' ');
  if (last_space == std::string_view::npos || last_space == 0) return false;
  const std::size_t before = text.rfind(' ', last_space - 1);
  const std::string_view field =
      text.substr(before == std::string_view::npos ? 0 : before + 1,
                  last_space - (before == std::string_view::npos ? 0 : before + 1));
  if (field.substr(0, 2) != "0x") return false;
  std::uint64_t value = 0;
  for (char c : field.substr(2)) {
    unsigned digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<unsigned>(c - 'a' + 10);
    } else {
      return false;
    }
    value = value << 4 | digit;
  }
  *stack_pointer = value;
  return true;
}

FileDescriptor open_for_reading(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ProcReadError(path, errno);
  return FileDescriptor(fd);
}

// Opens /proc/PID/smaps, or maps on a kernel built without CONFIG_PROC_PAGE_MONITOR (it has
// maps but no smaps). `source` is set to the path opened.
FileDescriptor open_map(const std::string& root, pid_t pid, std::string* source) {
  *source = proc_path(root, pid, "smaps");
  try {
    return open_for_reading(*source);
  } catch (const ProcReadError& error) {
    if (error.error_number() != ENOENT) throw;
    const std::string maps = proc_path(root, pid, "maps");
    if (::access(maps.c_str(), F_OK) != 0) throw;
    *source = maps;
    return open_for_reading(maps);
  }
}

struct MapText {
  detail::ParsedRegions parsed;
  std::size_t bytes = 0;  // 0: the file was empty
};

// Parses the map as the kernel produces it, a page at a time (whatever the buffer size, one
// read(2) of a seq_file returns at most the page or so the kernel formatted), so the text is
// parsed while it is still in cache and never held whole: for 10,000 mappings that is 7 MB of
// memory not to allocate and fault in.
MapText read_map(const std::string& root, pid_t pid, std::string* source) {
  const FileDescriptor fd = open_map(root, pid, source);
  detail::RegionParser parser(*source);
  std::string buffer(kMapReadBuffer, '\0');
  std::size_t carried = 0;  // the start of a line whose end has not arrived yet
  std::size_t total = 0;
  for (;;) {
    // A line longer than the buffer (a path near PATH_MAX) makes the buffer grow.
    if (carried == buffer.size()) buffer.resize(buffer.size() * 2);
    const ssize_t n = ::read(fd.get(), buffer.data() + carried, buffer.size() - carried);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ProcReadError(*source, errno);
    }
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
    const std::string_view text(buffer.data(), carried + static_cast<std::size_t>(n));
    std::size_t line_start = 0;
    for (std::size_t newline = text.find('\n', carried); newline != std::string_view::npos;
         newline = text.find('\n', line_start)) {
      parser.add_line(text.substr(line_start, newline - line_start));
      line_start = newline + 1;
    }
    carried = text.size() - line_start;
    std::memmove(buffer.data(), buffer.data() + line_start, carried);
  }
  if (carried > 0) parser.add_line(std::string_view(buffer.data(), carried));
  return {std::move(parser).finish(), total};
}

}  // namespace

std::string read_proc_file(const std::string& path) {
  const FileDescriptor fd = open_for_reading(path);
  std::string text;
  std::size_t used = 0;
  for (;;) {
    if (text.size() - used < kReadChunk) text.resize(std::max(text.size() * 2, used + kReadChunk));
    const ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ProcReadError(path, errno);
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  text.resize(used);
  return text;
}

std::vector<ThreadStackPointer> read_thread_stack_pointers(pid_t pid,
                                                           const std::string& proc_root) {
  std::vector<ThreadStackPointer> threads;
  const std::string task_dir = proc_path(proc_root, pid, "task");
  DIR* dir = ::opendir(task_dir.c_str());
  if (dir == nullptr) return threads;
  std::vector<int> ids;
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long id = std::strtol(entry->d_name, &end, 10);
    if (end != entry->d_name && *end == '\0' && id > 0) ids.push_back(static_cast<int>(id));
  }
  ::closedir(dir);
  std::sort(ids.begin(), ids.end());
  for (int id : ids) {
    std::string text;
    try {
      text = read_proc_file(task_dir + "/" + std::to_string(id) + "/syscall");
    } catch (const ProcReadError&) {
      continue;  // the thread ended, or ptrace access is denied: the guard shape still works
    }
    std::uint64_t stack_pointer = 0;
    if (parse_syscall_stack_pointer(text, &stack_pointer)) threads.push_back({id, stack_pointer});
  }
  return threads;
}

ProcessMap ProcessMap::read(pid_t pid, const ReadOptions& options) {
  std::string source;
  MapText map = read_map(options.proc_root, pid, &source);
  if (map.bytes == 0) {
    // A zombie (exited, not yet reaped) or a kernel thread: the files exist and are empty.
    throw ProcReadError(source, ESRCH);
  }
  std::vector<ThreadStackPointer> threads;
  if (options.find_thread_stacks) threads = read_thread_stack_pointers(pid, options.proc_root);
  const std::string executable = read_link(proc_path(options.proc_root, pid, "exe"));
  return ProcessMapBuilder::build(std::move(map.parsed), pid, threads, executable);
}

ProcessMap ProcessMap::read_self() {
  const pid_t pid = ::getpid();
  std::string source;
  MapText map = read_map("/proc", pid, &source);
  std::vector<ThreadStackPointer> threads = read_thread_stack_pointers(pid, "/proc");
  // This thread is "running" in its own syscall file: its stack pointer is here.
  int here = 0;
  threads.push_back(
      {static_cast<int>(::syscall(SYS_gettid)), reinterpret_cast<std::uint64_t>(&here)});
  return ProcessMapBuilder::build(std::move(map.parsed), pid, threads, read_link("/proc/self/exe"));
}

ProcessMap ProcessMap::parse(std::string_view text, std::string_view source,
                             const std::vector<ThreadStackPointer>& threads,
                             std::string_view executable) {
  return ProcessMapBuilder::build(detail::parse_regions(text, source), 0, threads, executable);
}

std::uint64_t ProcessMap::size_kib() const noexcept {
  std::uint64_t total = 0;
  for (const Region& region : regions_) total += region.size_kib();
  return total;
}

const Region* ProcessMap::find(std::uint64_t address) const noexcept {
  auto it = std::upper_bound(regions_.begin(), regions_.end(), address,
                             [](std::uint64_t a, const Region& r) { return a < r.start; });
  if (it == regions_.begin()) return nullptr;
  --it;
  return it->contains(address) ? &*it : nullptr;
}

std::uint64_t Module::size_kib() const noexcept {
  std::uint64_t total = 0;
  for (std::uint64_t kib : kib_by_kind) total += kib;
  return total;
}

}  // namespace memkit::inspect
