// GcStats as text and JSON.
#include "memkit/gc/stats.h"

#include <cstdio>
#include <ostream>

namespace memkit::gc {
namespace {

std::string milliseconds(std::uint64_t ns) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3f ms", static_cast<double>(ns) / 1e6);
  return text;
}

std::string plural(std::uint64_t count, std::string_view noun) {
  std::string out = std::to_string(count);
  out.append(" ").append(noun);
  if (count != 1) out.append("s");
  return out;
}

void field(std::string& out, const char* name, std::uint64_t value) {
  out.append("\"").append(name).append("\":").append(std::to_string(value)).append(",");
}

}  // namespace

std::string_view to_string(CollectionReason reason) {
  switch (reason) {
    case CollectionReason::kNone:
      return "none";
    case CollectionReason::kExplicit:
      return "explicit";
    case CollectionReason::kAllocation:
      return "allocation";
    case CollectionReason::kStress:
      return "stress";
  }
  return "none";
}

std::string to_text(const GcStats& stats) {
  std::string out = "memkit::gc::Heap: ";
  out.append(plural(stats.collections, "collection"))
      .append(" (last: ")
      .append(to_string(stats.last_reason))
      .append("), pauses: total ")
      .append(milliseconds(stats.total_pause_ns))
      .append(", max ")
      .append(milliseconds(stats.max_pause_ns))
      .append(", last ")
      .append(milliseconds(stats.last_pause_ns))
      .append("\n  memory: ")
      .append(format_bytes(stats.heap_bytes))
      .append(" in ")
      .append(plural(stats.pages, "page"))
      .append(" and ")
      .append(plural(stats.large_objects, "large object"))
      .append("; live after the last collection ")
      .append(format_bytes(stats.live_bytes_after_last_collection))
      .append(", allocated since ")
      .append(format_bytes(stats.allocated_since_last_collection))
      .append(", next collection at ")
      .append(format_bytes(stats.next_collection_at))
      .append("\n  external: ")
      .append(format_bytes(stats.external_bytes))
      .append(" adjusted, ")
      .append(format_bytes(stats.object_external_bytes))
      .append(" reported by objects; stress ")
      .append(stats.stress)
      .append("\n");
  out.append(to_text(stats.objects));
  return out;
}

std::string to_json(const GcStats& stats) {
  std::string out = "{";
  field(out, "collections", stats.collections);
  field(out, "total_pause_ns", stats.total_pause_ns);
  field(out, "max_pause_ns", stats.max_pause_ns);
  field(out, "last_pause_ns", stats.last_pause_ns);
  out.append("\"last_reason\":");
  append_json_string(out, to_string(stats.last_reason));
  out.append(",");
  field(out, "pages", stats.pages);
  field(out, "large_objects", stats.large_objects);
  field(out, "heap_bytes", stats.heap_bytes);
  field(out, "live_bytes_after_last_collection", stats.live_bytes_after_last_collection);
  field(out, "allocated_since_last_collection", stats.allocated_since_last_collection);
  field(out, "external_bytes", stats.external_bytes);
  field(out, "object_external_bytes", stats.object_external_bytes);
  field(out, "next_collection_at", stats.next_collection_at);
  out.append("\"stress\":");
  append_json_string(out, stats.stress);
  out.append(",\"objects\":").append(to_json(stats.objects)).append("}");
  return out;
}

std::ostream& operator<<(std::ostream& out, const GcStats& stats) { return out << to_text(stats); }

}  // namespace memkit::gc
