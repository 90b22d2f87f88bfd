// The out-of-line parts of Visitor and Member.
#include "memkit/gc/visitor.h"

#include <string>

#include "memkit/base/error.h"

namespace memkit::gc {

void Visitor::check_target(const detail::MemberBase&, const char*) {}

namespace detail {

void fatal_poisoned_member(std::string_view type, std::string_view operation) noexcept {
  std::string message(type);
  message.append(": ").append(operation).append(
      " on a Member poisoned by the collector: a destructor must not reach other GC objects "
      "(they may be destroyed already; the collector poisons the Members of dead objects "
      "before it runs destructors); do such cleanup in a pre-finalizer "
      "(void pre_finalize())");
  ::memkit::detail::fatal(message);
}

}  // namespace detail
}  // namespace memkit::gc
