/**
 * @file
 * Round-trip time estimation and retransmission timeout computation (RFC 6298).
 *
 * Pure logic: time is passed in by the caller (nanoseconds), nothing allocates, nothing throws.
 *
 * Karn's algorithm (RFC 6298 §3) is the caller's job: an RTT sample MUST NOT be taken from a
 * retransmitted segment (unless the timestamps option, RFC 7323, disambiguates it), so the engine
 * simply does not call RttEstimator::sample() for such segments.
 *
 * Deviation from RFC 6298: the default minimum RTO is 200 ms (as in Linux), not the 1 s that
 * RFC 6298 §2.4 recommends. Set RttParams::min_rto_ns to 1 s for strict conformance.
 */
#pragma once

#include <cstdint>

namespace tern::tcp {

/** Tunables of the estimator; all values in nanoseconds. */
struct RttParams {
  /** RTO before the first sample (RFC 6298 §2.1: 1 s). */
  uint64_t initial_rto_ns = 1'000'000'000;
  /**
   * Lower bound of the RTO. RFC 6298 §2.4 says 1 s; like Linux we use 200 ms (documented deviation).
   * Values below 1 ns are raised to 1 ns.
   */
  uint64_t min_rto_ns = 200'000'000;
  /** Upper bound of the RTO, also of the backed-off RTO (RFC 6298 §2.5 allows any maximum >= 60 s). */
  uint64_t max_rto_ns = 120'000'000'000;
  /** G, the clock granularity (RFC 6298 §2.2/§2.3 use max(G, 4*RTTVAR)). */
  uint64_t granularity_ns = 1'000'000;
};

/**
 * SRTT/RTTVAR/RTO state of one connection (RFC 6298 §2), with exponential backoff (§5.5).
 *
 * Integer arithmetic, rounding down: RTTVAR = (3*RTTVAR + |SRTT - R|) / 4 and SRTT = (7*SRTT + R) / 8.
 * Before the first sample srtt_ns() and rttvar_ns() are 0 and the RTO is the initial RTO.
 */
class RttEstimator {
 public:
  /** Samples are clamped to this (about 78 hours) so that the integer arithmetic cannot overflow. */
  static constexpr uint64_t kMaxSampleNs = uint64_t{1} << 48;

  /** Start with no sample and RTO = clamp(p.initial_rto_ns) (RFC 6298 §2.1). */
  explicit RttEstimator(const RttParams& p = {});

  /**
   * Replace the parameters. They are sanitised: min_rto_ns is raised to at least 1 ns and max_rto_ns
   * to at least min_rto_ns. The base RTO is recomputed from SRTT/RTTVAR if there is a sample, else it
   * becomes the (clamped) new initial RTO. The backoff count is kept.
   */
  void set_params(const RttParams& p);
  /** The (sanitised) parameters in use. */
  const RttParams& params() const noexcept { return p_; }

  /**
   * Feed one RTT measurement R in ns, taken from a segment that was not retransmitted (Karn's rule
   * is the caller's job). The first sample sets SRTT = R, RTTVAR = R/2 (RFC 6298 §2.2); later ones
   * use beta = 1/4, alpha = 1/8 (§2.3). Then RTO = SRTT + max(G, 4*RTTVAR) clamped to
   * [min_rto_ns, max_rto_ns] (§2.4, §2.5). A zero sample counts as 1 ns; samples above kMaxSampleNs
   * count as kMaxSampleNs. Does not touch the backoff: call reset_backoff() to collapse it (§5.7 note).
   */
  void sample(uint64_t rtt_ns);

  /** True once sample() has been called since construction or the last reset()/reset_to(). */
  bool has_sample() const noexcept { return has_sample_; }
  /** Smoothed RTT in ns; 0 before the first sample. */
  uint64_t srtt_ns() const noexcept { return srtt_; }
  /** RTT variation in ns; 0 before the first sample. */
  uint64_t rttvar_ns() const noexcept { return rttvar_; }

  /**
   * The RTO to arm the retransmission timer with, in ns: base_rto_ns() doubled once per backoff,
   * saturating at max_rto_ns (RFC 6298 §5.5). Always within [min_rto_ns, max_rto_ns].
   */
  uint64_t rto_ns() const noexcept;
  /** The RTO computed from SRTT/RTTVAR (or the initial RTO), without backoff, in ns. */
  uint64_t base_rto_ns() const noexcept { return base_rto_; }

  /**
   * The retransmission timer expired: double the RTO (RFC 6298 §5.5), saturating at max_rto_ns.
   * Increments backoffs() (saturating at UINT32_MAX).
   */
  void backoff() noexcept;
  /**
   * Forget the backoff so that rto_ns() == base_rto_ns() again. The engine calls this after a new
   * valid RTT sample (RFC 6298 §5, note after rule 5.7: the RTO may "collapse" after backoff).
   */
  void reset_backoff() noexcept { backoffs_ = 0; }
  /** Number of backoff() calls since the last reset_backoff()/reset()/reset_to(). */
  uint32_t backoffs() const noexcept { return backoffs_; }

  /** Forget all samples and the backoff; RTO = initial RTO (RFC 6298 §2.1). */
  void reset() noexcept;
  /**
   * Forget all samples and the backoff; RTO = @p rto_ns clamped to [min_rto_ns, max_rto_ns]. Use
   * reset_to(3 s) when the SYN timed out and data transmission begins (RFC 6298 §5.7).
   */
  void reset_to(uint64_t rto_ns) noexcept;

 private:
  uint64_t clamp_rto(uint64_t rto) const noexcept;
  void recompute() noexcept;

  RttParams p_;
  uint64_t srtt_ = 0;
  uint64_t rttvar_ = 0;
  uint64_t base_rto_ = 0;
  uint32_t backoffs_ = 0;
  bool has_sample_ = false;
};

}  // namespace tern::tcp
