// support/throws.h — assertions on memkit's exceptions: the exact type, and what the message says.
//
//   EXPECT_THAT([&] { *empty; }, ThrowsUseAfterMove("memkit::Box<int>", "operator*"));
//   EXPECT_THAT(what_of<memkit::BorrowMutError>([&] { (void)cell.borrow_mut(); }),
//               HasSubstr("1 shared borrow outstanding"));
#ifndef MEMKIT_TESTS_SUPPORT_THROWS_H_
#define MEMKIT_TESTS_SUPPORT_THROWS_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "memkit/base/error.h"
#include "memkit/base/type_name.h"

namespace memkit::testing {

// what_of<E>(f) — calls f, which must throw an E, and returns the exception's what(). Fails the
// current test and returns "" when f returns normally; an exception of another type propagates
// (and fails the test, naming it).
template <class E, class F>
std::string what_of(F&& f) {
  try {
    std::forward<F>(f)();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected " << type_name<E>() << " to be thrown, but nothing was thrown";
  return {};
}

// ThrowsUseAfterMove(type, operation) — matches a callable that throws memkit::UseAfterMove for
// `type` (e.g. "memkit::Box<int>") and `operation` (e.g. "operator*"), both in its accessors
// and in its message.
inline auto ThrowsUseAfterMove(const std::string& type, const std::string& operation) {
  using ::testing::AllOf;
  using ::testing::HasSubstr;
  using ::testing::ResultOf;
  return ::testing::Throws<UseAfterMove>(
      AllOf(ResultOf([](const UseAfterMove& e) { return e.type(); }, type),
            ResultOf([](const UseAfterMove& e) { return e.operation(); }, operation),
            ResultOf([](const UseAfterMove& e) { return std::string(e.what()); },
                     HasSubstr("use after move: " + operation + " on an empty " + type + " "))));
}

}  // namespace memkit::testing

#endif  // MEMKIT_TESTS_SUPPORT_THROWS_H_
