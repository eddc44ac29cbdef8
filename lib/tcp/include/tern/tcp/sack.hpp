/**
 * @file
 * The sender's SACK scoreboard (RFC 2018, RFC 6675): which octets of the
 * outstanding data [SND.UNA, SND.NXT) the receiver has reported as received,
 * and the RFC 6675 §4 routines built on it: IsLost(), SetPipe() and the
 * retransmission rules of NextSeg().
 *
 * Conventions:
 *  - Ranges are half-open [left, right) like wire::SackBlock, kept sorted in
 *    ascending sequence order, disjoint and non-adjacent (touching ranges are
 *    merged), all inside [snd_una, snd_nxt] of the last update().
 *  - All sequence numbers of interest lie within 2^31 of each other (the send
 *    window is smaller than 2^31, RFC 9293 §3.4 / RFC 7323 §2.3), so the
 *    wrap-safe comparisons of wire::SeqNum are exact across 2^32.
 *  - `high_rxt` is one past the highest octet retransmitted in the current
 *    recovery (an exclusive end, like SND.NXT); RFC 6675 §2 defines HighRxt
 *    as that highest octet itself. Start recovery with high_rxt = snd_una and
 *    after retransmitting a Seg set high_rxt = seg.seq + seg.len.
 *
 * Bounded storage: at most kMaxRanges ranges are kept. When a new, disjoint
 * range arrives while full, the highest range (possibly the new one) is
 * forgotten; its octets are then treated as not SACKed, which can only cause
 * an unnecessary retransmission and a larger pipe estimate (the conservative
 * direction), never a missed one. dropped_ranges() counts these.
 *
 * No allocation: the scoreboard is a fixed array plus counters.
 */
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "tern/wire/seq.hpp"
#include "tern/wire/tcp.hpp"

namespace tern::tcp {

/** Per-connection record of SACKed sequence ranges above SND.UNA (RFC 6675 §3 "scoreboard"). */
class SackScoreboard {
 public:
  /**
   * The most ranges kept. A receiver reports at most 4 blocks per ACK (RFC 2018 §3),
   * so 32 covers up to 32 simultaneous holes; beyond that the highest range is dropped.
   */
  static constexpr size_t kMaxRanges = 32;

  /** One SACKed range [left, right); left < right. */
  struct Range {
    wire::SeqNum left;   ///< first SACKed octet
    wire::SeqNum right;  ///< one past the last SACKed octet
    friend constexpr bool operator==(const Range&, const Range&) = default;
  };

  /** A segment to (re)transmit: @p len octets starting at @p seq. */
  struct Seg {
    wire::SeqNum seq;  ///< first octet
    uint32_t len = 0;  ///< octets, 1..mss
    friend constexpr bool operator==(const Seg&, const Seg&) = default;
  };

  /**
   * Forget every SACKed range. The caller decides when: RFC 2018 §8 says the
   * sender SHOULD NOT keep SACK information after a retransmission timeout,
   * RFC 6675 §5.1 allows keeping it. The counters (ignored_blocks(),
   * dropped_ranges()) are statistics and are not cleared.
   */
  void reset() noexcept;

  /**
   * Process the SACK blocks of an acceptable ACK.
   *
   * First every range is clipped to [snd_una, snd_nxt) (octets below the
   * cumulative ACK are delivered and forgotten). Then each block is added and
   * merged when it lies inside the outstanding data, snd_una <= left < right <=
   * snd_nxt. Ignored (and counted in ignored_blocks()):
   *  - empty or reversed blocks, blocks reaching above snd_nxt (RFC 2018 §3
   *    blocks only report data that was sent);
   *  - blocks starting below snd_una: a D-SACK (RFC 2883 §4, first block
   *    below the cumulative ACK) or stale information;
   *  - the first block when it lies inside the second: a D-SACK for data
   *    above the cumulative ACK (RFC 2883 §4).
   *
   * @param snd_una the cumulative ACK after this segment (SND.UNA).
   * @param snd_nxt one past the highest octet sent (SND.NXT); snd_una <= snd_nxt < snd_una + 2^31.
   * @param blocks  the segment's SACK blocks in the order received (0..4 in practice; any count works).
   * @return the growth of sacked_bytes() caused by the blocks, in octets (0 when it shrank through
   *         a capacity drop): what RFC 6937 counts as newly SACKed for DeliveredData.
   */
  uint32_t update(wire::SeqNum snd_una, wire::SeqNum snd_nxt,
                  std::span<const wire::SackBlock> blocks) noexcept;

