// Text and JSON forms of MemoryStats.
#include "memkit/alloc/stats.h"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <ostream>

namespace memkit {
namespace {

std::string plural(std::uint64_t count, std::string_view noun) {
  std::string out = std::to_string(count);
  out.append(" ").append(noun);
  if (count != 1) out.append("s");
  return out;
}

void append_counts_json(std::string& out, const AllocCounts& counts) {
  const std::array<std::pair<const char*, std::uint64_t>, 6> fields{{
      {"allocations", counts.allocations},
      {"frees", counts.frees},
      {"live_bytes", counts.live_bytes},
      {"live_blocks", counts.live_blocks},
      {"peak_bytes", counts.peak_bytes},
      {"total_bytes", counts.total_bytes},
  }};
  for (const auto& [name, value] : fields) {
    out.append("\"").append(name).append("\":").append(std::to_string(value)).append(",");
  }
  out.pop_back();
}

std::string pad(std::string text, std::size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

std::string pad_left(std::string text, std::size_t width) {
  if (text.size() < width) text.insert(0, width - text.size(), ' ');
  return text;
}

}  // namespace

std::string format_bytes(std::uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr std::array<const char*, 6> kUnits{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < kUnits.size()) {
    value /= 1024.0;
    ++unit;
  }
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%.1f %s", value, kUnits[unit]);
  return text.data();
}

void sort_tags(std::vector<TagStats>& tags) {
  std::sort(tags.begin(), tags.end(), [](const TagStats& a, const TagStats& b) {
    if (a.counts.live_bytes != b.counts.live_bytes) {
      return a.counts.live_bytes > b.counts.live_bytes;
    }
    return a.tag < b.tag;
  });
}

std::string to_text(const MemoryStats& stats) {
  const AllocCounts& c = stats.counts;
  std::string out;
  out.append(stats.source)
      .append(": live ")
      .append(format_bytes(c.live_bytes))
      .append(" in ")
      .append(plural(c.live_blocks, "block"))
      .append(", peak ")
      .append(format_bytes(c.peak_bytes))
      .append("; ")
      .append(plural(c.allocations, "allocation"))
      .append(", ")
      .append(plural(c.frees, "free"))
      .append(", ")
      .append(format_bytes(c.total_bytes))
      .append(" in total\n");
  if (stats.footprint) {
    const Footprint& f = *stats.footprint;
    out.append("  holds ")
        .append(format_bytes(f.capacity_bytes))
        .append(" in ")
        .append(plural(f.chunks, "chunk"))
        .append(", ")
        .append(format_bytes(f.wasted_bytes))
        .append(" wasted\n");
  }
  if (!stats.by_tag.empty()) {
    std::size_t width = 3;
    for (const TagStats& tag : stats.by_tag) width = std::max(width, tag.tag.size());
    out.append("  ")
        .append(pad("tag", width))
        .append(pad_left("live", 12))
        .append(pad_left("blocks", 10))
        .append(pad_left("peak", 12))
        .append(pad_left("allocs", 10))
        .append(pad_left("frees", 10))
        .append(pad_left("total", 12))
        .append("\n");
    for (const TagStats& tag : stats.by_tag) {
      const AllocCounts& t = tag.counts;
      out.append("  ")
          .append(pad(tag.tag, width))
          .append(pad_left(format_bytes(t.live_bytes), 12))
          .append(pad_left(std::to_string(t.live_blocks), 10))
          .append(pad_left(format_bytes(t.peak_bytes), 12))
          .append(pad_left(std::to_string(t.allocations), 10))
          .append(pad_left(std::to_string(t.frees), 10))
          .append(pad_left(format_bytes(t.total_bytes), 12))
          .append("\n");
    }
  }
  return out;
}

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  for (const char ch : text) {
    switch (ch) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          std::array<char, 8> escaped{};
          std::snprintf(escaped.data(), escaped.size(), "\\u%04x", static_cast<unsigned>(ch));
          out.append(escaped.data());
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

std::string to_json(const MemoryStats& stats) {
  std::string out = "{\"source\":";
  append_json_string(out, stats.source);
  out.append(",");
  append_counts_json(out, stats.counts);
  out.append(",\"footprint\":");
  if (stats.footprint) {
    out.append("{\"capacity_bytes\":")
        .append(std::to_string(stats.footprint->capacity_bytes))
        .append(",\"chunks\":")
        .append(std::to_string(stats.footprint->chunks))
        .append(",\"wasted_bytes\":")
        .append(std::to_string(stats.footprint->wasted_bytes))
        .append("}");
  } else {
    out.append("null");
  }
  out.append(",\"by_tag\":[");
  for (const TagStats& tag : stats.by_tag) {
    out.append("{\"tag\":");
    append_json_string(out, tag.tag);
    out.append(",");
    append_counts_json(out, tag.counts);
    out.append("},");
  }
  if (!stats.by_tag.empty()) out.pop_back();
  out.append("]}");
  return out;
}

std::ostream& operator<<(std::ostream& out, const MemoryStats& stats) {
  return out << to_text(stats);
}

}  // namespace memkit
