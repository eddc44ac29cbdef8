/**
 * @file
 * RACK (RFC 8985 §6): time-based loss detection for one connection's sender.
 * TCP output records every transmission here (TxLog::on_send, from
 * Tcp::note_sent); TCP input, after the SACK scoreboard took an ACK's blocks,
 * calls Rack::on_ack() and Rack::detect_loss(); the loss recovery output
 * (Tcp::output_recovery) retransmits what Rack::next_lost() names. Pure logic
 * over sequence numbers and nanosecond times: no I/O, no allocation (the log
 * is a fixed array from the core's pool of logs, see Tcp::rack_log_get()).
 */
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "tern/tcp/sack.hpp"
#include "tern/wire/seq.hpp"

namespace tern::tcp {

/**
 * The transmissions of one connection's unacknowledged sequence space, in
 * sequence order: record i covers [end of record i-1 (or base), end). A
 * super-segment is one record; a retransmission of part of a record splits
 * it so that each part carries its own transmit time (RFC 8985 §6.1:
 * per-segment xmit_ts). Bounded: kCap records; when full a new transmission
 * joins the last record and a retransmission that needs a split marks the
 * whole record (both only make loss detection later, never earlier; counted
 * in Rack::log_full()).
 */
struct TxLog {
  static constexpr uint32_t kCap = 64;
  /** Record flags. */
  enum : uint8_t {
    kRetrans = 1,    ///< retransmitted at least once (RFC 8985 Segment.retransmitted)
    kLost = 2,       ///< marked lost and not retransmitted since (Segment.lost)
    kDelivered = 4,  ///< some of it was cumulatively or selectively acknowledged (up to dend)
  };
  struct Rec {
    wire::SeqNum end;   ///< one past the last sequence number
    wire::SeqNum dend;  ///< with kDelivered: one past the highest delivered byte in it
    uint32_t ts_us;     ///< last transmission, microseconds (the core clock / 1000, wraps)
    uint32_t order;     ///< the connection's transmission count then (exact order; RACK_sent_after)
    uint32_t holes;     ///< with kDelivered: unSACKed bytes below dend (their late arrival is reordering)
    uint8_t flags;
  };
  wire::SeqNum base;  ///< the first record's start (SND.UNA once acknowledgements trimmed it)
  uint32_t n = 0;     ///< records in use
  std::array<Rec, kCap> rec{};
  TxLog* next_free = nullptr;  ///< the core's free list
  wire::SeqNum start(uint32_t i) const noexcept { return i == 0 ? base : rec[i - 1].end; }
};

/** RACK-TLP per-connection state (RFC 8985 §6.1, §7). Times in nanoseconds. */
class Rack {
 public:
  TxLog* log() const noexcept { return log_; }
  /** Give the log back (the caller returns it to the pool); RACK keeps its RTT/reordering state. */
  TxLog* take_log() noexcept;
  /** Attach a log while nothing is in flight, starting at @p una. */
  void attach(TxLog* log, wire::SeqNum una) noexcept;

  /**
   * A transmission of [seq, seq + span) (span counts SYN/FIN) at @p now_ns.
   * @p retrans: seq is below SND.MAX (RFC 8985 §6.1 Segment.retransmitted).
   */
  void on_send(wire::SeqNum seq, uint32_t span, uint64_t now_ns, bool retrans) noexcept;

  /**
   * An ACK: @p una is the new SND.UNA, @p sb the scoreboard after it took
   * the ACK's blocks. Runs RFC 8985 §6.2 steps 1-3 (RACK.min_RTT, RACK_update,
   * RACK_detect_reordering) over the newly delivered records, then drops the
   * records below @p una. @p dsack: the ACK carried a D-SACK block (RFC 2883),
   * @p snd_nxt for the D-SACK round. Step 4 (reo_wnd) is reo_wnd().
   */
  void on_ack(wire::SeqNum una, wire::SeqNum snd_nxt, const SackScoreboard& sb, bool dsack,
              uint64_t now_ns) noexcept;

  /**
   * RFC 8985 §6.2 step 5 RACK_detect_loss(): mark records sent before the
   * most recently delivered one and older than RACK.rtt + reo_wnd lost.
   * @p sb says which bytes are SACKed (fully SACKed records are skipped).
   * @return the time until the next record would be lost (0: none pending);
   * sets @p newly_lost when it marked any.
   */
  uint64_t detect_loss(const SackScoreboard& sb, uint64_t srtt_ns, bool in_recovery, uint32_t mss,
                       uint64_t now_ns, bool* newly_lost) noexcept;

  /** RFC 8985 §6.2 step 4: the reordering window, in ns. */
  uint64_t reo_wnd(const SackScoreboard& sb, uint64_t srtt_ns, bool in_recovery, uint32_t mss) const noexcept;

  /** The recovery episode ended (RFC 8985 §6.2 step 4: reo_wnd_persist counts down). */
  void on_recovery_exit() noexcept;

  /**
   * The first up-to-@p mss unSACKed bytes of a record marked lost (not
   * retransmitted since), at or above @p from. Null: nothing to repair.
   */
  std::optional<SackScoreboard::Seg> next_lost(const SackScoreboard& sb, wire::SeqNum from,
                                               uint32_t mss) const noexcept;

  /** Bytes marked lost, not SACKed and not retransmitted since (for the pipe: RFC 8985 §6.2, RFC 6675 §4). */
  uint32_t lost_bytes(const SackScoreboard& sb) const noexcept;

  uint64_t min_rtt_ns() const noexcept { return min_rtt_ns_; }
  uint64_t rtt_ns() const noexcept { return rtt_ns_; }
  bool reordering_seen() const noexcept { return reordering_seen_; }
  uint32_t reo_wnd_mult() const noexcept { return reo_wnd_mult_; }
  /** Records marked lost so far (counted once per marking). */
  uint64_t marked_lost() const noexcept { return marked_lost_; }
  /** Transmissions that found the log full (joined or marked a whole record instead). */
  uint64_t log_full() const noexcept { return log_full_; }
  /** log_full() since the last call (for the core's counter). */
  uint64_t take_log_full() noexcept {
    const uint64_t n = log_full_;
    log_full_ = 0;
    return n;
  }

 private:
  bool split(uint32_t i, wire::SeqNum at) noexcept;

  TxLog* log_ = nullptr;
  uint32_t xmit_order_ = 0;  // RACK.xmit_ts, as a transmission count (TxLog::Rec::order)
  uint32_t order_ = 0;       // transmissions so far
  bool have_xmit_ = false;
  bool have_fack_ = false;
  bool reordering_seen_ = false;
  bool dsack_round_on_ = false;
  uint8_t reo_wnd_mult_ = 1;
  uint8_t reo_wnd_persist_ = 0;
  wire::SeqNum end_seq_;      // RACK.end_seq
  wire::SeqNum fack_;         // RACK.fack
  wire::SeqNum dsack_round_;  // RACK.dsack_round
  uint64_t rtt_ns_ = 0;       // RACK.rtt
  uint64_t min_rtt_ns_ = 0;   // RACK.min_RTT (0: no sample yet)
  uint64_t marked_lost_ = 0;
  uint64_t log_full_ = 0;
};

}  // namespace tern::tcp
