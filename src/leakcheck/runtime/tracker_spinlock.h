// tracker_spinlock.h — the lock behind every tracker table. A spinlock rather than a mutex:
// critical sections are a few dozen instructions, it needs no initialisation (usable before any
// constructor), and it never calls into glibc, so it is safe inside fork's prepare handler.
#pragma once

#include <sched.h>
#include <sys/single_threaded.h>

#include <atomic>
#include <cstdint>

namespace memkit::check_rt {

//
// While the process has one thread (glibc's __libc_single_threaded) the flag is set with a plain
// store instead of an atomic exchange, as glibc's malloc skips its atomics then: no other thread
// exists to race, and only the locking thread could create one. The flag is still set, so a signal
// handler's try_lock on the same thread sees it held.
class SpinLock {
 public:
  void lock() {
    if (__libc_single_threaded) {
      locked_.store(true, std::memory_order_relaxed);
      std::atomic_signal_fence(std::memory_order_seq_cst);
      return;
    }
    while (locked_.exchange(true, std::memory_order_acquire)) {
      wait_until_free();
    }
  }
  bool try_lock() {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() {
    std::atomic_signal_fence(std::memory_order_seq_cst);
    locked_.store(false, std::memory_order_release);
  }

 private:
  // Spins on a plain load (no cache-line ping-pong), then yields: with more runnable threads than
  // cores the holder may be descheduled.
  void wait_until_free() {
    for (uint32_t spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
      if (spins < 128) {
        __builtin_ia32_pause();
      } else {
        sched_yield();
      }
    }
  }

  std::atomic<bool> locked_{false};
};

class SpinLockHolder {
 public:
  explicit SpinLockHolder(SpinLock& lock) : lock_(lock) { lock_.lock(); }
  ~SpinLockHolder() { lock_.unlock(); }
  SpinLockHolder(const SpinLockHolder&) = delete;
  SpinLockHolder& operator=(const SpinLockHolder&) = delete;

 private:
  SpinLock& lock_;
};

}  // namespace memkit::check_rt
