// memkit/own/option_box.h — OptionBox<T>: a Box that may be absent, in one pointer.
//
// A Box is never null, so a link that may be missing — the end of a list, a leaf's children — is
// an optional Box. std::optional<Box<T>> works but carries a flag beside the pointer: 16 bytes
// where unique_ptr takes 8, and a test of the flag and then of the pointer at every step of a
// walk. Rust stores Option<Box<T>> in one pointer, the null value meaning None (the "niche");
// OptionBox<T> does the same.
//
//   struct Node {
//     long value;
//     OptionBox<Node> next;                     // 8 bytes, null = the end
//   };
//   OptionBox<Node> head;                       // empty
//   head = Box<Node>::make(1, std::move(head)); // a Box goes in whole
//   for (const Node* n = head.get(); n != nullptr; n = n->next.get()) sum += n->value;
//
// get() returns null for an empty OptionBox, as unique_ptr::get() does; that is what a walk
// wants. operator* and operator-> are the "I know it is there" accessors: on an empty OptionBox
// they throw memkit::EmptyOption naming the type, never dereference null. A Box leaves it whole:
//
//   OptionBox<Node> rest = head->next.take();  // moves the value out, leaves `next` empty
//   Box<Node> node = std::move(head).unwrap(); // the Box back; throws EmptyOption when empty
//
// Converting a moved-from Box into an OptionBox is a use after move (memkit::UseAfterMove), not
// a quiet "empty": the Box promised a value.
#ifndef MEMKIT_OWN_OPTION_BOX_H_
#define MEMKIT_OWN_OPTION_BOX_H_

#include <string_view>
#include <utility>

#include "memkit/base/config.h"
#include "memkit/base/error.h"
#include "memkit/base/type_name.h"
#include "memkit/own/box.h"

namespace memkit {

template <class T>
class OptionBox {
 public:
  using element_type = T;

  OptionBox() noexcept = default;
  OptionBox(std::nullptr_t) noexcept {}  // NOLINT: implicit, like an empty pointer
  // Takes the Box's value; throws UseAfterMove for an empty Box.
  OptionBox(Box<T>&& box) : ptr_(box.checked("conversion to OptionBox")) {  // NOLINT: implicit
    box.ptr_ = nullptr;
  }
  OptionBox(const OptionBox&) = delete;
  OptionBox& operator=(const OptionBox&) = delete;
  OptionBox(OptionBox&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  // Takes the new value before destroying the old one: `other` may be owned by the old value
  // (`node = std::move(node->next)` walking down a list).
  OptionBox& operator=(OptionBox&& other) noexcept {
    replace(std::exchange(other.ptr_, nullptr));
    return *this;
  }
  OptionBox& operator=(Box<T>&& box) {
    replace(box.checked("conversion to OptionBox"));
    box.ptr_ = nullptr;
    return *this;
  }
  OptionBox& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }
  ~OptionBox() { Box<T>::destroy(ptr_); }

  bool has_value() const noexcept { return ptr_ != nullptr; }
  explicit operator bool() const noexcept { return ptr_ != nullptr; }

  // get() — the value's address, or null when empty.
  T* get() const noexcept { return ptr_; }
  T& operator*() const { return *checked("operator*"); }
  T* operator->() const { return checked("operator->"); }

  // take() — the value moves into the returned OptionBox; this one is left empty (Rust's
  // Option::take).
  [[nodiscard]] OptionBox take() noexcept { return OptionBox(std::exchange(ptr_, nullptr)); }
  // unwrap() — the value as a Box; throws EmptyOption when there is none.
  [[nodiscard]] Box<T> unwrap() && {
    T* value = checked("unwrap()");
    ptr_ = nullptr;
    return Box<T>(value);
  }
  void reset() noexcept { replace(nullptr); }

  static constexpr std::string_view name() { return type_name<OptionBox>(); }

 private:
  explicit OptionBox(T* value) noexcept : ptr_(value) {}

  void replace(T* value) noexcept { Box<T>::destroy(std::exchange(ptr_, value)); }

  T* checked(std::string_view operation) const {
    if (MEMKIT_UNLIKELY(ptr_ == nullptr)) detail::throw_empty_option(name(), operation);
    return ptr_;
  }

  T* ptr_ = nullptr;
};

}  // namespace memkit

#endif  // MEMKIT_OWN_OPTION_BOX_H_
