/**
 * @file
 * Sender congestion control: NewReno (RFC 5681 window rules, RFC 3465 byte counting, RFC 6582
 * recovery exit) and CUBIC (RFC 9438), behind one small value type, with HyStart++ (RFC 9406) for
 * the initial slow start, undo of spurious reductions (RFC 4015 for timeouts) and the ECN response
 * (RFC 3168 §6.1.2).
 *
 * Pure logic: no heap, no globals, no exceptions, no virtual dispatch (a switch on the algorithm).
 * Time comes from the caller in nanoseconds; all windows are in bytes and saturate at UINT32_MAX.
 *
 * Division of labour with the TCP engine:
 *  - The engine detects loss (dup ACKs/SACK, RTO), runs fast retransmit/fast recovery and calls
 *    on_loss() once when entering recovery, set_cwnd() for any inflation/deflation it does during
 *    recovery, and on_recovery_exit() on the full ACK (RFC 6582 §3.2 step 3).
 *  - on_ack_sample() on every ACK that advances SND.UNA (also in recovery and when application
 *    limited), before on_ack(): it delimits HyStart++ rounds and feeds it RTT samples.
 *  - on_ack() is called only for ACKs of new data outside loss recovery.
 *  - on_rto() on every retransmission timeout; repeated timeouts without an intervening on_ack()
 *    keep ssthresh (RFC 5681 §3.1).
 *  - on_ecn() when an ACK carries ECN-Echo, at most once per window of data (RFC 3168 §6.1.2).
 *  - undo() when a reduction is found spurious (D-SACK, Eifel, F-RTO), after_rto saying whether
 *    it was a timeout.
 *  - on_idle() just before sending after an idle period (RFC 5681 §4.1).
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "tern/tcp/options.hpp"
#include "tern/wire/seq.hpp"

namespace tern::tcp {

/** Tunables of one connection's congestion control. A plain value: Congestion keeps a copy. */
struct CcParams {
  /**
   * Leave the initial slow start with HyStart++ (RFC 9406) when the RTT rises, for both NewReno
   * and CUBIC. While it runs, slow start counts up to 8 segments per ACK (RFC 9406 §4.3: L = 8
   * for a sender that does not pace, which tern does not), or every byte if abc_limit is 0.
   */
  bool hystart = true;
  /**
   * RFC 3465 byte counting limit L in slow start, in segments (SMSS): at most L*SMSS of the bytes
   * an ACK acknowledges grow cwnd. 1 = RFC 5681 §3.1's cwnd += min(N, SMSS); 2 = RFC 3465 §2.2
   * (default); 0 = no limit, every acknowledged byte counts (for GRO/LRO stretch ACKs). Any value
   * is accepted. In the slow start that follows an RTO, L is 1 whatever this says (RFC 3465 §2.3).
   */
  uint32_t abc_limit = 2;
};

/**
 * Per-connection congestion window state. Invariants: mss() >= 1, cwnd() >= mss(), and
 * ssthresh() >= 2*mss() (saturating) unless it is still "arbitrarily high" (UINT32_MAX).
 *
 * Choices documented here once:
 *  - Slow start uses appropriate byte counting with L = params().abc_limit segments (RFC 3465
 *    §2.2; RFC 5681 §3.1 eq. 2 uses SMSS), L = 1 in the slow start that follows an RTO (RFC 3465
 *    §2.3), and L = 8 (or unlimited if abc_limit is 0) while HyStart++ runs. Slow start stops at
 *    ssthresh; the rest of the ACKed bytes are counted as congestion avoidance.
 *  - HyStart++ (RFC 9406) runs for both algorithms (RFC 9438 §4.10 names it for CUBIC; nothing in
 *    it is CUBIC specific), only in the initial slow start, the one with ssthresh still
 *    arbitrarily high (RFC 9406 §4.3). Any loss, timeout or ECN response ends it for good.
 *  - No growth while application limited: when the caller says so or when the data in flight before
 *    the ACK was below cwnd/2 (in the spirit of RFC 7661 and RFC 9438 §5.8). For CUBIC the time spent
 *    application limited or idle is excluded from the epoch, as Linux does.
 *  - CUBIC: the multiplicative decrease uses cwnd, not flight size (allowed by RFC 9438 §4.6 given
 *    the application-limited rule above); fast convergence is always on; when W_max is unknown or
 *    below cwnd at the start of an epoch, K = 0 and W_max = cwnd_epoch (RFC 9438 §4.8, §4.10).
 *  - on_loss() and on_rto() keep what undo() needs to revert them; only the last reduction can be
 *    undone, at most once, and an ECN response is never undone.
 */
