/**
 * @file
 * Sender congestion control: NewReno (RFC 5681 window rules, RFC 3465 byte counting, RFC 6582
 * recovery exit) and CUBIC (RFC 9438), behind one small value type.
 *
 * Pure logic: no heap, no globals, no exceptions, no virtual dispatch (a switch on the algorithm).
 * Time comes from the caller in nanoseconds; all windows are in bytes and saturate at UINT32_MAX.
 *
 * Division of labour with the TCP engine:
 *  - The engine detects loss (dup ACKs/SACK, RTO), runs fast retransmit/fast recovery and calls
 *    on_loss() once when entering recovery, set_cwnd() for any inflation/deflation it does during
 *    recovery, and on_recovery_exit() on the full ACK (RFC 6582 §3.2 step 3).
 *  - on_ack() is called only for ACKs of new data outside loss recovery.
 *  - on_rto() on every retransmission timeout; repeated timeouts without an intervening on_ack()
 *    keep ssthresh (RFC 5681 §3.1).
 *  - on_idle() just before sending after an idle period (RFC 5681 §4.1).
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tern::tcp {

/** Congestion control algorithm of a connection. */
enum class CcAlgo : uint8_t { newreno, cubic };

/** "newreno" or "cubic". */
std::string_view to_string(CcAlgo a);
/** Parse "newreno" / "cubic" (exact, lower case); std::nullopt for anything else. */
std::optional<CcAlgo> cc_from_string(std::string_view s);

/**
 * Per-connection congestion window state. Invariants: mss() >= 1, cwnd() >= mss(), and
 * ssthresh() >= 2*mss() (saturating) unless it is still "arbitrarily high" (UINT32_MAX).
 *
 * Choices documented here once:
 *  - Slow start uses appropriate byte counting with L = 2*SMSS (RFC 3465 §2.2; RFC 5681 §3.1 eq. 2
 *    uses SMSS), and L = 1*SMSS in the slow start that follows an RTO (RFC 3465 §2.3). Slow start
 *    stops at ssthresh; the rest of the ACKed bytes are counted as congestion avoidance.
 *  - No growth while application limited: when the caller says so or when the data in flight before
 *    the ACK was below cwnd/2 (in the spirit of RFC 7661 and RFC 9438 §5.8). For CUBIC the time spent
 *    application limited or idle is excluded from the epoch, as Linux does.
 *  - CUBIC: the multiplicative decrease uses cwnd, not flight size (allowed by RFC 9438 §4.6 given
 *    the application-limited rule above); no HyStart++; fast convergence is always on; when W_max
 *    is unknown or below cwnd at the start of an epoch, K = 0 and W_max = cwnd_epoch (RFC 9438
 *    §4.8, §4.10).
 */
class Congestion {
 public:
  /** RFC 9438 §4.1.1: multiplicative decrease factor. */
  static constexpr double kCubicBeta = 0.7;
  /** RFC 9438 §4.1.1: C, in segments per second cubed. */
  static constexpr double kCubicC = 0.4;
  /** RFC 3465 §2.2: byte counting limit L in slow start, in segments. */
  static constexpr uint32_t kAbcLimitSegments = 2;
  /** MSS assumed by a default-constructed object (RFC 9293 §3.7.1 default send MSS for IPv4). */
  static constexpr uint32_t kDefaultMss = 536;

  /** NewReno, kDefaultMss, 10-segment initial window, time 0; call init() for real connections. */
  Congestion() noexcept { init(CcAlgo::newreno, kDefaultMss, 10, 0); }

  /**
   * Start a connection: cwnd = initial window, ssthresh = UINT32_MAX ("arbitrarily high", RFC 5681
   * §3.1), all algorithm state cleared.
   * @param algo congestion control algorithm.
   * @param mss sender MSS in bytes; 0 is treated as 1.
   * @param iw_segments initial window in segments: 10 gives RFC 6928's min(10*mss, max(2*mss, 14600));
   *        any other value gives iw_segments*mss. 0 is treated as 1, values above 65535 as 65535.
   * @param now_ns current time (unused by the current algorithms, kept for symmetry).
   */
  void init(CcAlgo algo, uint32_t mss, uint32_t iw_segments, uint64_t now_ns) noexcept;

