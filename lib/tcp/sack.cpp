#include "tern/tcp/sack.hpp"

#include <algorithm>

namespace tern::tcp {

namespace {

using wire::SeqNum;

// Octets from a to b, b >= a in sequence space.
constexpr uint32_t span_len(SeqNum a, SeqNum b) noexcept { return b.v - a.v; }

// Offset of s above base modulo 2^32: exact for s in [base, base + 2^32).
constexpr uint32_t offset(SeqNum base, SeqNum s) noexcept { return s.v - base.v; }

// The state of RFC 6675 §4 IsLost() for octets below some SACKed ranges.
struct Above {
  uint32_t ranges = 0;  // discontiguous SACKed ranges above
  uint64_t bytes = 0;   // SACKed octets above
};

// RFC 6675 §4 IsLost(): DupThresh discontiguous SACKed sequences above, or more than
// (DupThresh - 1) * SMSS SACKed octets above.
constexpr bool lost(const Above& a, uint32_t mss, uint32_t dupthresh) noexcept {
  const uint32_t dt = std::max<uint32_t>(dupthresh, 1);
  return a.ranges >= dt || a.bytes > uint64_t{dt - 1} * mss;
}

}  // namespace

void SackScoreboard::reset() noexcept {
  count_ = 0;
  sacked_ = 0;
}

void SackScoreboard::clip(SeqNum snd_una, SeqNum snd_nxt) noexcept {
  uint32_t out = 0;
  for (uint32_t i = 0; i < count_; ++i) {
    Range r = ranges_[i];
    // RFC 6675 §5 / RFC 2018 §3: octets below the cumulative ACK are delivered; forget them.
    const SeqNum left = wire::seq_max(r.left, snd_una);
    // Octets at or above SND.NXT were never sent (only after the caller rewinds SND.NXT).
    const SeqNum right = wire::seq_min(r.right, snd_nxt);
    if (left >= right) {
      sacked_ -= span_len(r.left, r.right);
      continue;
    }
    sacked_ -= span_len(r.left, r.right) - span_len(left, right);
    ranges_[out++] = Range{left, right};
  }
  count_ = out;
}

void SackScoreboard::insert(SeqNum left, SeqNum right) noexcept {
  // First range that overlaps or touches [left, right) (right >= left), then one past the last.
  uint32_t i = 0;
  while (i < count_ && ranges_[i].right < left) ++i;
  uint32_t j = i;
  while (j < count_ && ranges_[j].left <= right) ++j;

  if (i == j) {
    // Disjoint: insert at i. When full, forget the highest range (documented bound).
    if (count_ == kMaxRanges) {
      ++dropped_;
      if (i == count_) return;  // the new range is itself the highest
      --count_;
      sacked_ -= span_len(ranges_[count_].left, ranges_[count_].right);
    }
    std::copy_backward(ranges_.begin() + i, ranges_.begin() + count_, ranges_.begin() + count_ + 1);
    ranges_[i] = Range{left, right};
    ++count_;
    sacked_ += span_len(left, right);
    return;
  }

  // RFC 6675 §3: the scoreboard holds the union of the reported blocks; merge ranges i..j-1.
  const Range merged{wire::seq_min(left, ranges_[i].left), wire::seq_max(right, ranges_[j - 1].right)};
  for (uint32_t k = i; k < j; ++k) sacked_ -= span_len(ranges_[k].left, ranges_[k].right);
  sacked_ += span_len(merged.left, merged.right);
  ranges_[i] = merged;
  std::copy(ranges_.begin() + j, ranges_.begin() + count_, ranges_.begin() + i + 1);
  count_ -= j - i - 1;
}

uint32_t SackScoreboard::update(SeqNum snd_una, SeqNum snd_nxt,
                                std::span<const wire::SackBlock> blocks) noexcept {
  una_ = snd_una;
  clip(snd_una, snd_nxt);
  const uint32_t before = sacked_;
  const uint32_t window = offset(snd_una, snd_nxt);

  // Valid when snd_una <= left < right <= snd_nxt, using offsets from snd_una (exact across 2^32).
  auto valid = [&](const wire::SackBlock& b) {
    return offset(snd_una, b.left) < offset(snd_una, b.right) && offset(snd_una, b.right) <= window;
  };
  // RFC 2883 §4: a first block inside the second block reports a duplicate (D-SACK).
  const bool dsack_above_una = blocks.size() >= 2 && valid(blocks[0]) && valid(blocks[1]) &&
                               offset(snd_una, blocks[0].left) >= offset(snd_una, blocks[1].left) &&
                               offset(snd_una, blocks[0].right) <= offset(snd_una, blocks[1].right);

  for (size_t n = 0; n < blocks.size(); ++n) {
    const wire::SackBlock& b = blocks[n];
    // RFC 2883 §4: a block starting below the cumulative ACK is a D-SACK; RFC 2018 §3: blocks
    // only cover sent data. Neither adds to the scoreboard.
    if (!valid(b) || (n == 0 && dsack_above_una)) {
      ++ignored_;
      continue;
    }
    insert(b.left, b.right);
  }
  return sacked_ > before ? sacked_ - before : 0;
}

bool SackScoreboard::is_sacked(SeqNum s) const noexcept {
  for (uint32_t i = 0; i < count_; ++i) {
    if (s < ranges_[i].left) return false;
    if (s < ranges_[i].right) return true;
  }
  return false;
}

bool SackScoreboard::is_lost(SeqNum seq, uint32_t mss, uint32_t dupthresh) const noexcept {
  // RFC 6675 §4 IsLost(SeqNum): count SACKed ranges and octets strictly above seq.
  const SeqNum above = seq + 1;
  Above a;
  for (uint32_t k = count_; k-- > 0;) {
    const Range& r = ranges_[k];
    if (r.right <= above) break;  // this and all lower ranges end at or below seq
    ++a.ranges;
    a.bytes += span_len(wire::seq_max(r.left, above), r.right);
    if (lost(a, mss, dupthresh)) return true;
  }
  return false;
}

uint32_t SackScoreboard::pipe(SeqNum snd_una, SeqNum snd_nxt, SeqNum high_rxt, uint32_t mss,
                              uint32_t dupthresh) const noexcept {
  const uint32_t window = offset(snd_una, snd_nxt);
  // high_rxt as an offset clamped to [0, window]; at or below snd_una means nothing retransmitted.
  const uint32_t rxt = high_rxt <= snd_una ? 0 : std::min(offset(snd_una, high_rxt), window);

  // RFC 6675 §4 SetPipe(): walk the holes from the top down, so the SACKed ranges above the
  // current hole (what IsLost() looks at) are those already passed.
  uint64_t pipe = 0;
  Above a;
  uint32_t hole_end = window;
  for (uint32_t k = count_ + 1; k-- > 0;) {
    uint32_t range_left = 0;
    uint32_t range_right = 0;
    if (k > 0) {
      const Range& r = ranges_[k - 1];
      const SeqNum left = wire::seq_max(r.left, snd_una);
      const SeqNum right = wire::seq_min(r.right, snd_nxt);
      if (left >= right) continue;  // outside [snd_una, snd_nxt)
      range_left = offset(snd_una, left);
      range_right = offset(snd_una, right);
    }
    // The hole [range_right, hole_end): every octet is unSACKed and has the same IsLost().
    if (range_right < hole_end) {
      // RFC 6675 §4 SetPipe (a): octets not deemed lost are in flight.
      if (!lost(a, mss, dupthresh)) pipe += hole_end - range_right;
      // RFC 6675 §4 SetPipe (b): retransmitted octets (below high_rxt) are in flight (again).
      if (rxt > range_right) pipe += std::min(rxt, hole_end) - range_right;
    }
    ++a.ranges;
    a.bytes += range_right - range_left;
    hole_end = range_left;
  }
  return static_cast<uint32_t>(pipe);
}

std::optional<SackScoreboard::Seg> SackScoreboard::next_seg(SeqNum snd_una, SeqNum high_rxt, uint32_t mss,
                                                            bool rule3, uint32_t dupthresh) const noexcept {
  if (mss == 0) return std::nullopt;
  // RFC 6675 §4 NextSeg (1.a): S2 > HighRxt (here: at or above the exclusive high_rxt).
  const SeqNum start = wire::seq_max(snd_una, high_rxt);

  // Everything SACKed above snd_una is above the first hole; subtract ranges as they are passed.
  Above a;
  for (uint32_t k = 0; k < count_; ++k) {
    if (ranges_[k].right <= snd_una) continue;
    ++a.ranges;
    a.bytes += span_len(wire::seq_max(ranges_[k].left, snd_una), ranges_[k].right);
  }

  std::optional<Seg> first;  // rule 3 candidate
  SeqNum hole_start = snd_una;
  // RFC 6675 §4 NextSeg (1.b): S2 below the highest SACKed octet, so only holes below a range.
  for (uint32_t k = 0; k < count_; ++k) {
    const Range& r = ranges_[k];
    if (r.right <= snd_una) continue;
    const SeqNum left = wire::seq_max(r.left, snd_una);
    const SeqNum s = wire::seq_max(hole_start, start);
    if (s < left) {
      // Up to SMSS octets, stopping at the SACKed range above.
      const Seg seg{s, std::min(mss, span_len(s, left))};
      // RFC 6675 §4 NextSeg (1.c): IsLost(S2), constant across the hole.
      if (lost(a, mss, dupthresh)) return seg;
      // RFC 6675 §4 NextSeg (3): the lowest S3 meeting (1.a) and (1.b), used only if rule 1 fails.
      if (!first) first = seg;
    }
    --a.ranges;
    a.bytes -= span_len(left, r.right);
    hole_start = r.right;
  }
  if (rule3) return first;
  return std::nullopt;
}

}  // namespace tern::tcp