class Congestion {
 public:
  /** RFC 9438 §4.1.1: multiplicative decrease factor. */
  static constexpr double kCubicBeta = 0.7;
  /** RFC 9438 §4.1.1: C, in segments per second cubed. */
  static constexpr double kCubicC = 0.4;
  /** RFC 3465 §2.2: default byte counting limit L in slow start, in segments (CcParams::abc_limit). */
  static constexpr uint32_t kAbcLimitSegments = 2;
  /** MSS assumed by a default-constructed object (RFC 9293 §3.7.1 default send MSS for IPv4). */
  static constexpr uint32_t kDefaultMss = 536;
  /** RFC 9406 §4.3: L in segments for a sender that does not pace (tern does not pace). */
  static constexpr uint32_t kHyStartL = 8;
  /** RFC 9406 §4.3: MIN_RTT_THRESH, in microseconds (4 ms). */
  static constexpr uint32_t kHyStartMinRttThreshUs = 4000;
  /** RFC 9406 §4.3: MAX_RTT_THRESH, in microseconds (16 ms). */
  static constexpr uint32_t kHyStartMaxRttThreshUs = 16000;
  /** RFC 9406 §4.3: MIN_RTT_DIVISOR. */
  static constexpr uint32_t kHyStartMinRttDivisor = 8;
  /** RFC 9406 §4.3: N_RTT_SAMPLE, RTT samples a round needs before its minimum is judged. */
  static constexpr uint32_t kHyStartNRttSample = 8;
  /** RFC 9406 §4.3: CSS_GROWTH_DIVISOR (Conservative Slow Start grows 1/4 as fast). */
  static constexpr uint32_t kHyStartCssGrowthDivisor = 4;
  /** RFC 9406 §4.3: CSS_ROUNDS, rounds of Conservative Slow Start before congestion avoidance. */
  static constexpr uint32_t kHyStartCssRounds = 5;

  /** NewReno, kDefaultMss, 10-segment initial window, time 0, default CcParams. */
  Congestion() noexcept { init(CcAlgo::newreno, kDefaultMss, 10, 0); }

  /**
   * Start a connection: cwnd = initial window, ssthresh = UINT32_MAX ("arbitrarily high", RFC 5681
   * §3.1), all algorithm, HyStart++ and undo state and the counters cleared. params() is kept.
   * @param algo congestion control algorithm.
   * @param mss sender MSS in bytes; 0 is treated as 1.
   * @param iw_segments initial window in segments: 10 gives RFC 6928's min(10*mss, max(2*mss, 14600));
   *        any other value gives iw_segments*mss. 0 is treated as 1, values above 65535 as 65535.
   * @param now_ns current time (unused by the current algorithms, kept for symmetry).
   */
  void init(CcAlgo algo, uint32_t mss, uint32_t iw_segments, uint64_t now_ns) noexcept;
  /** init() with new parameters: set_params(@p params), then init(algo, mss, iw_segments, now_ns). */
  void init(CcAlgo algo, uint32_t mss, uint32_t iw_segments, uint64_t now_ns,
            const CcParams& params) noexcept;

  /**
   * Replace the tunables (copied; @p params need not outlive the call). Takes effect on the next
   * ACK; turning hystart off leaves Conservative Slow Start for standard slow start.
   */
  void set_params(const CcParams& params) noexcept;
  /** The tunables in use; the reference is valid as long as this object. */
  const CcParams& params() const noexcept { return params_; }

  /** The algorithm in use. */
  CcAlgo algo() const noexcept { return algo_; }
  /**
   * Switch algorithm keeping cwnd and ssthresh; the new algorithm's private state (CUBIC epoch,
   * W_max, W_est; NewReno byte counter) starts from scratch and nothing can be undone any more.
   */
  void set_algo(CcAlgo a, uint64_t now_ns) noexcept;

  /**
   * Change the MSS (after option negotiation or a PMTU change); 0 is treated as 1. If nothing has
   * happened since init() (no ACK, loss, RTO or set_cwnd), cwnd is recomputed as the initial window
   * for the new MSS. Otherwise cwnd keeps its byte value, raised to at least 1 MSS, and a finite
   * ssthresh is raised to at least 2 MSS. Starts a new CUBIC epoch (also after a later undo()).
   */
  void set_mss(uint32_t mss) noexcept;

