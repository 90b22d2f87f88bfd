// Stress settings and their MEMKIT_GC_STRESS spelling.
#include "memkit/gc/stress.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "memkit/base/error.h"

namespace memkit::gc {
namespace {

constexpr std::string_view kExpected = " (expected 0, off, 1, every, every:N or random:P:SEED)";

[[noreturn]] void bad_text(std::string_view text, std::string_view reason) {
  std::string operation = "parse(\"";
  operation.append(text).append("\")");
  std::string why(reason);
  why.append(kExpected);
  ::memkit::detail::throw_gc_usage_error("memkit::gc::Stress", operation, why);
}

bool parse_unsigned(std::string_view text, std::uint64_t& value) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

bool parse_probability(std::string_view text, double& value) {
  if (text.empty() || text.size() > 64) return false;
  const std::string copy(text);  // strtod needs a terminated string
  char* end = nullptr;
  value = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size();
}

}  // namespace

Stress Stress::every(std::uint64_t n) {
  if (n == 0) {
    ::memkit::detail::throw_gc_usage_error("memkit::gc::Stress", "every(0)",
                                           "N must be at least 1");
  }
  Stress stress;
  stress.mode_ = Mode::kEvery;
  stress.interval_ = n;
  return stress;
}

Stress Stress::random(double probability, std::uint64_t seed) {
  if (!(probability > 0.0 && probability <= 1.0)) {
    std::string operation = "random(" + std::to_string(probability) + ", ";
    operation.append(std::to_string(seed)).append(")");
    ::memkit::detail::throw_gc_usage_error("memkit::gc::Stress", operation,
                                           "the probability must be in (0, 1]");
  }
  Stress stress;
  stress.mode_ = Mode::kRandom;
  stress.probability_ = probability;
  stress.seed_ = seed;
  return stress;
}

Stress Stress::parse(std::string_view text) {
  if (text.empty() || text == "0" || text == "off") return off();
  if (text == "1" || text == "every") return every_allocation();
  if (text.substr(0, 6) == "every:") {
    std::uint64_t n = 0;
    if (!parse_unsigned(text.substr(6), n)) bad_text(text, "N is not a whole number");
    if (n == 0) bad_text(text, "N must be at least 1");
    return every(n);
  }
  if (text.substr(0, 7) == "random:") {
    const std::string_view rest = text.substr(7);
    const std::size_t colon = rest.find(':');
    if (colon == std::string_view::npos) bad_text(text, "the SEED is missing");
    double probability = 0.0;
    if (!parse_probability(rest.substr(0, colon), probability)) {
      bad_text(text, "P is not a number");
    }
    if (!(probability > 0.0 && probability <= 1.0)) bad_text(text, "P must be in (0, 1]");
    std::uint64_t seed = 0;
    if (!parse_unsigned(rest.substr(colon + 1), seed)) {
      bad_text(text, "SEED is not a whole number");
    }
    return random(probability, seed);
  }
  bad_text(text, "unknown mode");
}

Stress Stress::from_environment() {
  const char* value = std::getenv("MEMKIT_GC_STRESS");
  return value == nullptr ? off() : parse(value);
}

std::string Stress::to_string() const {
  switch (mode_) {
    case Mode::kOff:
      return "off";
    case Mode::kEvery:
      return "every:" + std::to_string(interval_);
    case Mode::kRandom: {
      char text[64];
      std::snprintf(text, sizeof(text), "random:%g:", probability_);
      return std::string(text).append(std::to_string(seed_));
    }
  }
  return "off";
}

}  // namespace memkit::gc
