/* maps_snapshot.c — the library `memkit maps -- PROGRAM` preloads into PROGRAM.
 *
 * When PROGRAM exits — exit() or a return from main, where this library's destructor runs after
 * PROGRAM's own static destructors, or _exit()/_Exit(), which this library interposes (shells
 * end that way) — it copies /proc/self/smaps into the file named by $MEMKIT_MAPS_OUTPUT, after
 * a short header:
 *
 *   memkit-maps-snapshot 1
 *   pid 4242
 *   exe /usr/bin/server
 *   thread 4242 0x7ffc9a3e0c18        one line per thread: its id and stack pointer
 *   thread 4243 0x7f31a17fed40
 *   smaps
 *   <the whole of /proc/self/smaps>
 *
 * Only the process whose id is $MEMKIT_MAPS_PID writes (the tool sets it in the child it
 * starts), so children that PROGRAM forks, which inherit the environment, never overwrite the
 * snapshot; a PROGRAM that execs keeps its id, and its last image writes.
 *
 * It is careful about what it calls: only system calls through libc wrappers that never
 * allocate (open, read, write, readlink, getdents64), getenv, and fixed static buffers. The heap
 * may be in any state when a program exits, and the snapshot must not change the map it takes.
 * It links no libstdc++ and no sanitizer runtime, so it can be preloaded into any program. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static char copy_buffer[1 << 16];

static size_t text_length(const char* text) {
  size_t n = 0;
  while (text[n] != '\0') ++n;
  return n;
}

static int write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0) return -1;
    data += n;
    size -= (size_t)n;
  }
  return 0;
}

static int write_text(int fd, const char* text) { return write_all(fd, text, text_length(text)); }

/* Decimal or hexadecimal (with "0x"), into `out` (at least 24 bytes); returns `out`. */
static const char* format_number(uint64_t value, int hex, char* out) {
  char digits[24];
  int n = 0;
  const unsigned base = hex ? 16 : 10;
  do {
    digits[n++] = "0123456789abcdef"[value % base];
    value /= base;
  } while (value != 0);
  int pos = 0;
  if (hex) {
    out[pos++] = '0';
    out[pos++] = 'x';
  }
  while (n > 0) out[pos++] = digits[--n];
  out[pos] = '\0';
  return out;
}

static int parse_decimal(const char* text, uint64_t* value) {
  uint64_t result = 0;
  if (*text == '\0') return -1;
  for (; *text != '\0'; ++text) {
    if (*text < '0' || *text > '9') return -1;
    result = result * 10 + (uint64_t)(*text - '0');
  }
  *value = result;
  return 0;
}

/* "NR a1 .. a6 SP PC" or "-1 SP PC": copies SP (the second-last field) into `out`. */
static int syscall_stack_pointer(const char* path, char* out, size_t out_size) {
  char text[256];
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  const ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return -1;
  size_t end = (size_t)n;
  while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == ' ')) --end;
  text[end] = '\0';
  size_t last = end;
  while (last > 0 && text[last - 1] != ' ') --last;
  if (last == 0) return -1; /* "running" */
  size_t sp_end = last - 1;
  size_t sp_start = sp_end;
  while (sp_start > 0 && text[sp_start - 1] != ' ') --sp_start;
  const size_t length = sp_end - sp_start;
  if (length < 3 || length + 1 > out_size || text[sp_start] != '0' || text[sp_start + 1] != 'x') {
    return -1;
  }
  for (size_t i = 0; i < length; ++i) out[i] = text[sp_start + i];
  out[length] = '\0';
  return 0;
}

static void write_threads(int out, pid_t self_thread, uint64_t self_stack_pointer) {
  char number[24];
  write_text(out, "thread ");
  write_text(out, format_number((uint64_t)self_thread, 0, number));
  write_text(out, " ");
  write_text(out, format_number(self_stack_pointer, 1, number));
  write_text(out, "\n");

  const int dir = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return;
  for (;;) {
    const long n = syscall(SYS_getdents64, dir, copy_buffer, sizeof copy_buffer);
    if (n <= 0) break;
    for (long pos = 0; pos < n;) {
      const struct dirent64* entry = (const struct dirent64*)(const void*)(copy_buffer + pos);
      pos += entry->d_reclen;
      uint64_t id = 0;
      if (parse_decimal(entry->d_name, &id) != 0 || (pid_t)id == self_thread) continue;
      char path[64] = "/proc/self/task/";
      size_t length = text_length(path);
      const char* digits = format_number(id, 0, number);
      for (size_t i = 0; digits[i] != '\0'; ++i) path[length++] = digits[i];
      const char* tail = "/syscall";
      for (size_t i = 0; tail[i] != '\0'; ++i) path[length++] = tail[i];
      path[length] = '\0';
      char stack_pointer[24];
      if (syscall_stack_pointer(path, stack_pointer, sizeof stack_pointer) != 0) continue;
      write_text(out, "thread ");
      write_text(out, format_number(id, 0, number));
      write_text(out, " ");
      write_text(out, stack_pointer);
      write_text(out, "\n");
    }
  }
  close(dir);
}

static int snapshot_taken = 0;

static void memkit_write_maps_snapshot(void) {
  if (snapshot_taken) return;
  snapshot_taken = 1;
  const char* output = getenv("MEMKIT_MAPS_OUTPUT");
  const char* wanted_pid = getenv("MEMKIT_MAPS_PID");
  uint64_t pid = 0;
  if (output == NULL || *output == '\0' || wanted_pid == NULL ||
      parse_decimal(wanted_pid, &pid) != 0 || (pid_t)pid != getpid()) {
    return;
  }
  volatile char here = 0;
  const uint64_t stack_pointer = (uint64_t)(uintptr_t)&here;

  const int out = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) return;
  char number[24];
  write_text(out, "memkit-maps-snapshot 1\npid ");
  write_text(out, format_number(pid, 0, number));
  write_text(out, "\nexe ");
  const ssize_t exe_length = readlink("/proc/self/exe", copy_buffer, sizeof copy_buffer - 1);
  if (exe_length > 0) write_all(out, copy_buffer, (size_t)exe_length);
  write_text(out, "\n");
  write_threads(out, (pid_t)syscall(SYS_gettid), stack_pointer);
  write_text(out, "smaps\n");

  const int smaps = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
  if (smaps >= 0) {
    ssize_t n = 0;
    while ((n = read(smaps, copy_buffer, sizeof copy_buffer)) > 0) {
      if (write_all(out, copy_buffer, (size_t)n) != 0) break;
    }
    close(smaps);
  }
  close(out);
}

__attribute__((destructor)) static void memkit_snapshot_at_exit(void) {
  memkit_write_maps_snapshot();
}

/* _exit and _Exit end the process without running destructors: take the snapshot, then end it
 * the way glibc's _exit does. */
__attribute__((visibility("default"), noreturn)) void _exit(int status) {
  memkit_write_maps_snapshot();
  for (;;) syscall(SYS_exit_group, status);
}

__attribute__((visibility("default"), noreturn)) void _Exit(int status) {
  memkit_write_maps_snapshot();
  for (;;) syscall(SYS_exit_group, status);
}
