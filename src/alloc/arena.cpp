// The Arena's slow paths: chunk management, destructor running, rewinds and their checks, and the
// messages of every refusal. The fast path (a compare and a bump) is inline in arena.h; it calls
// here only when the current chunk cannot serve a request or the request is not a plain one.
//
// Chunks form one list from the first (kept by reset()) to the newest; the cursor is in
// current_, and the chunks after it are empty ones kept by keep_chunks_on_reset. Dedicated
// chunks — one per oversized request — form a second list, newest first, so they never change
// the growth sequence and a rewind frees them by walking to the checkpoint's head.
#include "memkit/alloc/arena.h"

#include <algorithm>
#include <string>

#include "memkit/alloc/arena_allocator.h"
#include "memkit/alloc/memory_pool.h"
#include "memkit/base/error.h"

namespace memkit {
namespace {

using detail::ArenaChunk;

// Chunks are asked of upstream with this alignment; the header is rounded up to it, so the first
// byte after the header is aligned for any fundamental type.
constexpr std::size_t kChunkAlignment = alignof(std::max_align_t);
constexpr std::size_t kHeaderSize =
    (sizeof(ArenaChunk) + kChunkAlignment - 1) / kChunkAlignment * kChunkAlignment;
// Smaller first chunks are raised to this: below it a header is a large part of each chunk.
constexpr std::size_t kMinChunkSize = 256;

constexpr std::size_t round_up(std::size_t n, std::size_t alignment) {
  return (n + alignment - 1) & ~(alignment - 1);
}

std::size_t padding_at(const std::byte* p, std::size_t alignment) {
  return (std::uintptr_t{0} - reinterpret_cast<std::uintptr_t>(p)) & (alignment - 1);
}

// The bytes a fresh chunk must have to serve a request in the worst case: its data starts
// kChunkAlignment-aligned, so up to alignment - kChunkAlignment bytes of padding come first.
std::size_t fresh_chunk_need(std::size_t size, std::size_t alignment) {
  return kHeaderSize + (alignment > kChunkAlignment ? alignment - kChunkAlignment : 0) + size;
}

bool fits_in(const ArenaChunk& chunk, const std::byte* at, std::size_t size,
             std::size_t alignment) {
  const std::size_t room = static_cast<std::size_t>(chunk.end - at);
  const std::size_t pad = padding_at(at, alignment);
  return pad <= room && size <= room - pad;
}

}  // namespace

// Why refill() returned nullptr, for the message allocate() throws.
struct Arena::Refusal {
  enum class Reason {
    kNone,
    kAlignmentNotPowerOfTwo,
    kAlignmentAbovePage,
    kSizeOverflows,
    kLimitReached,
    kFixedCapacity,
    kUpstreamRefused,
  };
  Reason reason = Reason::kNone;
  std::size_t bytes = 0;  // the chunk that was needed (limit, upstream)

