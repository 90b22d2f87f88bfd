// memkit/inspect/human_size.h — sizes as people read them: "12 KiB", "1.3 MiB", "2.0 GiB".
#ifndef MEMKIT_INSPECT_HUMAN_SIZE_H_
#define MEMKIT_INSPECT_HUMAN_SIZE_H_

#include <cstdint>
#include <string>

#include "memkit/export.h"

namespace memkit::inspect {

// Bytes below 1 KiB as "N B"; whole KiB below 1 MiB as "N KiB"; larger with one decimal:
// "1.3 MiB", "2.0 GiB", "1.5 TiB". Never rounds a non-zero size to "0".
MEMKIT_EXPORT std::string human_size(std::uint64_t bytes);
inline std::string human_kib(std::uint64_t kib) { return human_size(kib * 1024); }

}  // namespace memkit::inspect

#endif  // MEMKIT_INSPECT_HUMAN_SIZE_H_
