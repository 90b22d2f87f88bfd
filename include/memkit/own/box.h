// memkit/own/box.h — Box<T>: the sole owner of one heap value.
//
// A Box owns exactly one T on the heap and destroys it when the Box goes away. It is what
// std::unique_ptr is, with two promises unique_ptr does not make:
//
//   * A Box is never null while it is valid. There is no default constructor and no reset():
//     a Box comes from Box<T>::make(args...) (or from_raw) and always holds a value.
//   * Moving out of a Box leaves it *empty*, and any use of an empty Box throws
//     memkit::UseAfterMove naming the type ("operator* on an empty memkit::Box<Node>") instead of
//     dereferencing null. The check is one compare and a never-taken branch; get_unchecked()
//     skips it in release builds for loops the compiler should vectorize.
//
// One example grows through this comment. A Box is how a recursive type gets a finite size:
//
//   struct List;                                  // cons list: Cons(1, Cons(2, Nil))
//   struct Cons { int head; Box<List> tail; };
//   struct List { std::variant<Cons, Nil> node; };
//   auto list = Box<List>::make(Cons{1, Box<List>::make(Cons{2, Box<List>::make(Nil{})})});
//
// Ownership moves, it is never copied (copying a Box does not compile; clone() copies the value):
//
//   Box<List> other = std::move(list);  // `list` is now empty
//   list->node;                         // throws UseAfterMove, never reads null
//
// Giving ownership up:
//
//   List& forever = Box<List>::make(...).leak();   // never destroyed (Rust's Box::leak)
//   List* raw = std::move(other).into_raw();       // for C APIs and opaque handles ...
//   Box<List> back = Box<List>::from_raw(raw);     // ... and back; from_raw(nullptr) throws
//
// Box<T> works for incomplete T (the pimpl idiom): declare `Box<Impl> impl_;` in the header and
// define the owner's destructor where Impl is complete, as with unique_ptr. Box<T[]> owns an
// array: Box<int[]>::make(n) value-initializes n elements; operator[] is bounds-checked and
// throws memkit::OutOfBounds.
//
// A Box<Derived> converts to Box<Base> when Base has a virtual destructor (checked at compile
// time), which is how a Box holds "some implementation of an interface".
#ifndef MEMKIT_OWN_BOX_H_
#define MEMKIT_OWN_BOX_H_

#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>

#include "memkit/base/config.h"
#include "memkit/base/error.h"
#include "memkit/base/type_name.h"
#include "memkit/own/detail/construct.h"
#include "memkit/own/drop.h"

namespace memkit {

template <class T>
class OptionBox;

template <class T>
class Box {
  static_assert(!std::is_reference_v<T>, "Box<T&> is meaningless: a Box owns its value");

 public:
  using element_type = T;

  // Box<T>::make(args...) — constructs T(args...) on the heap.
  template <class... Args>
  [[nodiscard]] static Box make(Args&&... args) {
    return Box(detail::new_object<T>(std::forward<Args>(args)...));
  }

  // Box<T>::from_raw(p) — takes ownership of p, which must come from into_raw() (or `new T`).
  // Throws NullPointer for a null p.
  [[nodiscard]] static Box from_raw(T* p) {
    if (p == nullptr) detail::throw_null_pointer(name(), "from_raw()");
    return Box(p);
  }

  Box(const Box&) = delete;
  Box& operator=(const Box&) = delete;