  std::nullptr_t refuse(Reason why, std::size_t chunk_bytes = 0) noexcept {
    reason = why;
    bytes = chunk_bytes;
    return nullptr;
  }
};

// ---- construction and destruction ----------------------------------------------------------

Arena::Arena(const ArenaOptions& options)
    : upstream_(options.upstream),
      first_chunk_size_(std::max(options.first_chunk_size, kMinChunkSize)),
      max_chunk_size_(std::max(options.max_chunk_size, first_chunk_size_)),
      max_capacity_bytes_(options.max_capacity_bytes),
      keep_chunks_on_reset_(options.keep_chunks_on_reset),
      growable_(options.growable),
      name_(options.name) {
  if (growable_ && upstream_ == nullptr) {
    detail::throw_null_pointer(name_, "ArenaOptions::upstream");
  }
}

Arena::Arena(std::span<std::byte> first_chunk, const ArenaOptions& options) : Arena(options) {
  if (first_chunk.empty()) return;
  std::byte* const begin = first_chunk.data();
  std::byte* const end = begin + first_chunk.size();
  buffer_chunk_ = ArenaChunk{nullptr, begin, end, begin, first_chunk.size(), 0};
  first_ = current_ = &buffer_chunk_;
  cursor_ = begin;
  end_ = end;
  capacity_bytes_ = first_chunk.size();
  chunk_count_ = 1;
  poison_memory(begin, first_chunk.size());
}

Arena::~Arena() {
  run_destructors(nullptr);
  release_dedicated(nullptr);
  for (ArenaChunk* chunk = first_; chunk != nullptr;) {
    ArenaChunk* const next = chunk->next;
    if (chunk == &buffer_chunk_) {
      unpoison_memory(chunk->begin, chunk->bytes);  // the caller's again
    } else {
      free_chunk(chunk);
    }
    chunk = next;
  }
  if (liveness_ != nullptr) {
    liveness_->alive = false;
    if (--liveness_->holders == 0) detail::ArenaRef::free_liveness(liveness_);
  }
}

detail::ArenaLiveness* Arena::liveness() {
  if (liveness_ == nullptr) liveness_ = new detail::ArenaLiveness{};
  return liveness_;
}

// ---- allocation's slow path ----------------------------------------------------------------

void* Arena::allocate_slow(std::size_t size, std::size_t alignment, std::string_view operation) {
  Refusal refusal;
  if (void* p = refill(size, alignment, refusal)) return p;

  using Reason = Refusal::Reason;
  std::string reason;
  switch (refusal.reason) {
    case Reason::kAlignmentNotPowerOfTwo:
      reason = "alignment is not a power of two";
      break;
    case Reason::kAlignmentAbovePage:
      reason = "alignment exceeds the page size (4096)";
      break;
    case Reason::kSizeOverflows:
      reason.append("size overflows (the largest request is ")
          .append(std::to_string(kMaxRequest))
          .append(" bytes)");
      break;
    case Reason::kLimitReached:
      reason.append("limit of ")
          .append(std::to_string(max_capacity_bytes_))
          .append(" bytes reached (")
          .append(std::to_string(capacity_bytes_))
          .append(" held, a chunk of ")
          .append(std::to_string(refusal.bytes))
          .append(" more needed)");
      break;
    case Reason::kFixedCapacity:
      reason.append("fixed capacity of ")
          .append(std::to_string(capacity_bytes_))
          .append(" bytes exhausted (")
          .append(std::to_string(static_cast<std::size_t>(end_ - cursor_)))
          .append(" left)");
      break;
    case Reason::kUpstreamRefused:
      reason.append("upstream refused a chunk of ")
          .append(std::to_string(refusal.bytes))
          .append(" bytes");
      break;
    case Reason::kNone:
      reason = "refused";  // unreachable: refill() gives a reason with every nullptr
      break;
  }
  detail::throw_alloc_error(name_, operation, size, alignment, reason);
}

void* Arena::try_allocate_slow(std::size_t size, std::size_t alignment) noexcept {
  Refusal refusal;
  try {
    return refill(size, alignment, refusal);
  } catch (...) {  // an upstream that throws something other than std::bad_alloc
    return nullptr;
  }
}

void* Arena::refill(std::size_t size, std::size_t alignment, Refusal& refusal) {
  using Reason = Refusal::Reason;
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    return refusal.refuse(Reason::kAlignmentNotPowerOfTwo);
  }
  if (alignment > kMaxAlignment) return refusal.refuse(Reason::kAlignmentAbovePage);
  if (size > kMaxRequest) return refusal.refuse(Reason::kSizeOverflows);

  // The fast path leaves an exact fit to us.
  if (current_ != nullptr && fits_in(*current_, cursor_, size, alignment)) {
    return bump(cursor_, align_up(cursor_, alignment), size);
  }

  // A request that would take more than a quarter of the next chunk gets a chunk of its own:
  // moving on for it would skip the rest of the current chunk, and growing for it would make
  // the sequence jump. Without a current chunk nothing is skipped: the first chunk serves any
  // request it can hold.
  const std::size_t need = fresh_chunk_need(size, alignment);
  const std::size_t next_size = next_chunk_size();
  if (need > next_size || (current_ != nullptr && need > next_size / 4)) {
    return allocate_dedicated(size, alignment, refusal);
  }

  ArenaChunk* next = current_ != nullptr ? current_->next : nullptr;
  if (next != nullptr) {  // kept by keep_chunks_on_reset
    if (!fits_in(*next, next->begin, size, alignment)) {
      return allocate_dedicated(size, alignment, refusal);
    }
  } else {
    next = acquire_chunk(next_size, need, refusal);
    if (next == nullptr) return nullptr;
    if (current_ != nullptr) {
      current_->next = next;
    } else {
      first_ = next;
    }
  }
  advance_to(next);
  return bump(cursor_, align_up(cursor_, alignment), size);
}