  /** The algorithm in use. */
  CcAlgo algo() const noexcept { return algo_; }
  /**
   * Switch algorithm keeping cwnd and ssthresh; the new algorithm's private state (CUBIC epoch,
   * W_max, W_est; NewReno byte counter) starts from scratch.
   */
  void set_algo(CcAlgo a, uint64_t now_ns) noexcept;

  /**
   * Change the MSS (after option negotiation or a PMTU change); 0 is treated as 1. If nothing has
   * happened since init() (no ACK, loss, RTO or set_cwnd), cwnd is recomputed as the initial window
   * for the new MSS. Otherwise cwnd keeps its byte value, raised to at least 1 MSS, and a finite
   * ssthresh is raised to at least 2 MSS. Starts a new CUBIC epoch.
   */
  void set_mss(uint32_t mss) noexcept;

  /** Congestion window in bytes, in [mss(), UINT32_MAX]. */
  uint32_t cwnd() const noexcept { return cwnd_; }
  /** Slow start threshold in bytes; UINT32_MAX until the first loss/RTO. */
  uint32_t ssthresh() const noexcept { return ssthresh_; }
  /** Sender MSS in bytes (>= 1). */
  uint32_t mss() const noexcept { return mss_; }
  /** Initial window for the current MSS in bytes (also the RFC 5681 §4.1 restart window bound). */
  uint32_t initial_window() const noexcept;
  /**
   * CUBIC W_max in bytes (window before the last reduction, after fast convergence); 0 if unknown.
   * Diagnostic only; 0 with NewReno.
   */
  uint32_t cubic_w_max() const noexcept { return w_max_; }

  /**
   * Set cwnd directly, in bytes; values below 1 MSS become 1 MSS. For the engine's fast recovery
   * inflation/deflation (RFC 5681 §3.2, RFC 6582 §3.2).
   */
  void set_cwnd(uint32_t bytes) noexcept;

  /**
   * New data acknowledged outside loss recovery.
   *
   * Slow start (cwnd < ssthresh): cwnd += min(acked, L) with L = 2*SMSS (1*SMSS after an RTO),
   * RFC 5681 §3.1 with RFC 3465; never past ssthresh, the remainder goes to congestion avoidance.
   * Congestion avoidance, NewReno: bytes are accumulated and cwnd grows by 1 MSS per cwnd of ACKed
   * data (RFC 3465 §2.1, RFC 5681 §3.1 eq. 3). CUBIC: RFC 9438 §4.2-§4.5 with the Reno-friendly
   * region of §4.3, using the time since the epoch started and @p srtt_ns.
   *
   * @param acked_bytes bytes newly acknowledged by this ACK; 0 does nothing. Any value is safe.
   * @param flight_before bytes in flight before this ACK.
   * @param srtt_ns smoothed RTT in ns (CUBIC only; 0 if unknown).
   * @param now_ns current time in ns.
   * @param app_limited the sender did not use the window. cwnd also does not grow when
   *        flight_before < cwnd/2 (RFC 7661 spirit, RFC 9438 §5.8).
   */
  void on_ack(uint32_t acked_bytes, uint32_t flight_before, uint64_t srtt_ns, uint64_t now_ns,
              bool app_limited = false) noexcept;

  /**
   * Loss detected by duplicate ACKs/SACK, entering fast recovery (call once per recovery episode).
   * NewReno: ssthresh = max(flight_size/2, 2*mss) (RFC 5681 §3.1 eq. 4). CUBIC: fast convergence and
   * W_max bookkeeping (RFC 9438 §4.7), ssthresh = max(cwnd*0.7, 2*mss) (§4.6). Then cwnd = ssthresh;
   * the engine adds its own 3*SMSS inflation (RFC 5681 §3.2 step 4) with set_cwnd() if it wants.
   * @param flight_size bytes in flight when the loss was detected.
   * @return the new ssthresh in bytes.
   */
  uint32_t on_loss(uint32_t flight_size, uint64_t now_ns) noexcept;

