// memkit/gc/roots.h — Local<T>, Root<T> and WeakRoot<T>: references from outside the heap.
//
// The collector is precise: it only knows about references it is told about. GC objects tell it
// with Members; everything else — local variables, globals, fields of ordinary C++ objects — holds
// one of these handles:
//
//   Local<T>     what make() returns: a slot on the heap's handle stack, for local variables.
//                Creating and dropping one is a push and a pop (24 bytes of handle; locals need
//                not be destroyed in stack order — a handle dropped out of order leaves a hole
//                that the next push reuses).
//   Root<T>      a reference stored anywhere outside the heap: copyable, movable, 24 bytes; a slot
//                in the heap's root table (reused through a free list).
//   WeakRoot<T>  like Root, but does not keep the target alive: get() is null once it died.
//
//   gc::Local<Node> node = gc::make<Node>(heap, 1);   // alive while `node` is in scope
//   node->next = gc::make<Node>(heap, 2);             // the temporary Local dies here, the
//                                                     // Member keeps node 2 alive from now on
//   cache.keep = node;                                // a Root<Node> member of a non-GC object
//
// All three convert to T* implicitly. A raw T* kept across a later allocation is not a root
// unless the heap's conservative stack scan is on (see heap.h). A handle stored inside a GC object
// is a root too, and keeps its holder alive forever: GC objects hold Members.
//
// Handles belong to the heap's thread, and the heap must outlive them (a heap destroyed under
// live handles aborts, naming how many).
#ifndef MEMKIT_GC_ROOTS_H_
#define MEMKIT_GC_ROOTS_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "memkit/base/config.h"
#include "memkit/base/error.h"
#include "memkit/base/type_name.h"
#include "memkit/gc/garbage_collected.h"
#include "memkit/gc/member.h"
#include "memkit/gc/page.h"

namespace memkit::gc {

template <class T, class... Args>
Local<T> make(Heap& heap, Args&&... args);

namespace detail {

// The heap's Locals: object addresses in slots; bit 0 set marks an object under construction.
// Locals usually die in the order they were made, but not always (a Local returned from a
// function outlives the Locals made inside it), so a released slot that is not the last one
// goes on a list of holes that the next push reuses: the table stays as large as the most Locals
// alive at once.
class HandleStack {
 public:
  HandleStack() = default;
  HandleStack(const HandleStack&) = delete;
  HandleStack& operator=(const HandleStack&) = delete;

  // The fast path is one compare: no hole to reuse and room at the top (make() pushes one handle
  // per object, so this sits on every allocation).
  std::uint32_t push(std::uintptr_t entry) {
    ++live_;
    if (MEMKIT_LIKELY(hole_count_ == 0 && size_ != capacity_)) {
      slots_[size_] = entry;
      return size_++;
    }
    return push_slow(entry);
  }
  void set(std::uint32_t index, std::uintptr_t entry) noexcept { slots_[index] = entry; }
  void release(std::uint32_t index) noexcept {
    --live_;
    if (MEMKIT_LIKELY(index + 1 == size_)) {
      --size_;
      return;
    }
    // A hole is always below size_ (the top only shrinks by the slot released), so there are
    // never more holes than slots: holes_ has the slots' capacity and never overflows.
    slots_[index] = 0;
    holes_[hole_count_++] = index;
  }
  std::span<const std::uintptr_t> slots() const noexcept { return {slots_.get(), size_}; }
  std::size_t live() const noexcept { return live_; }

 private:
  [[gnu::noinline]] std::uint32_t push_slow(std::uintptr_t entry) {
    if (hole_count_ != 0) {
      const std::uint32_t index = holes_[--hole_count_];
      slots_[index] = entry;
      return index;
    }
    const std::uint32_t capacity = capacity_ == 0 ? 64 : capacity_ * 2;
    auto slots = std::make_unique<std::uintptr_t[]>(capacity);
    auto holes = std::make_unique<std::uint32_t[]>(capacity);
    std::copy(slots_.get(), slots_.get() + size_, slots.get());
    slots_ = std::move(slots);
    holes_ = std::move(holes);  // empty: hole_count_ is 0 here
    capacity_ = capacity;
    slots_[size_] = entry;
    return size_++;
  }

  std::unique_ptr<std::uintptr_t[]> slots_;
  std::unique_ptr<std::uint32_t[]> holes_;
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = 0;
  std::uint32_t hole_count_ = 0;
  std::size_t live_ = 0;
};

// The heap's Roots (or WeakRoots): slots reused through a free list of indices.
class RootTable {
 public:
  std::uint32_t add(GcObject* object) {
    std::uint32_t index;
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
      slots_[index] = object;
    } else {
      free_.reserve(slots_.size() + 1);  // so remove() never allocates
      slots_.push_back(object);
      index = static_cast<std::uint32_t>(slots_.size() - 1);
    }
    ++live_;
    return index;
  }
  void remove(std::uint32_t index) noexcept {
    slots_[index] = nullptr;
    free_.push_back(index);
    --live_;
  }
  GcObject* get(std::uint32_t index) const noexcept { return slots_[index]; }
  std::vector<GcObject*>& slots() noexcept { return slots_; }
  std::size_t live() const noexcept { return live_; }