void* Arena::allocate_dedicated(std::size_t size, std::size_t alignment, Refusal& refusal) {
  using Reason = Refusal::Reason;
  const std::size_t chunk_alignment = std::max(alignment, kChunkAlignment);
  const std::size_t offset = round_up(kHeaderSize, chunk_alignment);
  const std::size_t bytes = offset + size;
  if (!growable_) return refusal.refuse(Reason::kFixedCapacity, bytes);
  if (bytes > budget()) return refusal.refuse(Reason::kLimitReached, bytes);
  void* memory = nullptr;
  try {
    memory = upstream_->allocate(bytes, chunk_alignment);
  } catch (const std::bad_alloc&) {
    return refusal.refuse(Reason::kUpstreamRefused, bytes);
  }
  std::byte* const base = static_cast<std::byte*>(memory);
  std::byte* const begin = base + offset;
  dedicated_ = ::new (memory)
      ArenaChunk{dedicated_, begin, begin + size, begin + size, bytes, chunk_alignment};
  capacity_bytes_ += bytes;
  ++chunk_count_;
  dedicated_used_ += size;
  dedicated_slack_ += offset;
  ++allocations_;
  unpoison_memory(begin, size);
  return begin;
}

ArenaChunk* Arena::acquire_chunk(std::size_t wanted, std::size_t needed, Refusal& refusal) {
  using Reason = Refusal::Reason;
  if (!growable_) return refusal.refuse(Reason::kFixedCapacity, needed);
  // Under a limit the last chunk shrinks to what is left, so the limit is reached exactly.
  const std::size_t bytes = std::min(wanted, budget());
  if (bytes < needed) return refusal.refuse(Reason::kLimitReached, needed);
  void* memory = nullptr;
  try {
    memory = upstream_->allocate(bytes, kChunkAlignment);
  } catch (const std::bad_alloc&) {
    return refusal.refuse(Reason::kUpstreamRefused, bytes);
  }
  std::byte* const base = static_cast<std::byte*>(memory);
  std::byte* const begin = base + kHeaderSize;
  auto* chunk =
      ::new (memory) ArenaChunk{nullptr, begin, base + bytes, begin, bytes, kChunkAlignment};
  poison_memory(begin, bytes - kHeaderSize);
  capacity_bytes_ += bytes;
  ++chunk_count_;
  header_bytes_ += kHeaderSize;
  return chunk;
}

// Leaves the current chunk for `chunk`; what was not used of the current one is skipped for
// good (until a reset() or rewind() comes back to it).
void Arena::advance_to(ArenaChunk* chunk) noexcept {
  if (current_ != nullptr) {
    current_->stop = cursor_;
    retired_used_ += static_cast<std::size_t>(cursor_ - current_->begin);
    retired_tail_ += static_cast<std::size_t>(current_->end - cursor_);
  }
  current_ = chunk;
  cursor_ = chunk->begin;
  end_ = chunk->end;
}

// Twice the current chunk, between first_chunk_size and max_chunk_size.
std::size_t Arena::next_chunk_size() const noexcept {
  if (current_ == nullptr) return first_chunk_size_;
  const std::size_t current = current_->bytes;
  if (current >= max_chunk_size_ / 2) return max_chunk_size_;
  return std::max(2 * current, first_chunk_size_);
}

std::size_t Arena::budget() const noexcept {
  return capacity_bytes_ < max_capacity_bytes_ ? max_capacity_bytes_ - capacity_bytes_ : 0;
}

// ---- giving memory back --------------------------------------------------------------------

void Arena::run_destructors(detail::DestructorRecord* stop) noexcept {
  // Unlinked before it runs: a destructor that makes new arena objects links them in front of
  // the rest, and they are destroyed in turn.
  while (destructors_ != stop) {
    detail::DestructorRecord* const record = destructors_;
    destructors_ = record->next;
    --destructor_count_;
    record->destroy(record);
  }
}

void Arena::release_dedicated(ArenaChunk* stop) noexcept {
  while (dedicated_ != stop) {
    ArenaChunk* const chunk = dedicated_;
    dedicated_ = chunk->next;
    dedicated_used_ -= static_cast<std::size_t>(chunk->end - chunk->begin);
    dedicated_slack_ -=
        static_cast<std::size_t>(chunk->begin - reinterpret_cast<std::byte*>(chunk));
    capacity_bytes_ -= chunk->bytes;
    --chunk_count_;
    upstream_->deallocate(chunk, chunk->bytes, chunk->alignment);
  }
}

