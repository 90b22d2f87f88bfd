// memkit/base/type_name.h — the readable name of a type, for error messages.
//
// type_name<T>() returns "Node", "std::vector<int>" or "Game" at compile time, taken from the
// compiler's own spelling in __PRETTY_FUNCTION__, so no RTTI is needed.
#ifndef MEMKIT_BASE_TYPE_NAME_H_
#define MEMKIT_BASE_TYPE_NAME_H_

#include <array>
#include <string_view>

namespace memkit {
namespace detail {

template <class T>
constexpr std::string_view raw_type_name() {
  return __PRETTY_FUNCTION__;
}

// The text the compiler puts around T in raw_type_name(), found by spelling a known type.
struct TypeNameFormat {
  std::size_t prefix;
  std::size_t suffix;
};

constexpr TypeNameFormat type_name_format() {
  constexpr std::string_view probe = raw_type_name<double>();
  constexpr std::size_t at = probe.find("double");
  return {at, probe.size() - at - std::string_view("double").size()};
}

}  // namespace detail

// type_name<T>() — the name of T as the compiler spells it ("memkit::Box<Node>" for a Box of a
// global Node). Stable within one compiler; meant for humans, not for parsing.
template <class T>
constexpr std::string_view type_name() {
  constexpr std::string_view raw = detail::raw_type_name<T>();
  constexpr detail::TypeNameFormat format = detail::type_name_format();
  return raw.substr(format.prefix, raw.size() - format.prefix - format.suffix);
}

namespace detail {

template <class T>
struct TypeName {
  static constexpr std::string_view value = type_name<T>();
};

// JoinedName<parts...>::value — the parts joined at compile time into one static string:
// JoinedName<kRc, TypeName<Node>::value, kClose>::value == "memkit::Rc<Node>".
template <const std::string_view&... Parts>
struct JoinedName {
  static constexpr std::array<char, (Parts.size() + ... + 0)> storage = [] {
    std::array<char, (Parts.size() + ... + 0)> joined{};
    std::size_t at = 0;
    ((Parts.copy(joined.data() + at, Parts.size()), at += Parts.size()), ...);
    return joined;
  }();
  static constexpr std::string_view value{storage.data(), storage.size()};
};

inline constexpr std::string_view kCloseAngle = ">";

}  // namespace detail
}  // namespace memkit

#endif  // MEMKIT_BASE_TYPE_NAME_H_
