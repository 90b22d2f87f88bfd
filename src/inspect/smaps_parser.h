// Turns the text of /proc/PID/smaps or /proc/PID/maps into regions, unclassified. Internal.
#ifndef MEMKIT_SRC_INSPECT_SMAPS_PARSER_H_
#define MEMKIT_SRC_INSPECT_SMAPS_PARSER_H_

#include <string_view>
#include <vector>

#include "memkit/inspect/region.h"

namespace memkit::inspect::detail {

struct ParsedRegions {
  std::vector<Region> regions;
  bool has_smaps = false;  // at least one counter line was seen
};

// One pass, no regular expressions, no istreams: a line is split by hand. Throws MapParseError
// naming `source`, the line number and the line for anything that is neither a mapping line nor
// a "Name: value" counter line, for a counter before the first mapping, for a bad number, and
// for regions out of address order.
ParsedRegions parse_regions(std::string_view text, std::string_view source);

}  // namespace memkit::inspect::detail

#endif  // MEMKIT_SRC_INSPECT_SMAPS_PARSER_H_