 private:
  std::vector<GcObject*> slots_;
  std::vector<std::uint32_t> free_;
  std::size_t live_ = 0;
};

struct Handles {
  HandleStack locals;
  RootTable roots;
  RootTable weak_roots;
  std::thread::id owner;

  std::size_t live() const noexcept { return locals.live() + roots.live() + weak_roots.live(); }
  // Debug builds: handles are made and copied on the heap's thread only.
  void check_thread(std::string_view type, std::string_view operation) const {
#if MEMKIT_DEBUG
    if (MEMKIT_UNLIKELY(std::this_thread::get_id() != owner)) {
      ::memkit::detail::throw_wrong_thread(type, operation, owner);
    }
#else
    (void)type;
    (void)operation;
#endif
  }
};

template <class T>
Handles* handles_of(T* pointer) noexcept {
  return page_of(to_object(pointer))->handles;
}

inline constexpr std::string_view kLocalPrefix = "memkit::gc::Local<";
inline constexpr std::string_view kRootPrefix = "memkit::gc::Root<";
inline constexpr std::string_view kWeakRootPrefix = "memkit::gc::WeakRoot<";

template <const std::string_view& Prefix, class T>
constexpr std::string_view handle_name() {
  return ::memkit::detail::JoinedName<Prefix, ::memkit::detail::TypeName<T>::value,
                                      ::memkit::detail::kCloseAngle>::value;
}

}  // namespace detail

// Local<T> — a scoped handle: keeps its object alive while it exists. Returned by make().
template <class T>
class Local {
 public:
  Local() noexcept = default;
  Local(std::nullptr_t) noexcept {}  // NOLINT: implicit, like a pointer
  // A new handle for an object already kept alive by something else (a Member, say).
  explicit Local(T* pointer) : ptr_(pointer) {
    if (ptr_ == nullptr) return;
    detail::Handles* handles = detail::handles_of(ptr_);
    handles->check_thread(name(), "Local()");
    stack_ = &handles->locals;
    index_ = stack_->push(reinterpret_cast<std::uintptr_t>(detail::to_object(ptr_)));
  }
  Local(const Local& other) : Local(other.ptr_) {}
  Local(Local&& other) noexcept
      : ptr_(std::exchange(other.ptr_, nullptr)),
        stack_(std::exchange(other.stack_, nullptr)),
        index_(other.index_) {}
  template <class U>
  requires(!std::is_same_v<U, T> && std::is_convertible_v<U*, T*>) Local(Local<U>&& other)
  noexcept  // NOLINT: implicit, like a pointer conversion
      : ptr_(std::exchange(other.ptr_, nullptr)),
        stack_(std::exchange(other.stack_, nullptr)),
        index_(other.index_) {}
  Local& operator=(Local other) noexcept {
    swap(other);
    return *this;
  }
  ~Local() {
    if (stack_ != nullptr) stack_->release(index_);
  }

  void swap(Local& other) noexcept {
    std::swap(ptr_, other.ptr_);
    std::swap(stack_, other.stack_);
    std::swap(index_, other.index_);
  }

  T* get() const noexcept { return ptr_; }
  operator T*() const noexcept { return ptr_; }  // NOLINT: implicit, like cppgc's handles
  T* operator->() const { return checked("operator->"); }
  T& operator*() const { return *checked("operator*"); }

  static constexpr std::string_view name() {
    return detail::handle_name<detail::kLocalPrefix, T>();
  }

 private:
  template <class U>
  friend class Local;
  template <class U, class... Args>
  friend Local<U> make(Heap& heap, Args&&... args);

  // Adopts the handle-stack slot make() filled.
  Local(T* pointer, detail::HandleStack* stack, std::uint32_t index) noexcept
      : ptr_(pointer), stack_(stack), index_(index) {}

  T* checked(std::string_view operation) const {
    if (MEMKIT_UNLIKELY(ptr_ == nullptr)) ::memkit::detail::throw_null_pointer(name(), operation);
    return ptr_;
  }

  T* ptr_ = nullptr;
  detail::HandleStack* stack_ = nullptr;
  std::uint32_t index_ = 0;
};