  /**
   * Leaving fast recovery on a full ACK: cwnd = min(ssthresh, max(flight_size, mss) + mss)
   * (RFC 6582 §3.2 step 3, option 1).
   * @param flight_size bytes in flight after the full ACK.
   */
  void on_recovery_exit(uint32_t flight_size, uint64_t now_ns) noexcept;

  /**
   * Retransmission timeout. ssthresh = max(flight_size/2, 2*mss) (NewReno, RFC 5681 §3.1 eq. 4) or
   * max(cwnd*0.7, 2*mss) (CUBIC, RFC 9438 §4.8), unless this is a repeated timeout with no on_ack()
   * since the previous one, in which case ssthresh is held (RFC 5681 §3.1). cwnd = 1 MSS (loss
   * window, RFC 5681 §3.1). The next CUBIC epoch uses K = 0 and W_max = cwnd_epoch (RFC 9438 §4.8).
   * @param flight_size bytes in flight when the timer fired.
   */
  void on_rto(uint32_t flight_size, uint64_t now_ns) noexcept;

  /**
   * About to send after an idle period (RFC 5681 §4.1): if @p idle_ns > @p rto_ns, cwnd =
   * min(cwnd, initial_window()). If cwnd is not reduced, the CUBIC epoch is shifted by @p idle_ns so
   * that idle time does not count as growth time.
   * @param idle_ns time since the last segment was sent/received.
   * @param rto_ns the current RTO.
   */
  void on_idle(uint64_t idle_ns, uint64_t rto_ns, uint64_t now_ns) noexcept;

  /** True while cwnd < ssthresh (RFC 5681 §3.1). */
  bool in_slow_start() const noexcept { return cwnd_ < ssthresh_; }

 private:
  enum Flag : uint8_t {
    kPristine = 1,       // nothing happened since init(): set_mss() recomputes the initial window
    kAfterRto = 2,       // slow start after an RTO (ABC L = 1) / first CUBIC epoch after an RTO
    kRtoNoProgress = 4,  // on_rto() called and no on_ack() since
    kEpoch = 8,          // a CUBIC congestion avoidance epoch is running
  };

  void slow_start_then_ca(uint32_t acked, uint64_t srtt_ns, uint64_t now_ns) noexcept;
  void newreno_ca(uint32_t acked) noexcept;
  void cubic_ca(uint32_t acked, uint64_t srtt_ns, uint64_t now_ns) noexcept;
  void reset_algo_state() noexcept;
  uint32_t two_mss() const noexcept;

  uint32_t cwnd_ = 0;
  uint32_t ssthresh_ = 0;
  uint32_t mss_ = 1;
  uint32_t ca_bytes_ = 0;    // NewReno: bytes ACKed in congestion avoidance (RFC 3465 §2.1)
  uint32_t w_max_ = 0;       // CUBIC W_max in bytes (RFC 9438 §4.1.2)
  uint32_t cwnd_prior_ = 0;  // CUBIC cwnd before the last reduction, in bytes (RFC 9438 §4.6)
  uint16_t iw_segments_ = 10;
  CcAlgo algo_ = CcAlgo::newreno;
  uint8_t flags_ = 0;
  float cubic_frac_ = 0;         // CUBIC: fractional bytes of cwnd growth carried between ACKs
  uint64_t epoch_start_ns_ = 0;  // CUBIC t_epoch (RFC 9438 §4.2), shifted by excluded time
  uint64_t last_ack_ns_ = 0;     // CUBIC: time of the last congestion avoidance ACK
  double k_s_ = 0;               // CUBIC K in seconds (RFC 9438 §4.2 Figure 2)
  double w_est_ = 0;             // CUBIC W_est in bytes (RFC 9438 §4.3)
};

}  // namespace tern::tcp
