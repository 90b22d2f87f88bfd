// Holes, padding and a smaller member order, from offsets and sizes alone.
#include "memkit/inspect/type_layout.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace memkit::inspect {
namespace {

std::uint64_t round_up(std::uint64_t value, std::uint64_t alignment) {
  if (alignment <= 1) return value;
  return (value + alignment - 1) / alignment * alignment;
}

// The bytes [begin, end) a member occupies.
struct Span {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

Span span_of(const LayoutMember& member) {
  if (member.is_bit_field) {
    return {member.bit_offset / 8, (member.bit_offset + member.bit_size + 7) / 8};
  }
  const std::uint64_t size =
      member.is_base && member.data_size > 0 ? member.data_size : member.size;
  return {member.offset, member.offset + size};
}

// What moves as one when reordering: a member, or a run of bit-fields sharing bytes.
struct Block {
  std::vector<std::size_t> members;
  std::uint64_t size = 0;
  std::uint64_t alignment = 1;
  bool fixed = false;  // bases and the vtable pointer stay first
};

std::vector<Block> blocks_of(const TypeLayout& layout) {
  std::vector<Block> blocks;
  std::uint64_t run_end = 0;
  std::uint64_t run_begin = 0;
  for (std::size_t i = 0; i < layout.members.size(); ++i) {
    const LayoutMember& member = layout.members[i];
    const Span span = span_of(member);
    const bool joins_run = member.is_bit_field && !blocks.empty() &&
                           layout.members[blocks.back().members.back()].is_bit_field &&
                           span.begin < round_up(run_end, blocks.back().alignment) &&
                           span.begin >= run_begin;
    if (joins_run) {
      Block& block = blocks.back();
      block.members.push_back(i);
      block.alignment = std::max(block.alignment, member.alignment);
      run_end = std::max(run_end, span.end);
      block.size = round_up(run_end - run_begin, block.alignment);
      continue;
    }
    Block block;
    block.members.push_back(i);
    block.alignment = std::max<std::uint64_t>(member.alignment, 1);
    block.fixed = member.is_base || member.artificial;
    run_begin = span.begin;
    run_end = span.end;
    block.size =
        member.is_bit_field ? round_up(span.end - span.begin, block.alignment) : member.size;
    blocks.push_back(std::move(block));
  }
  return blocks;
}

}  // namespace

LayoutAnalysis analyze(const TypeLayout& layout) {
  LayoutAnalysis analysis;
  std::vector<std::size_t> by_offset(layout.members.size());
  for (std::size_t i = 0; i < by_offset.size(); ++i) by_offset[i] = i;
  std::stable_sort(by_offset.begin(), by_offset.end(), [&](std::size_t a, std::size_t b) {
    return span_of(layout.members[a]).begin < span_of(layout.members[b]).begin;
  });

  std::uint64_t end = 0;
  for (std::size_t index : by_offset) {
    const LayoutMember& member = layout.members[index];
    if (member.is_virtual_base) continue;  // placed at run time, after everything else
    const Span span = span_of(member);
    if (layout.kind != "union" && span.begin > end) {
      analysis.holes.push_back({end, span.begin - end});
      analysis.hole_bytes += span.begin - end;
    }
    end = std::max(end, span.end);
  }
  // Bytes covered by members, each byte once (bit-fields share bytes).
  if (layout.kind == "union") {
    analysis.member_bytes = end;
  } else {
    std::uint64_t covered = 0;
    std::uint64_t cursor = 0;
    for (std::size_t index : by_offset) {
      const LayoutMember& member = layout.members[index];
      if (member.is_virtual_base) continue;
      const Span span = span_of(member);
      const std::uint64_t begin = std::max(span.begin, cursor);
      if (span.end > begin) covered += span.end - begin;
      cursor = std::max(cursor, span.end);
    }
    analysis.member_bytes = covered;
  }
  analysis.trailing_padding = layout.size > end ? layout.size - end : 0;
  analysis.wasted_bytes = analysis.hole_bytes + analysis.trailing_padding;

  // The suggestion: fixed blocks (bases, the vtable pointer) first, in their order; then the
  // order of the other blocks that gives the smallest size — every order for up to 8 blocks,
  // else the better of largest-alignment-first and smallest-first.
  const std::vector<Block> blocks = blocks_of(layout);
  std::uint64_t fixed_end = 0;
  std::vector<const Block*> movable;
  for (const Block& block : blocks) {
    if (block.fixed) {
      fixed_end = std::max(fixed_end, span_of(layout.members[block.members.front()]).end);
    } else {
      movable.push_back(&block);
    }
  }
  auto size_of_order = [&](const std::vector<const Block*>& order) {
    std::uint64_t offset = fixed_end;
    for (const Block* block : order) offset = round_up(offset, block->alignment) + block->size;
    return round_up(offset, layout.alignment);
  };
  std::vector<const Block*> best = movable;
  std::uint64_t best_size = layout.size;
  if (layout.kind != "union") {
    auto by_alignment_down = [](const Block* a, const Block* b) {
      return a->alignment != b->alignment ? a->alignment > b->alignment : a->size > b->size;
    };
    std::vector<const Block*> order = movable;
    std::stable_sort(order.begin(), order.end(), by_alignment_down);
    auto consider = [&](const std::vector<const Block*>& candidate) {
      const std::uint64_t size = size_of_order(candidate);
      if (size < best_size) {
        best_size = size;
        best = candidate;
      }
    };
    consider(order);
    std::vector<const Block*> reversed(order.rbegin(), order.rend());
    consider(reversed);
    if (order.size() <= 8) {
      std::vector<std::size_t> permutation(order.size());
      for (std::size_t i = 0; i < permutation.size(); ++i) permutation[i] = i;
      std::vector<const Block*> candidate(order.size());
      do {
        for (std::size_t i = 0; i < permutation.size(); ++i) candidate[i] = order[permutation[i]];
        consider(candidate);
      } while (std::next_permutation(permutation.begin(), permutation.end()));
    }
  }
  analysis.suggested_size = best_size;
  for (const Block& block : blocks) {
    if (!block.fixed) continue;
    for (std::size_t index : block.members) analysis.suggested_order.push_back(index);
  }
  if (best_size < layout.size) {
    for (const Block* block : best) {
      for (std::size_t index : block->members) analysis.suggested_order.push_back(index);
    }
  } else {
    analysis.suggested_order.clear();
    for (std::size_t i = 0; i < layout.members.size(); ++i) analysis.suggested_order.push_back(i);
  }
  return analysis;
}

namespace {

std::string member_text(const LayoutMember& member) {
  std::string text;
  if (member.is_base) {
    text = member.is_virtual_base ? "virtual base " : "base ";
    text += member.type_name;
    if (member.data_size > 0 && member.data_size < member.size) {
      text += "  (sizeof " + std::to_string(member.size) + "; members may reuse its " +
              std::to_string(member.size - member.data_size) + "-byte tail padding)";
    }
    return text;
  }
  text = member.type_name;
  text += ' ';
  text += member.name.empty() ? "(anonymous)" : member.name;
  if (member.is_bit_field) {
    const std::uint64_t first = member.bit_offset % 8;
    text += " : " + std::to_string(member.bit_size) + "  (bit " + std::to_string(first);
    if (member.bit_size > 1) text += "-" + std::to_string(first + member.bit_size - 1);
    text += " of byte " + std::to_string(member.bit_offset / 8) + ")";
  }
  if (member.artificial) text += "  (vtable pointer)";
  return text;
}

std::string row(std::uint64_t offset, std::uint64_t size, const std::string& text) {
  char line[64];
  std::snprintf(line, sizeof line, "  %6llu %5llu  ", static_cast<unsigned long long>(offset),
                static_cast<unsigned long long>(size));
  return line + text + "\n";
}

std::string bytes(std::uint64_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

}  // namespace

std::string format_layout(const TypeLayout& layout, const LayoutAnalysis& analysis) {
  std::ostringstream out;
  out << layout.kind << " " << layout.name;
  if (!layout.decl_file.empty()) out << "  (" << layout.decl_file << ":" << layout.decl_line << ")";
  out << "\n  size " << layout.size << ", alignment " << layout.alignment << ", "
      << layout.members.size() << (layout.members.size() == 1 ? " member" : " members") << "\n";
  out << "  offset  size  member\n";

  std::vector<std::size_t> by_offset(layout.members.size());
  for (std::size_t i = 0; i < by_offset.size(); ++i) by_offset[i] = i;
  std::stable_sort(by_offset.begin(), by_offset.end(), [&](std::size_t a, std::size_t b) {
    return span_of(layout.members[a]).begin < span_of(layout.members[b]).begin;
  });
  std::size_t next_hole = 0;
  for (std::size_t index : by_offset) {
    const LayoutMember& member = layout.members[index];
    const Span span = span_of(member);
    while (next_hole < analysis.holes.size() && analysis.holes[next_hole].offset < span.begin) {
      const LayoutGap& hole = analysis.holes[next_hole++];
      out << row(hole.offset, hole.size, "(hole: " + bytes(hole.size) + ")");
    }
    out << row(span.begin, span.end - span.begin, member_text(member));
  }
  if (analysis.trailing_padding > 0) {
    out << row(layout.size - analysis.trailing_padding, analysis.trailing_padding,
               "(trailing padding: " + bytes(analysis.trailing_padding) + ")");
  }

  out << "  members " << bytes(analysis.member_bytes) << ", holes " << bytes(analysis.hole_bytes)
      << " in " << analysis.holes.size() << ", trailing padding "
      << bytes(analysis.trailing_padding) << ": " << bytes(analysis.wasted_bytes) << " wasted";
  if (layout.size > 0) {
    out << " (" << (analysis.wasted_bytes * 100 + layout.size / 2) / layout.size << "%)";
  }
  out << "\n";
  if (analysis.suggested_size < layout.size) {
    out << "  suggested order:";
    const char* separator = " ";
    for (std::size_t index : analysis.suggested_order) {
      const LayoutMember& member = layout.members[index];
      out << separator
          << (member.is_base ? "base " + member.type_name
                             : (member.name.empty() ? "(anonymous)" : member.name));
      separator = ", ";
    }
    out << " -> size " << analysis.suggested_size << " (saves "
        << bytes(layout.size - analysis.suggested_size) << ")\n";
  } else {
    out << "  no member order is smaller\n";
  }
  return out.str();
}

}  // namespace memkit::inspect
