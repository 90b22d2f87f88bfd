// memkit/own/detail/ref_counted.h — the one implementation of Rc/Weak and Arc/ArcWeak.
//
// Strong<T, Counts> and WeakRef<T, Counts> are Rc<T>/Weak<T> with Counts = LocalCounts and
// Arc<T>/ArcWeak<T> with Counts = AtomicCounts; the public names are aliases declared in rc.h and
// arc.h, where the semantics are explained.
//
// Layout: one allocation, like make_shared and Rust's RcInner:
//   [ strong | weak | owner (debug Rc only) | T ]
// A handle is one pointer to it. The value is destroyed when `strong` reaches zero; the
// allocation is freed when `weak` (which includes one reference held by all strong handles
// together) reaches zero.
#ifndef MEMKIT_OWN_DETAIL_REF_COUNTED_H_
#define MEMKIT_OWN_DETAIL_REF_COUNTED_H_

#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "memkit/base/config.h"
#include "memkit/base/error.h"
#include "memkit/base/type_name.h"
#include "memkit/own/detail/construct.h"
#include "memkit/own/detail/ref_counts.h"

namespace memkit::detail {

template <class T, class Counts>
class WeakRef;

template <class T, class Counts>
struct CountedBox {
  typename Counts::Count strong{1};
  typename Counts::Count weak{1};
  [[no_unique_address]] typename Counts::Owner owner;
  alignas(T) unsigned char storage[sizeof(T)];

  T* value() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
};

template <class T, class Counts>
class Strong {
  static_assert(std::is_object_v<T> && !std::is_array_v<T>,
                "Rc<T> and Arc<T> hold one object: T must not be a reference or an array");
  using Box = CountedBox<T, Counts>;

 public:
  using element_type = T;
  using weak_type = WeakRef<T, Counts>;

  // make(args...) — one allocation holding the counts and T(args...).
  template <class... Args>
  [[nodiscard]] static Strong make(Args&&... args) {
    auto* box = new Box;
    try {
      construct_in<T>(box->storage, std::forward<Args>(args)...);
    } catch (...) {
      delete box;
      throw;
    }
    return Strong(box);
  }

  // Copying a handle shares the value: one more strong reference (Rust's Rc::clone).
  Strong(const Strong& other) : box_(other.checked("clone")) { Counts::increment(box_->strong); }
  Strong& operator=(const Strong& other) {
    Strong(other).swap(*this);
    return *this;
  }
  Strong(Strong&& other) noexcept : box_(std::exchange(other.box_, nullptr)) {}
  Strong& operator=(Strong&& other) noexcept {
    Strong(std::move(other)).swap(*this);
    return *this;
  }
  ~Strong() {
    if (box_ != nullptr) release(box_);
  }

  // Shared access is read-only, as in Rust: mutate through RefCell/Cell (Rc), Mutex (Arc),
  // get_mut() or make_mut().
  const T& operator*() const { return *checked("operator*")->value(); }
  const T* operator->() const { return checked("operator->")->value(); }
  const T* get() const { return checked("get()")->value(); }

  // clone() — the same as copying, spelled out.
  [[nodiscard]] Strong clone() const { return *this; }

  // strong_count() — how many Rc (or Arc) handles share the value, this one included.
  std::size_t strong_count() const { return Counts::load(checked("strong_count()")->strong); }
  // weak_count() — how many Weak handles point to the value.
  std::size_t weak_count() const { return visible_weak_count(*checked("weak_count()")); }

  // downgrade() — a Weak handle that does not keep the value alive.
  [[nodiscard]] weak_type downgrade() const {
    Box* box = checked("downgrade()");
    Counts::increment_weak(box->weak);
    return weak_type(box);
  }

  // ptr_eq(a, b) — whether both handles share one allocation (not whether the values are equal).
  static bool ptr_eq(const Strong& a, const Strong& b) {
    return a.checked("ptr_eq()") == b.checked("ptr_eq()");
  }
  bool ptr_eq(const Strong& other) const { return ptr_eq(*this, other); }

  // get_mut() — the value for writing, only when no other strong or weak handle exists;
  // otherwise nullptr.
  T* get_mut() {
    Box* box = checked("get_mut()");
    return Counts::is_unique(box->strong, box->weak) ? box->value() : nullptr;
  }

  // make_mut() — clone-on-write: the value for writing, first copied into a new allocation if it
  // is shared. Weak handles to the old value stay with it; they no longer see this handle's.
  T& make_mut() requires std::is_copy_constructible_v<T> {
    Box* box = checked("make_mut()");
    if (Counts::is_unique(box->strong, box->weak)) return *box->value();
    if constexpr (!Counts::kThreadSafe && std::is_move_constructible_v<T>) {
      // The only strong handle, watched by Weaks: move the value out instead of copying it.
      if (Counts::load(box->strong) == 1) {
        *this = make(std::move(*box->value()));
        return *box_->value();
      }
    }
    *this = make(std::as_const(*box->value()));
    return *box_->value();
  }