// Root<T> — a strong reference from outside the heap: copyable, movable, keeps the target alive.
template <class T>
class Root {
 public:
  Root() noexcept = default;
  Root(std::nullptr_t) noexcept {}    // NOLINT: implicit, like a pointer
  Root(T* pointer) : ptr_(pointer) {  // NOLINT: implicit, so Root<T> r = make<T>(heap) works
    if (ptr_ == nullptr) return;
    detail::Handles* handles = detail::handles_of(ptr_);
    handles->check_thread(name(), "Root()");
    table_ = &handles->roots;
    index_ = table_->add(detail::to_object(ptr_));
  }
  template <class U>
  requires std::is_convertible_v<U*, T*> Root(const Local<U>& local)  // NOLINT
      : Root(static_cast<T*>(local.get())) {}
  template <class U, detail::Strength kStrength>
  requires std::is_convertible_v<U*, T*> Root(const detail::BasicMember<U, kStrength>& member)
      : Root(static_cast<T*>(member.get())) {}  // NOLINT
  Root(const Root& other) : Root(other.ptr_) {}
  Root(Root&& other) noexcept
      : ptr_(std::exchange(other.ptr_, nullptr)),
        table_(std::exchange(other.table_, nullptr)),
        index_(other.index_) {}
  Root& operator=(Root other) noexcept {
    swap(other);
    return *this;
  }
  ~Root() {
    if (table_ != nullptr) table_->remove(index_);
  }

  void swap(Root& other) noexcept {
    std::swap(ptr_, other.ptr_);
    std::swap(table_, other.table_);
    std::swap(index_, other.index_);
  }
  // Lets the object go (the Root becomes null).
  void reset() noexcept { Root().swap(*this); }

  T* get() const noexcept { return ptr_; }
  operator T*() const noexcept { return ptr_; }  // NOLINT: implicit, like cppgc's Persistent
  T* operator->() const { return checked("operator->"); }
  T& operator*() const { return *checked("operator*"); }

  static constexpr std::string_view name() { return detail::handle_name<detail::kRootPrefix, T>(); }

 private:
  T* checked(std::string_view operation) const {
    if (MEMKIT_UNLIKELY(ptr_ == nullptr)) ::memkit::detail::throw_null_pointer(name(), operation);
    return ptr_;
  }

  T* ptr_ = nullptr;
  detail::RootTable* table_ = nullptr;
  std::uint32_t index_ = 0;
};

// WeakRoot<T> — a weak reference from outside the heap: get() is null once the target died.
template <class T>
class WeakRoot {
 public:
  WeakRoot() noexcept = default;
  WeakRoot(std::nullptr_t) noexcept {}  // NOLINT: implicit, like a pointer
  WeakRoot(T* pointer) {                // NOLINT: implicit
    if (pointer == nullptr) return;
    detail::Handles* handles = detail::handles_of(pointer);
    handles->check_thread(name(), "WeakRoot()");
    table_ = &handles->weak_roots;
    index_ = table_->add(detail::to_object(pointer));
  }
  template <class U>
  requires std::is_convertible_v<U*, T*> WeakRoot(const Local<U>& local)  // NOLINT
      : WeakRoot(static_cast<T*>(local.get())) {}
  template <class U>
  requires std::is_convertible_v<U*, T*> WeakRoot(const Root<U>& root)  // NOLINT
      : WeakRoot(static_cast<T*>(root.get())) {}
  template <class U, detail::Strength kStrength>
  requires std::is_convertible_v<U*, T*> WeakRoot(const detail::BasicMember<U, kStrength>& member)
      : WeakRoot(static_cast<T*>(member.get())) {}  // NOLINT
  WeakRoot(const WeakRoot& other) : WeakRoot(other.get()) {}
  WeakRoot(WeakRoot&& other) noexcept
      : table_(std::exchange(other.table_, nullptr)), index_(other.index_) {}
  WeakRoot& operator=(WeakRoot other) noexcept {
    swap(other);
    return *this;
  }
  ~WeakRoot() {
    if (table_ != nullptr) table_->remove(index_);
  }

  void swap(WeakRoot& other) noexcept {
    std::swap(table_, other.table_);
    std::swap(index_, other.index_);
  }
  void reset() noexcept { WeakRoot().swap(*this); }

  // The target, or null if there was none or it has been collected.
  T* get() const noexcept {
    if (table_ == nullptr) return nullptr;
    detail::GcObject* object = table_->get(index_);
    return object == nullptr ? nullptr : static_cast<T*>(object);
  }
  operator T*() const noexcept { return get(); }  // NOLINT: implicit

  static constexpr std::string_view name() {
    return detail::handle_name<detail::kWeakRootPrefix, T>();
  }

 private:
  detail::RootTable* table_ = nullptr;
  std::uint32_t index_ = 0;
};

}  // namespace memkit::gc

#endif  // MEMKIT_GC_ROOTS_H_
