// memkit/base/source_location.h — where in the caller's source a call was made.
//
// SourceLocation::current(), used as a default argument, captures the caller's file, line and
// function, like std::source_location — which clang 14 with libstdc++ 12 cannot provide. The
// compiler builtins behind it exist in both g++ and clang.
#ifndef MEMKIT_BASE_SOURCE_LOCATION_H_
#define MEMKIT_BASE_SOURCE_LOCATION_H_

namespace memkit {

struct SourceLocation {
  const char* file = "";
  const char* function = "";
  unsigned line = 0;

  static constexpr SourceLocation current(const char* file = __builtin_FILE(),
                                          const char* function = __builtin_FUNCTION(),
                                          unsigned line = __builtin_LINE()) noexcept {
    return {file, function, line};
  }
};

}  // namespace memkit

#endif  // MEMKIT_BASE_SOURCE_LOCATION_H_