  /** Congestion window in bytes, in [mss(), UINT32_MAX]. */
  uint32_t cwnd() const noexcept { return cwnd_; }
  /** Slow start threshold in bytes; UINT32_MAX until the first loss/RTO/ECN or HyStart++ exit. */
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
   * HyStart++ input (RFC 9406 §4.2), for every ACK that advances SND.UNA, before on_ack(); also
   * during recovery and when application limited. Does nothing unless HyStart++ runs (hystart
   * set and still in the initial slow start). A round begins with windowEnd = SND.NXT and ends on
   * the ACK that acknowledges everything sent before it began (@p ack >= windowEnd).
   * @param ack the cumulative acknowledgment number of this ACK (the new SND.UNA).
   * @param snd_nxt SND.NXT when the ACK is processed, before sending anything in response.
   * @param rtt_ns RTT sample of this ACK in ns; 0 when it gives none (Karn's rule, RFC 6298 §3).
   */
  void on_ack_sample(wire::SeqNum ack, wire::SeqNum snd_nxt, uint64_t rtt_ns) noexcept;

  /**
   * New data acknowledged outside loss recovery.
   *
   * Slow start (cwnd < ssthresh): cwnd += min(acked, L*SMSS) with L as in CcParams::abc_limit
   * (RFC 5681 §3.1 with RFC 3465), a quarter of that in HyStart++'s Conservative Slow Start
   * (RFC 9406 §4.2); never past ssthresh, the remainder goes to congestion avoidance.
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
   * Ends HyStart++ (RFC 9406 §4.2). The state before the reduction is kept for undo().
   * @param flight_size bytes in flight when the loss was detected.
   * @return the new ssthresh in bytes.
   */
  uint32_t on_loss(uint32_t flight_size, uint64_t now_ns) noexcept;

  /**
   * ECN-Echo received (RFC 3168 §6.1.2): the same multiplicative decrease as on_loss() (NewReno
   * halves the flight size, CUBIC multiplies cwnd by 0.7), cwnd = the new ssthresh with no recovery
   * inflation. Call at most once per window of data (that rule is the engine's). Ends HyStart++
   * (RFC 9406 §4.2). Never undone: forgets any state kept for undo().
   * @param flight_size bytes in flight when the ECN-Echo arrived.
   * @return the new ssthresh in bytes.
   */
  uint32_t on_ecn(uint32_t flight_size, uint64_t now_ns) noexcept;

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
   * Ends HyStart++, which later slow starts do not use (RFC 9406 §4.3). The first timeout of a
   * series keeps the state for undo(), with RFC 4015's pipe_prev = max(flight_size, ssthresh).
   * @param flight_size bytes in flight when the timer fired.
   */
  void on_rto(uint32_t flight_size, uint64_t now_ns) noexcept;

  /**
   * Revert the last on_loss() or on_rto(), found spurious (D-SACK, Eifel, F-RTO). A no-op when
   * can_undo() is false; afterwards can_undo() is false.
   *
   * Spurious timeout (@p after_rto), RFC 4015 §4: cwnd = flight_size + min(bytes_acked, IW) with IW =
   * initial_window(), ssthresh = pipe_prev; CUBIC's W_max and cwnd_prior are restored and a new
   * epoch starts. The engine must not call it when the acceptable ACK carries ECN-Echo (RFC 4015).
   * Spurious fast retransmit (!@p after_rto), Linux's tcp_undo_cwnd_reduction (RFC 4015 covers only
   * timeouts): cwnd = max(cwnd, cwnd before), ssthresh = max(ssthresh, ssthresh before), and CUBIC's
   * W_max, cwnd_prior, K and epoch as before the loss. The engine leaves fast recovery itself.
   * If ssthresh is arbitrarily high again, HyStart++ resumes from a new round.
   *
   * @param after_rto the reduction being undone was a retransmission timeout.
   * @param flight_size bytes in flight after the ACK that revealed it (RFC 4015 FlightSize).
   * @param bytes_acked bytes newly acknowledged by that ACK (RFC 4015 bytes_acked).
   * @param now_ns current time in ns.
   */
  void undo(bool after_rto, uint32_t flight_size, uint32_t bytes_acked, uint64_t now_ns) noexcept;
  /** True if on_loss() or on_rto() kept a state that undo() has not yet restored. */
  bool can_undo() const noexcept { return (flags_ & kUndoSaved) != 0; }
  /** Number of undo() calls that restored something since init() (saturates at 65535). */
  uint32_t undos() const noexcept { return undos_; }

  /**
   * About to send after an idle period (RFC 5681 §4.1): if @p idle_ns > @p rto_ns, cwnd =
   * min(cwnd, RW) with RW = min(initial_window(), cwnd). If cwnd is not reduced, the CUBIC epoch is
   * shifted by @p idle_ns so that idle time does not count as growth time (RFC 9438 §5.8).
   * @param idle_ns time since the last segment was sent/received, in ns.
   * @param rto_ns the current RTO, in ns.
   * @param now_ns current time in ns.
   */
  void on_idle(uint64_t idle_ns, uint64_t rto_ns, uint64_t now_ns) noexcept;

  /** True while cwnd < ssthresh (RFC 5681 §3.1); includes Conservative Slow Start. */
  bool in_slow_start() const noexcept { return cwnd_ < ssthresh_; }
  /** True while HyStart++ runs its Conservative Slow Start (RFC 9406 §4.2). */
  bool in_css() const noexcept { return hystart_running() && (flags_ & kCss); }
  /** Times HyStart++ ended slow start (CSS_ROUNDS rounds of CSS, then ssthresh = cwnd) since init(). */
  uint32_t hystart_exits() const noexcept { return hystart_exits_; }

 private:
  enum Flag : uint8_t {
    kPristine = 1,       // nothing happened since init(): set_mss() recomputes the initial window
    kAfterRto = 2,       // slow start after an RTO (ABC L = 1) / first CUBIC epoch after an RTO
    kRtoNoProgress = 4,  // on_rto() called and no on_ack() since
    kEpoch = 8,          // a CUBIC congestion avoidance epoch is running
    kInitialSs = 16,     // still the initial slow start: HyStart++ may run (RFC 9406 §4.3)
    kCss = 32,           // HyStart++ Conservative Slow Start
    kRound = 64,         // a HyStart++ round is running: window_end_ is valid
    kUndoSaved = 128,    // the undo_* fields hold the state before the last reduction
  };
  static constexpr uint32_t kRttInf = UINT32_MAX;  // "infinity" for the HyStart++ RTT minima

  bool hystart_running() const noexcept { return params_.hystart && (flags_ & kInitialSs); }
  uint64_t slow_start_limit() const noexcept;
  void slow_start_then_ca(uint32_t acked, uint64_t srtt_ns, uint64_t now_ns) noexcept;
  void newreno_ca(uint32_t acked) noexcept;
  void cubic_ca(uint32_t acked, uint64_t srtt_ns, uint64_t now_ns) noexcept;
  uint32_t decrease(uint32_t flight_size) noexcept;
  void save_undo(uint32_t ssthresh) noexcept;
  void start_round(wire::SeqNum snd_nxt) noexcept;
  void reset_hystart() noexcept;
  void reset_algo_state() noexcept;
  uint32_t two_mss() const noexcept;

  uint64_t epoch_start_ns_ = 0;       // CUBIC t_epoch (RFC 9438 §4.2), shifted by excluded time
  uint64_t last_ack_ns_ = 0;          // CUBIC: time of the last congestion avoidance ACK
  uint64_t undo_epoch_start_ns_ = 0;  // epoch_start_ns_ before the last reduction
  double k_s_ = 0;                    // CUBIC K in seconds (RFC 9438 §4.2 Figure 2)
  double w_est_ = 0;                  // CUBIC W_est in bytes (RFC 9438 §4.3)
  uint32_t cwnd_ = 0;
  uint32_t ssthresh_ = 0;
  uint32_t mss_ = 1;
  uint32_t ca_bytes_ = 0;    // NewReno: bytes ACKed in CA (RFC 3465 §2.1); in CSS: bytes not yet credited
  uint32_t w_max_ = 0;       // CUBIC W_max in bytes (RFC 9438 §4.1.2)
  uint32_t cwnd_prior_ = 0;  // CUBIC cwnd before the last reduction, in bytes (RFC 9438 §4.6)
  float cubic_frac_ = 0;     // CUBIC: fractional bytes of cwnd growth carried between ACKs
  CcParams params_{};
  wire::SeqNum window_end_{};             // HyStart++ windowEnd (RFC 9406 §4.2)
  uint32_t last_round_min_us_ = kRttInf;  // HyStart++ lastRoundMinRTT, in us
  uint32_t cur_round_min_us_ = kRttInf;   // HyStart++ currentRoundMinRTT, in us
  uint32_t css_baseline_us_ = kRttInf;    // HyStart++ cssBaselineMinRtt, in us
  uint32_t undo_cwnd_ = 0;                // cwnd before the last reduction
  uint32_t undo_ssthresh_ = 0;            // ssthresh before on_loss(); RFC 4015 pipe_prev for on_rto()
  uint32_t undo_w_max_ = 0;               // w_max_ before the last reduction
  uint32_t undo_cwnd_prior_ = 0;          // cwnd_prior_ before the last reduction
  float undo_k_s_ = 0;                    // k_s_ before the last reduction
  float undo_w_est_ = 0;                  // w_est_ before the last reduction
  uint16_t iw_segments_ = 10;
  uint16_t hystart_exits_ = 0;
  uint16_t undos_ = 0;
  CcAlgo algo_ = CcAlgo::newreno;
  uint8_t flags_ = 0;
  uint8_t undo_flags_ = 0;   // flags_ before the last reduction
  uint8_t rtt_samples_ = 0;  // HyStart++ rttSampleCount, saturating at 255
  uint8_t css_rounds_ = 0;   // HyStart++ rounds (or partial first round) spent in CSS
};

}  // namespace tern::tcp
