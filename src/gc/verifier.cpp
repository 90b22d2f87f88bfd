// The verifier re-traces every marked object (the same trace() the marker used) and also reads
// each marked object's memory word by word: a word that points at a dead object from an offset
// trace() did not visit is, almost always, a Member missing from trace() — the bug a precise
// collector cannot survive, found here before the sweep frees the target.
#include "verifier.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace memkit::gc::detail {
namespace {

constexpr std::size_t kMaxReportedProblems = 20;

std::string describe_address(const void* address) {
  char text[32];
  std::snprintf(text, sizeof(text), "%p", address);
  return text;
}

}  // namespace

std::string Verifier::run() {
  internals_.for_each_object([&](GcObject* object, std::size_t size) {
    if (is_marked(object)) verify_object(object, size);
  });
  if (problems_ > kMaxReportedProblems) {
    report_.append("  ... and ")
        .append(std::to_string(problems_ - kMaxReportedProblems))
        .append(" more\n");
  }
  return report_;
}

void Verifier::verify_object(GcObject* object, std::size_t size) {
  holder_ = object;
  holder_size_ = size;
  visited_offsets_.clear();
  object->gc_trace(*this);
  // Words that point to dead objects from offsets trace() did not visit. Word 0 is the vtable.
  const auto* words = reinterpret_cast<const std::uintptr_t*>(object);
  for (std::size_t i = 1; i < size / sizeof(std::uintptr_t); ++i) {
    GcObject* target = internals_.find_object(words[i]);
    if (target == nullptr || is_marked(target)) continue;
    const std::size_t offset = i * sizeof(std::uintptr_t);
    if (std::find(visited_offsets_.begin(), visited_offsets_.end(), offset) !=
        visited_offsets_.end()) {
      continue;  // reported by check_reference already
    }
    std::string line = describe_field(&words[i], nullptr);
    line.append(" (not visited by trace()) -> ")
        .append(describe_target(target))
        .append(": a Member missing from trace()?");
    report(std::move(line));
  }
  holder_ = nullptr;
}

void Verifier::visit_strong(const MemberBase& member, const char* field) {
  check_reference(member, field, false);
}

void Verifier::visit_weak(const MemberBase& member, const char* field) {
  check_reference(member, field, true);
}

void Verifier::visit_ephemeron(GcObject* key, const MemberBase& value) {
  if (key == nullptr || !is_marked(key)) return;  // a dead key's entry is removed, not checked
  check_reference(value, "ephemeron value", false);
}

void Verifier::check_reference(const MemberBase& member, const char* field, bool weak) {
  const auto* address = reinterpret_cast<const char*>(&member);
  const auto* holder = reinterpret_cast<const char*>(holder_);
  if (address >= holder && address < holder + holder_size_) {
    visited_offsets_.push_back(static_cast<std::size_t>(address - holder));
  }
  GcObject* target = member.raw_object();
  if (target == nullptr) return;
  const auto value = reinterpret_cast<std::uintptr_t>(target);
  GcObject* found = internals_.find_object(value);
  if (found != target) {
    report(describe_field(&member, field) + " -> " + describe_address(target) +
           ", where no object of this heap starts");
    return;
  }
  if (!is_marked(target)) {
    std::string line = describe_field(&member, field);
    line.append(" -> ").append(describe_target(target));
    line.append(weak ? " (a WeakMember that was not cleared)" : " (traced, but not marked)");
    report(std::move(line));
  }
}

std::string Verifier::describe_field(const void* address, const char* field) const {
  std::string text(holder_->gc_type().name);
  const auto offset = static_cast<const char*>(address) - reinterpret_cast<const char*>(holder_);
  if (field != nullptr) {
    text.append(".").append(field);
  } else if (offset >= 0 && static_cast<std::size_t>(offset) < holder_size_) {
    text.append(" at offset ").append(std::to_string(offset));
  } else {
    text.append(" (a Member outside the object, in a container)");
  }
  return text;
}

std::string Verifier::describe_target(const GcObject* target) const {
  std::string text = "a dead ";
  text.append(target->gc_type().name);
  return text;
}

void Verifier::report(std::string line) {
  ++problems_;
  if (problems_ > kMaxReportedProblems) return;
  report_.append("  ").append(line).append("\n");
}

}  // namespace memkit::gc::detail
