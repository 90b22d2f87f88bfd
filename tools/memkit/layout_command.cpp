// memkit layout: read the layouts with memkit::dwarf, print them as text or JSON.
#include "layout_command.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "memkit/base/error.h"
#include "memkit/inspect/dwarf_layout.h"
#include "memkit/inspect/type_layout.h"

namespace memkit_tool {
namespace {

using memkit::inspect::LayoutAnalysis;
using memkit::inspect::TypeLayout;

nlohmann::ordered_json to_json(const TypeLayout& layout, const LayoutAnalysis& analysis) {
  nlohmann::ordered_json json;
  json["name"] = layout.name;
  json["kind"] = layout.kind;
  json["size"] = layout.size;
  json["alignment"] = layout.alignment;
  json["decl_file"] = layout.decl_file;
  json["decl_line"] = layout.decl_line;
  nlohmann::ordered_json members = nlohmann::ordered_json::array();
  for (const auto& member : layout.members) {
    nlohmann::ordered_json m;
    m["name"] = member.name;
    m["type"] = member.type_name;
    m["offset"] = member.offset;
    m["size"] = member.size;
    m["alignment"] = member.alignment;
    m["base"] = member.is_base;
    m["virtual_base"] = member.is_virtual_base;
    m["artificial"] = member.artificial;
    if (member.is_bit_field) {
      m["bit_offset"] = member.bit_offset;
      m["bit_size"] = member.bit_size;
    }
    members.push_back(std::move(m));
  }
  json["members"] = std::move(members);
  nlohmann::ordered_json holes = nlohmann::ordered_json::array();
  for (const auto& hole : analysis.holes)
    holes.push_back({{"offset", hole.offset}, {"size", hole.size}});
  json["holes"] = std::move(holes);
  json["hole_bytes"] = analysis.hole_bytes;
  json["trailing_padding"] = analysis.trailing_padding;
  json["member_bytes"] = analysis.member_bytes;
  json["wasted_bytes"] = analysis.wasted_bytes;
  nlohmann::ordered_json order = nlohmann::ordered_json::array();
  for (std::size_t index : analysis.suggested_order) {
    const auto& member = layout.members[index];
    order.push_back(member.is_base ? member.type_name : member.name);
  }
  json["suggested_order"] = std::move(order);
  json["suggested_size"] = analysis.suggested_size;
  return json;
}

}  // namespace

LayoutCommand::LayoutCommand(CLI::App& parent) {
  app_ = parent.add_subcommand(
      "layout",
      "Show struct layouts from a binary's debug information: offsets, holes, padding, and a "
      "member order that wastes less");
  app_->require_subcommand(0, 0);
  app_->add_flag("--json", json_, "Print JSON: an array of {name, size, members, holes, ...}");
  app_->add_option("binary", binary_, "An executable, library or object file built with -g")
      ->required();
  app_->add_option("types", types_,
                   "Struct, class or union names (qualified or not); default: all outside /usr");
  app_->footer("Examples:\n  memkit layout ./server Connection\n  memkit layout --json ./app.o");
}

int LayoutCommand::run() const {
  try {
    const auto layouts = memkit::inspect::read_type_layouts(binary_, types_);
    if (json_) {
      nlohmann::ordered_json all = nlohmann::ordered_json::array();
      for (const TypeLayout& layout : layouts) {
        all.push_back(to_json(layout, memkit::inspect::analyze(layout)));
      }
      std::cout << all.dump(2) << "\n";
      return 0;
    }
    bool first = true;
    for (const TypeLayout& layout : layouts) {
      if (!first) std::cout << "\n";
      first = false;
      std::cout << memkit::inspect::format_layout(layout, memkit::inspect::analyze(layout));
    }
    if (layouts.empty()) std::cout << "(no struct, class or union defined outside /usr)\n";
    return 0;
  } catch (const memkit::InspectError& error) {
    std::cerr << error.what() << "\n";
    return 1;
  }
}

}  // namespace memkit_tool
