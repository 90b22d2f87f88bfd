// Gives every region its kind, its module and its thread. Internal.
#ifndef MEMKIT_SRC_INSPECT_REGION_CLASSIFIER_H_
#define MEMKIT_SRC_INSPECT_REGION_CLASSIFIER_H_

#include <string_view>
#include <vector>

#include "memkit/inspect/process_map.h"
#include "memkit/inspect/region.h"

namespace memkit::inspect::detail {

// `regions` must be in address order (the parser guarantees it). Returns the modules, in the
// order of their first region.
std::vector<Module> classify_regions(std::vector<Region>& regions,
                                     const std::vector<ThreadStackPointer>& threads,
                                     std::string_view executable);

}  // namespace memkit::inspect::detail

#endif  // MEMKIT_SRC_INSPECT_REGION_CLASSIFIER_H_