// The chunks after `chunk` are emptied: poisoned and kept, or returned upstream.
void Arena::release_chunks_after(ArenaChunk* chunk) noexcept {
  if (keep_chunks_on_reset_) {
    for (ArenaChunk* kept = chunk->next; kept != nullptr; kept = kept->next) {
      kept->stop = kept->begin;
      poison_memory(kept->begin, static_cast<std::size_t>(kept->end - kept->begin));
    }
    return;
  }
  for (ArenaChunk* freed = chunk->next; freed != nullptr;) {
    ArenaChunk* const next = freed->next;
    free_chunk(freed);
    freed = next;
  }
  chunk->next = nullptr;
}

void Arena::free_chunk(ArenaChunk* chunk) noexcept {
  // Unpoisoned first: upstream may hand the memory to someone who is not an arena.
  unpoison_memory(chunk->begin, static_cast<std::size_t>(chunk->end - chunk->begin));
  capacity_bytes_ -= chunk->bytes;
  --chunk_count_;
  header_bytes_ -= kHeaderSize;
  upstream_->deallocate(chunk, chunk->bytes, chunk->alignment);
}

void Arena::reset() noexcept {
  const std::size_t used = used_bytes();
  peak_bytes_ = std::max<std::uint64_t>(peak_bytes_, used);
  released_bytes_ += used;
  released_blocks_ += allocations_;
  run_destructors(nullptr);
  release_dedicated(nullptr);
  if (first_ != nullptr) {
    release_chunks_after(first_);
    current_ = first_;
    cursor_ = first_->begin;
    end_ = first_->end;
    first_->stop = first_->begin;
    poison_memory(cursor_, static_cast<std::size_t>(end_ - cursor_));
  }
  allocations_ = 0;
  retired_used_ = 0;
  retired_tail_ = 0;
  ++generation_;
  history_.clear();
}

void Arena::rewind(const Checkpoint& checkpoint) {
  if (checkpoint.arena_ != this) {
    detail::throw_invalid_checkpoint(name_, "rewind()", "a checkpoint of another arena");
  }
  if (checkpoint.generation_ != generation_) {
    detail::throw_invalid_checkpoint(name_, "rewind()",
                                     "a checkpoint taken before the last reset()");
  }
  if (checkpoint.height_ > allocations_ ||
      history_.went_below(checkpoint.time_, checkpoint.height_)) {
    detail::throw_invalid_checkpoint(name_, "rewind()",
                                     "a checkpoint that an earlier rewind() already released");
  }
  // Nothing was allocated since (the height only grows by allocating): nothing to undo.
  if (checkpoint.height_ == allocations_) return;

  const std::size_t used_before = used_bytes();
  const std::uint64_t now = released_blocks_ + allocations_;
  peak_bytes_ = std::max<std::uint64_t>(peak_bytes_, used_before);

  run_destructors(checkpoint.destructors_);
  release_dedicated(checkpoint.dedicated_);
  // A checkpoint taken before the first chunk existed returns to the start of the first chunk,
  // which stays, as with reset().
  ArenaChunk* const target = checkpoint.chunk_ != nullptr ? checkpoint.chunk_ : first_;
  if (target != nullptr) {
    for (ArenaChunk* chunk = target; chunk != current_; chunk = chunk->next) {
      retired_used_ -= static_cast<std::size_t>(chunk->stop - chunk->begin);
      retired_tail_ -= static_cast<std::size_t>(chunk->end - chunk->stop);
    }
    release_chunks_after(target);
    current_ = target;
    cursor_ = checkpoint.chunk_ != nullptr ? checkpoint.cursor_ : target->begin;
    end_ = target->end;
    poison_memory(cursor_, static_cast<std::size_t>(end_ - cursor_));
  }
  released_blocks_ += allocations_ - checkpoint.height_;
  allocations_ = checkpoint.height_;
  released_bytes_ += used_before - used_bytes();
  history_.record(now, checkpoint.height_);
}

// ---- stats ---------------------------------------------------------------------------------

ArenaStats Arena::stats() const noexcept {
  ArenaStats stats;
  stats.used_bytes = used_bytes();
  stats.capacity_bytes = capacity_bytes_;
  stats.chunks = chunk_count_;
  stats.wasted_bytes = header_bytes_ + retired_tail_ + dedicated_slack_;
  stats.allocations = allocations_;
  stats.destructors = destructor_count_;
  return stats;
}

