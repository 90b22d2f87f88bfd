// Turns the text of /proc/PID/smaps or /proc/PID/maps into regions, unclassified. Internal.
#ifndef MEMKIT_SRC_INSPECT_SMAPS_PARSER_H_
#define MEMKIT_SRC_INSPECT_SMAPS_PARSER_H_

#include <cstddef>
#include <string_view>
#include <vector>

#include "memkit/inspect/region.h"

namespace memkit::inspect::detail {

struct ParsedRegions {
  std::vector<Region> regions;
  bool has_smaps = false;  // at least one counter line was seen
};

// Takes the text one line at a time, so a reader can parse each chunk the kernel hands it while
// it is still in cache instead of holding the whole file (7 MB for 10,000 mappings). No regular
// expressions, no istreams: a line is split by hand. Throws MapParseError naming `source`, the
// line number and the line for anything that is neither a mapping line nor a "Name: value"
// counter line, for a counter before the first mapping, for a bad number, and for regions out of
// address order.
class RegionParser {
 public:
  // `source` must outlive the parser.
  explicit RegionParser(std::string_view source) noexcept : source_(source) {}

  // One line, without its '\n'. Lines are numbered from 1 in the order they arrive.
  void add_line(std::string_view line);
  ParsedRegions finish() &&;

 private:
  void add_mapping(std::string_view line);
  void add_counter(std::string_view line);
  // The counter `index`, named by line[0, colon).
  void add_counter_value(std::size_t index, std::size_t colon, std::string_view line);

  // Regions are collected in blocks and moved once into a vector of the exact size by finish():
  // growing one vector by doubling touches (and faults in) about twice the memory, and moves
  // most regions more than once — measurable at 10,000 regions of ~380 bytes.
  static constexpr std::size_t kBlockRegions = 256;

  std::string_view source_;
  std::vector<std::vector<Region>> blocks_;
  std::size_t region_count_ = 0;
  // The region counter lines belong to; null before the first. It stays valid: a block never
  // grows past the size it reserved, and moving a block (as blocks_ grows) keeps its elements.
  Region* last_ = nullptr;
  bool has_smaps_ = false;
  std::size_t line_number_ = 0;
  // Counters arrive in the kernel's order: the one after the last found is tried first.
  std::size_t next_field_ = 0;
};

// The whole of `text`, split at '\n' (a last line without one counts too).
ParsedRegions parse_regions(std::string_view text, std::string_view source);

}  // namespace memkit::inspect::detail

#endif  // MEMKIT_SRC_INSPECT_SMAPS_PARSER_H_