  /** True when no octet is SACKed. */
  bool empty() const noexcept { return count_ == 0; }
  /** Number of ranges, 0..kMaxRanges. */
  size_t size() const noexcept { return count_; }
  /** The ranges, ascending, disjoint and non-adjacent; valid until the next non-const call. */
  std::span<const Range> ranges() const noexcept { return std::span<const Range>(ranges_.data(), count_); }

  /** True when octet @p s lies in a SACKed range. */
  bool is_sacked(wire::SeqNum s) const noexcept;
  /** Total SACKed octets over all ranges. */
  uint32_t sacked_bytes() const noexcept { return sacked_; }
  /** One past the highest SACKed octet (right edge of the top range); the last snd_una when empty. */
  wire::SeqNum highest_sacked() const noexcept { return count_ == 0 ? una_ : ranges_[count_ - 1].right; }

  /**
   * RFC 6675 §4 IsLost(SeqNum): true when at least @p dupthresh discontiguous
   * SACKed ranges hold octets above @p seq, or more than (dupthresh - 1) * mss
   * octets above @p seq are SACKed.
   * @param seq       the octet asked about (normally an unSACKed one).
   * @param mss       the sender's SMSS in octets.
   * @param dupthresh DupThresh (RFC 6675 §2, default 3); 0 is treated as 1.
   */
  bool is_lost(wire::SeqNum seq, uint32_t mss, uint32_t dupthresh = 3) const noexcept;

  /**
   * RFC 6675 §4 SetPipe(): octets estimated in flight. For each unSACKed
   * octet S1 in [snd_una, snd_nxt): +1 if !IsLost(S1), and +1 if S1 <
   * high_rxt (it was retransmitted in this recovery; see the file comment
   * for the exclusive high_rxt). Computed per hole, not per octet: IsLost is
   * constant across a hole, because the SACKed octets above any octet of a
   * hole are exactly those above the hole.
   * @param snd_una   HighACK + 1 (SND.UNA).
   * @param snd_nxt   one past HighData (SND.NXT); snd_una <= snd_nxt < snd_una + 2^31.
   * @param high_rxt  one past the highest retransmitted octet; values outside (snd_una, snd_nxt]
   *                  are clamped to that interval.
   * @param mss       SMSS in octets.
   * @param dupthresh DupThresh (default 3); 0 is treated as 1.
   * @return pipe in octets, at most 2 * (snd_nxt - snd_una).
   */
  uint32_t pipe(wire::SeqNum snd_una, wire::SeqNum snd_nxt, wire::SeqNum high_rxt, uint32_t mss,
                uint32_t dupthresh = 3) const noexcept;

  /**
   * RFC 6675 §4 NextSeg(), retransmission rules 1 and 3 (rule 2, new data, and
   * rule 4, rescue retransmission, are the caller's).
   *  - Rule 1: the lowest unSACKed octet S2 with S2 >= max(high_rxt, snd_una)
   *    (rule 1.a), S2 < highest_sacked() (1.b) and IsLost(S2) (1.c).
   *  - Rule 3, only when @p rule3: the lowest unSACKed octet meeting 1.a and 1.b.
   * The segment starts at that octet and is up to @p mss octets, ending early
   * at the next SACKed range (never resending SACKed data).
   * @param snd_una   SND.UNA.
   * @param high_rxt  one past the highest octet retransmitted in this recovery.
   * @param mss       SMSS in octets; 0 yields nullopt.
   * @param rule3     true when the caller found nothing to send under rule 2.
   * @param dupthresh DupThresh (default 3); 0 is treated as 1.
   * @return the segment, or nullopt when neither rule applies.
   */
  std::optional<Seg> next_seg(wire::SeqNum snd_una, wire::SeqNum high_rxt, uint32_t mss, bool rule3,
                              uint32_t dupthresh = 3) const noexcept;

  /** Blocks ignored by update() since construction: invalid, outside the window, or D-SACK. */
  uint64_t ignored_blocks() const noexcept { return ignored_; }
  /** Ranges forgotten because the scoreboard was full (see the file comment). */
  uint64_t dropped_ranges() const noexcept { return dropped_; }

 private:
  void clip(wire::SeqNum snd_una, wire::SeqNum snd_nxt) noexcept;
  void insert(wire::SeqNum left, wire::SeqNum right) noexcept;

  std::array<Range, kMaxRanges> ranges_{};
  uint32_t count_ = 0;
  uint32_t sacked_ = 0;
  wire::SeqNum una_{};
  uint64_t ignored_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace tern::tcp