  Box(Box&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  // Takes the new value before destroying the old one: `other` may be owned by the old value
  // (`node = std::move(node->next)` walking down a list).
  Box& operator=(Box&& other) noexcept {
    T* old = std::exchange(ptr_, std::exchange(other.ptr_, nullptr));
    destroy(old);
    return *this;
  }

  // Box<Base> from Box<Derived>.
  template <class U>
  requires(!std::is_same_v<U, T> && std::is_convertible_v<U*, T*>) Box(Box<U>&& other)
  noexcept  // NOLINT: implicit, like unique_ptr's converting constructor
      : ptr_(other.release_for_conversion()) {
    static_assert(std::has_virtual_destructor_v<T>,
                  "Box<Base> from Box<Derived> needs a virtual destructor in Base, or the "
                  "Derived part would never be destroyed");
  }

  ~Box() { destroy(ptr_); }

  T& operator*() const { return *checked("operator*"); }
  T* operator->() const { return checked("operator->"); }
  // get() — the address of the value; never null (an empty Box throws instead).
  T* get() const { return checked("get()"); }
  // get_unchecked() — the value, for hot loops where the caller knows every Box is valid. The
  // check in operator* is a possible early exit at each element, which stops g++ 12 vectorizing
  // a loop over many Boxes (docs/benchmarks.md, "Box deref"). Release builds skip the check here;
  // debug builds (MEMKIT_DEBUG) still throw UseAfterMove, so tests catch a broken promise.
  T& get_unchecked() const noexcept(!MEMKIT_DEBUG) {
#if MEMKIT_DEBUG
    return *checked("get_unchecked()");
#else
    return *ptr_;
#endif
  }

  // valid() — false once the value was moved out, leaked or released with into_raw().
  bool valid() const noexcept { return ptr_ != nullptr; }

  // clone() — a new Box holding a copy of the value.
  [[nodiscard]] Box clone() const requires std::is_copy_constructible_v<T> {
    return make(*checked("clone()"));
  }

  // leak() — gives up ownership and returns the value, which is never destroyed.
  T& leak() && {
    T* p = checked("leak()");
    ptr_ = nullptr;
    return *p;
  }

  // into_raw() — gives up ownership; the caller must pass the pointer back to from_raw().
  [[nodiscard]] T* into_raw() && {
    T* p = checked("into_raw()");
    ptr_ = nullptr;
    return p;
  }

 private:
  template <class U>
  friend class Box;
  template <class U>
  friend class OptionBox;  // takes a Box's value whole, and gives it back

  explicit Box(T* p) noexcept : ptr_(p) {}

  static constexpr std::string_view name() { return type_name<Box>(); }

  T* checked(std::string_view operation) const {
    if (MEMKIT_UNLIKELY(ptr_ == nullptr)) detail::throw_use_after_move(name(), operation);
    return ptr_;
  }

  T* release_for_conversion() noexcept { return std::exchange(ptr_, nullptr); }

  static void destroy(T* value) noexcept {
    static_assert(sizeof(T) > 0,
                  "Box<T> destroys T where T is incomplete: define the owner's "
                  "destructor out of line, where T is complete");
    delete value;
  }

  T* ptr_;
};

// Box<T[]> — an owned array of a size fixed at creation.
template <class T>
class Box<T[]> {
 public:
  using element_type = T;

  // Box<T[]>::make(n) — n value-initialized elements (zero for scalars).
  [[nodiscard]] static Box make(std::size_t n) { return Box(new T[n](), n); }

  // Box<T[]>::from_raw(span) — takes back what into_raw() gave up.
  [[nodiscard]] static Box from_raw(std::span<T> elements) {
    if (elements.data() == nullptr) detail::throw_null_pointer(name(), "from_raw()");
    return Box(elements.data(), elements.size());
  }

  Box(const Box&) = delete;
  Box& operator=(const Box&) = delete;
  Box(Box&& other) noexcept
      : ptr_(std::exchange(other.ptr_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  Box& operator=(Box&& other) noexcept {
    T* old = std::exchange(ptr_, std::exchange(other.ptr_, nullptr));
    size_ = std::exchange(other.size_, 0);
    delete[] old;
    return *this;
  }
  ~Box() { delete[] ptr_; }

  // operator[] — bounds-checked; throws OutOfBounds with the index and the size.
  T& operator[](std::size_t i) const {
    T* p = checked("operator[]");
    if (MEMKIT_UNLIKELY(i >= size_)) detail::throw_out_of_bounds(name(), "operator[]", i, size_);
    return p[i];
  }

  std::size_t size() const { return checked("size()") ? size_ : 0; }
  std::span<T> span() const { return {checked("span()"), size_}; }
  T* begin() const { return checked("begin()"); }
  T* end() const { return checked("end()") + size_; }
  bool valid() const noexcept { return ptr_ != nullptr; }

  [[nodiscard]] std::span<T> into_raw() && {
    std::span<T> elements{checked("into_raw()"), size_};
    ptr_ = nullptr;
    size_ = 0;
    return elements;
  }

 private:
  Box(T* p, std::size_t n) noexcept : ptr_(p), size_(n) {}

  static constexpr std::string_view name() { return type_name<Box>(); }

  T* checked(std::string_view operation) const {
    if (MEMKIT_UNLIKELY(ptr_ == nullptr)) detail::throw_use_after_move(name(), operation);
    return ptr_;
  }

  T* ptr_;
  std::size_t size_;
};

// make_box<T>(args...) — Box<T>::make(args...), for symmetry with make_unique.
template <class T, class... Args>
[[nodiscard]] Box<T> make_box(Args&&... args) {
  return Box<T>::make(std::forward<Args>(args)...);
}

}  // namespace memkit

#endif  // MEMKIT_OWN_BOX_H_