MemoryStats Arena::memory_stats() const {
  const ArenaStats now = stats();
  MemoryStats stats;
  stats.source = std::string(name_);
  stats.counts.allocations = released_blocks_ + allocations_;
  stats.counts.frees = released_blocks_;
  stats.counts.live_bytes = now.used_bytes;
  stats.counts.live_blocks = now.allocations;
  stats.counts.peak_bytes = std::max<std::uint64_t>(peak_bytes_, now.used_bytes);
  stats.counts.total_bytes = released_bytes_ + now.used_bytes;
  Footprint footprint;
  footprint.capacity_bytes = now.capacity_bytes;
  footprint.chunks = now.chunks;
  footprint.wasted_bytes = now.wasted_bytes;
  stats.footprint = footprint;
  return stats;
}

// ---- the rewind history --------------------------------------------------------------------

namespace detail {

bool RewindHistory::went_below(std::uint64_t time, std::uint64_t height) const noexcept {
  // Entries are oldest first with rising heights: the first one at or after `time` is the
  // lowest of those.
  for (std::size_t i = 0; i < size_; ++i) {
    if (entries_[i].time >= time) return entries_[i].height < height;
  }
  return false;
}

void RewindHistory::record(std::uint64_t time, std::uint64_t height) noexcept {
  // An older rewind that went no lower tells nothing this one does not.
  while (size_ > 0 && entries_[size_ - 1].height >= height) --size_;
  if (size_ == kCapacity) {
    entries_[1].height = entries_[0].height;
    std::copy(entries_ + 1, entries_ + size_, entries_);
    --size_;
  }
  entries_[size_++] = Entry{time, height};
}

// ---- adapters ------------------------------------------------------------------------------

ArenaRef::ArenaRef(Arena& arena) : arena_(&arena), liveness_(arena.liveness()) {
  ++liveness_->holders;
}

void ArenaRef::free_liveness(ArenaLiveness* liveness) noexcept { delete liveness; }

void throw_too_many_elements(std::string_view allocator, std::size_t count,
                             std::size_t element_size, std::size_t alignment) {
  std::string reason("size overflows (");
  reason.append(std::to_string(count))
      .append(" elements of ")
      .append(std::to_string(element_size))
      .append(" bytes)");
  throw_alloc_error(allocator, "allocate", static_cast<std::size_t>(-1), alignment, reason);
}

}  // namespace detail

ArenaResource::~ArenaResource() = default;

void* ArenaResource::do_allocate(std::size_t bytes, std::size_t alignment) {
  return arena_.get(kName, "allocate()").allocate(bytes, alignment);
}

void ArenaResource::do_deallocate(void*, std::size_t, std::size_t) {}

bool ArenaResource::do_is_equal(const std::pmr::memory_resource& other) const noexcept {
  return this == &other;
}

void ArenaScope::end_of_scope(Arena& arena, const Arena::Checkpoint& checkpoint) noexcept {
  try {
    arena.rewind(checkpoint);
  } catch (const InvalidCheckpoint& e) {
    detail::fatal(std::string("memkit::ArenaScope: ").append(e.what()));
  }
}

// ---- MemoryPool ----------------------------------------------------------------------------

namespace {

constexpr std::string_view kMemoryPoolName = "memkit::MemoryPool";

ArenaOptions fixed_options() {
  ArenaOptions options;
  options.growable = false;
  options.upstream = nullptr;
  options.name = kMemoryPoolName;
  return options;
}

std::unique_ptr<std::byte[]> pool_buffer(std::size_t capacity) {
  if (capacity > Arena::kMaxRequest) {
    detail::throw_alloc_error(kMemoryPoolName, "MemoryPool", capacity, kChunkAlignment,
                              "size overflows");
  }
  try {
    return std::unique_ptr<std::byte[]>(new std::byte[capacity]);
  } catch (const std::bad_alloc&) {
    detail::throw_alloc_error(kMemoryPoolName, "MemoryPool", capacity, kChunkAlignment,
                              "could not obtain the buffer");
  }
}

}  // namespace

MemoryPool::MemoryPool(std::size_t capacity_bytes)
    : capacity_(capacity_bytes),
      buffer_(pool_buffer(capacity_bytes)),
      arena_(std::span<std::byte>(buffer_.get(), capacity_bytes), fixed_options()) {}

MemoryPool::~MemoryPool() = default;

void MemoryPool::check_alignment(std::size_t size, std::size_t alignment) const {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    detail::throw_alloc_error(kMemoryPoolName, "allocate", size, alignment,
                              "alignment is not a power of two");
  }
  if (alignment > Arena::kMaxAlignment) {
    detail::throw_alloc_error(kMemoryPoolName, "allocate", size, alignment,
                              "alignment exceeds the page size (4096)");
  }
}

}  // namespace memkit