  // try_unwrap(std::move(handle)) — the value, moved out, when this is the only strong handle;
  // otherwise std::nullopt and the handle is left as it was.
  [[nodiscard]] static std::optional<T> try_unwrap(
      Strong&& handle) requires std::is_move_constructible_v<T> {
    Box* box = handle.checked("try_unwrap()");
    if (!Counts::claim_unique(box->strong)) return std::nullopt;
    handle.box_ = nullptr;
    // The moved-from value is destroyed, and the implicit weak reference of the strong handles
    // released, even if T's move constructor throws.
    struct Husk {
      Box* box;
      ~Husk() { drop_value(box); }
    } husk{box};
    return std::optional<T>(std::move(*husk.box->value()));
  }

  // valid() — false once this handle was moved from.
  bool valid() const noexcept { return box_ != nullptr; }

  void swap(Strong& other) noexcept { std::swap(box_, other.box_); }

  static constexpr std::string_view name() {
    return JoinedName<Counts::kStrongName, TypeName<T>::value, kCloseAngle>::value;
  }

 private:
  friend class WeakRef<T, Counts>;

  explicit Strong(Box* box) noexcept : box_(box) {}

  Box* checked(std::string_view operation) const {
    if (MEMKIT_UNLIKELY(box_ == nullptr)) throw_use_after_move(name(), operation);
    Counts::check_thread(box_->owner, name(), operation);
    return box_;
  }

  static std::size_t visible_weak_count(Box& box) noexcept {
    const std::size_t weak = Counts::load(box.weak);
    if constexpr (Counts::kThreadSafe) {
      if (weak == AtomicCounts::kLockedWeak) return 0;  // get_mut() saw no Weak
    }
    return weak - 1;
  }

  // The last strong handle destroys the value, then gives up the implicit weak reference. Out of
  // line so that the common case, a decrement, stays small where it is inlined.
  [[gnu::noinline]] static void drop_value(Box* box) noexcept {
    box->value()->~T();
    release_weak(box);
  }

  static void release(Box* box) noexcept {
    Counts::check_thread_or_die(box->owner, name(), "drop");
    if (Counts::decrement(box->strong)) drop_value(box);
  }

  static void release_weak(Box* box) noexcept {
    if (Counts::decrement(box->weak)) free_box(box);
  }

  // Out of line: g++ 12 at -O3 otherwise warns -Wuse-after-free where two Weaks of one
  // allocation are dropped in one function (it cannot see that only the last one frees).
  [[gnu::noinline]] static void free_box(Box* box) noexcept { delete box; }

  Box* box_;
};

template <class T, class Counts>
class WeakRef {
  using Box = CountedBox<T, Counts>;

 public:
  using strong_type = Strong<T, Counts>;

  // A Weak that points nowhere: upgrade() gives nullopt. Allocates nothing.
  constexpr WeakRef() noexcept = default;

  WeakRef(const WeakRef& other) : box_(other.box_) {
    if (box_ != nullptr) {
      Counts::check_thread(box_->owner, name(), "clone");
      Counts::increment_weak(box_->weak);
    }
  }
  WeakRef& operator=(const WeakRef& other) {
    WeakRef(other).swap(*this);
    return *this;
  }
  WeakRef(WeakRef&& other) noexcept : box_(std::exchange(other.box_, nullptr)) {}
  WeakRef& operator=(WeakRef&& other) noexcept {
    WeakRef(std::move(other)).swap(*this);
    return *this;
  }
  ~WeakRef() {
    if (box_ == nullptr) return;
    Counts::check_thread_or_die(box_->owner, name(), "drop");
    strong_type::release_weak(box_);
  }

  // upgrade() — a strong handle if the value is still alive, otherwise std::nullopt.
  [[nodiscard]] std::optional<strong_type> upgrade() const {
    if (box_ == nullptr) return std::nullopt;
    Counts::check_thread(box_->owner, name(), "upgrade()");
    if (!Counts::increment_if_alive(box_->strong)) return std::nullopt;
    return strong_type(box_);
  }

  // strong_count() — handles keeping the value alive; 0 once it is gone (or for an empty Weak).
  std::size_t strong_count() const noexcept {
    return box_ == nullptr ? 0 : Counts::load(box_->strong);
  }
  // weak_count() — Weak handles to the value, this one included; 0 once the value is gone.
  std::size_t weak_count() const noexcept {
    if (box_ == nullptr || Counts::load(box_->strong) == 0) return 0;
    return strong_type::visible_weak_count(*box_);
  }
  // expired() — whether upgrade() would fail now.
  bool expired() const noexcept { return strong_count() == 0; }

  // ptr_eq — whether both point to the same allocation (two empty Weaks are equal).
  static bool ptr_eq(const WeakRef& a, const WeakRef& b) noexcept { return a.box_ == b.box_; }
  bool ptr_eq(const WeakRef& other) const noexcept { return box_ == other.box_; }

  void swap(WeakRef& other) noexcept { std::swap(box_, other.box_); }

  static constexpr std::string_view name() {
    return JoinedName<Counts::kWeakName, TypeName<T>::value, kCloseAngle>::value;
  }

 private:
  friend class Strong<T, Counts>;
  explicit WeakRef(Box* box) noexcept : box_(box) {}

  Box* box_ = nullptr;
};

}  // namespace memkit::detail

#endif  // MEMKIT_OWN_DETAIL_REF_COUNTED_H_
