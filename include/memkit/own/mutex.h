// memkit/own/mutex.h — Mutex<T>: a lock that owns the data it protects.
//
// With a bare std::mutex next to a field, nothing stops code from touching the field without the
// lock. Mutex<T> holds the T itself and hands it out only through the guard that lock() returns,
// so "touched without the lock" cannot be written (Rust's Mutex, folly::Synchronized):
//
//   Mutex<std::vector<Job>> queue;
//   {
//     MutexGuard<std::vector<Job>> jobs = queue.lock();   // locks
//     jobs->push_back(job);
//   }                                                     // unlocks
//   queue.with_lock([&](auto& jobs) { jobs.clear(); });
//   if (auto jobs = queue.try_lock()) (*jobs)->size();    // std::nullopt when contended
//
// Shared across threads through Arc<Mutex<T>>: lock() works on a const Mutex, because the lock,
// not constness, is what makes the access exclusive. A guard must not outlive its Mutex and must
// be released on the thread that took it (std::mutex's rule). In debug builds (MEMKIT_DEBUG),
// locking a Mutex that the same thread already holds throws memkit::Deadlock instead of hanging.
#ifndef MEMKIT_OWN_MUTEX_H_
#define MEMKIT_OWN_MUTEX_H_

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include "memkit/base/config.h"
#include "memkit/base/error.h"
#include "memkit/base/type_name.h"

namespace memkit {

template <class T>
class Mutex;

// MutexGuard<T> — proof that the Mutex is locked, and the only way to its data.
template <class T>
class MutexGuard {
 public:
  MutexGuard(MutexGuard&& other) noexcept
      : owner_(std::exchange(other.owner_, nullptr)), value_(other.value_) {}
  MutexGuard& operator=(MutexGuard&& other) noexcept {
    if (this != &other) {
      unlock();
      owner_ = std::exchange(other.owner_, nullptr);
      value_ = other.value_;
    }
    return *this;
  }
  MutexGuard(const MutexGuard&) = delete;
  MutexGuard& operator=(const MutexGuard&) = delete;
  ~MutexGuard() { unlock(); }

  T& operator*() const { return *checked("operator*"); }
  T* operator->() const { return checked("operator->"); }

 private:
  friend class Mutex<T>;
  MutexGuard(const Mutex<T>* owner, T* value) noexcept : owner_(owner), value_(value) {}

  T* checked(std::string_view operation) const {
    if (MEMKIT_UNLIKELY(owner_ == nullptr)) {
      detail::throw_use_after_move(type_name<MutexGuard>(), operation);
    }
    return value_;
  }

  void unlock() noexcept {
    if (owner_ != nullptr) std::exchange(owner_, nullptr)->unlock();
  }

  const Mutex<T>* owner_;  // null once moved from
  T* value_;
};

template <class T>
class Mutex {
 public:
  Mutex() requires std::is_default_constructible_v<T>
  = default;
  explicit Mutex(T value) : value_(std::move(value)) {}
  template <class... Args>
  explicit Mutex(std::in_place_t, Args&&... args) : value_(std::forward<Args>(args)...) {}
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // lock() — blocks until this thread holds the lock.
  [[nodiscard]] MutexGuard<T> lock() const {
    check_not_held_by_me("lock()");
    mutex_.lock();
    note_holder();
    return MutexGuard<T>(this, &value_);
  }

  // try_lock() — the guard if the lock is free now, otherwise std::nullopt.
  [[nodiscard]] std::optional<MutexGuard<T>> try_lock() const {
    check_not_held_by_me("try_lock()");
    if (!mutex_.try_lock()) return std::nullopt;
    note_holder();
    return MutexGuard<T>(this, &value_);
  }

  // with_lock(f) — f(data) under the lock; returns what f returns.
  template <class F>
  decltype(auto) with_lock(F&& f) const {
    MutexGuard<T> guard = lock();
    return std::invoke(std::forward<F>(f), *guard);
  }

  // into_inner() — the data, out of a Mutex nobody else can reach any more.
  T into_inner() && { return std::move(*lock()); }

  static constexpr std::string_view name() { return type_name<Mutex>(); }

 private:
  friend class MutexGuard<T>;

#if MEMKIT_DEBUG
  void check_not_held_by_me(std::string_view operation) const {
    if (MEMKIT_UNLIKELY(holder_.load(std::memory_order_relaxed) == std::this_thread::get_id())) {
      detail::throw_deadlock(name(), operation);
    }
  }
  void note_holder() const noexcept {
    holder_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  }
  void unlock() const noexcept {
    holder_.store(std::thread::id(), std::memory_order_relaxed);
    mutex_.unlock();
  }
  mutable std::atomic<std::thread::id> holder_{};
#else
  void check_not_held_by_me(std::string_view) const noexcept {}
  void note_holder() const noexcept {}
  void unlock() const noexcept { mutex_.unlock(); }
#endif

  mutable std::mutex mutex_;
  mutable T value_{};
};

}  // namespace memkit

#endif  // MEMKIT_OWN_MUTEX_H_
