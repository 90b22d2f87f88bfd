#include "memkit/inspect/human_size.h"

#include <cstdio>

namespace memkit::inspect {

std::string human_size(std::uint64_t bytes) {
  char buffer[32];
  if (bytes < 1024) {
    std::snprintf(buffer, sizeof buffer, "%llu B", static_cast<unsigned long long>(bytes));
    return buffer;
  }
  if (bytes < (std::uint64_t{1} << 20) && bytes % 1024 == 0) {
    std::snprintf(buffer, sizeof buffer, "%llu KiB", static_cast<unsigned long long>(bytes / 1024));
    return buffer;
  }
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  std::snprintf(buffer, sizeof buffer, "%.1f %s", value, kUnits[unit]);
  return buffer;
}

}  // namespace memkit::inspect
