#include "tern/tcp/congestion.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tern::tcp {

namespace {

constexpr uint32_t kU32Max = std::numeric_limits<uint32_t>::max();

uint32_t sat_u32(uint64_t v) noexcept { return v > kU32Max ? kU32Max : static_cast<uint32_t>(v); }

uint32_t sat_u32(double v) noexcept {
  if (!(v > 0.0)) return 0;  // also NaN
  if (v >= static_cast<double>(kU32Max)) return kU32Max;
  return static_cast<uint32_t>(v);
}

// Round to nearest: products such as 100000 * 0.7 are not exact in binary floating point.
uint32_t sat_u32_round(double v) noexcept { return sat_u32(v + 0.5); }

uint32_t sat_add(uint32_t a, uint32_t b) noexcept { return sat_u32(uint64_t{a} + b); }

}  // namespace

std::string_view to_string(CcAlgo a) {
  switch (a) {
    case CcAlgo::newreno:
      return "newreno";
    case CcAlgo::cubic:
      return "cubic";
  }
  return "unknown";
}

std::optional<CcAlgo> cc_from_string(std::string_view s) {
  if (s == "newreno") return CcAlgo::newreno;
  if (s == "cubic") return CcAlgo::cubic;
  return std::nullopt;
}

void Congestion::init(CcAlgo algo, uint32_t mss, uint32_t iw_segments, uint64_t /*now_ns*/) noexcept {
  algo_ = algo;
  mss_ = std::max<uint32_t>(mss, 1);
  iw_segments_ = static_cast<uint16_t>(std::clamp<uint32_t>(iw_segments, 1, 65535));
  cwnd_ = initial_window();  // RFC 5681 §3.1 / RFC 6928 §2: cwnd starts at IW
  ssthresh_ = kU32Max;       // RFC 5681 §3.1: initial ssthresh "arbitrarily high"
  flags_ = kPristine | kInitialSs;
  reset_algo_state();
  reset_hystart();
  undo_flags_ = 0;
  hystart_exits_ = 0;
  undos_ = 0;
}

void Congestion::init(CcAlgo algo, uint32_t mss, uint32_t iw_segments, uint64_t now_ns,
                      const CcParams& params) noexcept {
  set_params(params);
  init(algo, mss, iw_segments, now_ns);
}

void Congestion::set_params(const CcParams& params) noexcept {
  params_ = params;
  if (!params_.hystart && (flags_ & kCss)) {
    flags_ &= static_cast<uint8_t>(~kCss);  // back to standard slow start
    ca_bytes_ = 0;                          // it held the CSS remainder
  }
}

uint32_t Congestion::initial_window() const noexcept {
  uint64_t w = uint64_t{iw_segments_} * mss_;
  if (iw_segments_ == 10) {
    w = std::min<uint64_t>(w, std::max<uint64_t>(2 * uint64_t{mss_}, 14600));  // RFC 6928 §2
  }
  return sat_u32(std::max<uint64_t>(w, mss_));
}

uint32_t Congestion::two_mss() const noexcept { return sat_add(mss_, mss_); }

void Congestion::reset_algo_state() noexcept {
  ca_bytes_ = 0;
  w_max_ = 0;
  cwnd_prior_ = 0;
  cubic_frac_ = 0;
  epoch_start_ns_ = 0;
  last_ack_ns_ = 0;
  k_s_ = 0;
  w_est_ = 0;
  flags_ &= static_cast<uint8_t>(~kEpoch);
}

void Congestion::reset_hystart() noexcept {
  // RFC 9406 §4.2: lastRoundMinRTT = currentRoundMinRTT = infinity; windowEnd set by the next ACK.
  last_round_min_us_ = kRttInf;
  cur_round_min_us_ = kRttInf;
  css_baseline_us_ = kRttInf;
  rtt_samples_ = 0;
  css_rounds_ = 0;
  flags_ &= static_cast<uint8_t>(~(kCss | kRound));
}

void Congestion::set_algo(CcAlgo a, uint64_t /*now_ns*/) noexcept {
  algo_ = a;
  reset_algo_state();
  flags_ &= static_cast<uint8_t>(~kUndoSaved);  // the saved CUBIC state belongs to the old algorithm
}

void Congestion::set_mss(uint32_t mss) noexcept {
  mss_ = std::max<uint32_t>(mss, 1);
  if (flags_ & kPristine) {
    cwnd_ = initial_window();  // RFC 6928 §2: IW is defined in terms of the (negotiated) MSS
  } else {
    cwnd_ = std::max(cwnd_, mss_);
    if (ssthresh_ != kU32Max) ssthresh_ = std::max(ssthresh_, two_mss());  // RFC 5681 §3.1 eq. 4 floor
  }
  flags_ &= static_cast<uint8_t>(~kEpoch);       // K and W_cubic are in segments: restart the epoch
  undo_flags_ &= static_cast<uint8_t>(~kEpoch);  // also after an undo()
  cubic_frac_ = 0;
}

void Congestion::set_cwnd(uint32_t bytes) noexcept {
  cwnd_ = std::max(bytes, mss_);
  flags_ &= static_cast<uint8_t>(~kPristine);
}

void Congestion::start_round(wire::SeqNum snd_nxt) noexcept {
  window_end_ = snd_nxt;                   // RFC 9406 §4.2: windowEnd = SND.NXT
  last_round_min_us_ = cur_round_min_us_;  // RFC 9406 §4.2: lastRoundMinRTT = currentRoundMinRTT
  cur_round_min_us_ = kRttInf;             // RFC 9406 §4.2: currentRoundMinRTT = infinity
  rtt_samples_ = 0;                        // RFC 9406 §4.2: rttSampleCount = 0
  flags_ |= kRound;
}

void Congestion::on_ack_sample(wire::SeqNum ack, wire::SeqNum snd_nxt, uint64_t rtt_ns) noexcept {
  if (!hystart_running() || !in_slow_start()) return;  // RFC 9406 §4.3: only the initial slow start
  if (!(flags_ & kRound)) start_round(snd_nxt);        // RFC 9406 §4.2: windowEnd initialized to SND.NXT
  if (rtt_ns != 0) {
    const uint64_t us = std::max<uint64_t>((rtt_ns + 999) / 1000, 1);
    const uint32_t curr_rtt = static_cast<uint32_t>(std::min<uint64_t>(us, kRttInf - 1));
    cur_round_min_us_ = std::min(cur_round_min_us_, curr_rtt);  // RFC 9406 §4.2: currentRoundMinRTT
    if (rtt_samples_ != UINT8_MAX) ++rtt_samples_;              // RFC 9406 §4.2: rttSampleCount += 1
  }
  if (rtt_samples_ >= kHyStartNRttSample) {
    if (!(flags_ & kCss)) {
      if (cur_round_min_us_ != kRttInf && last_round_min_us_ != kRttInf) {
        // RFC 9406 §4.2: RttThresh = max(MIN_RTT_THRESH, min(lastRoundMinRTT / 8, MAX_RTT_THRESH))
        const uint32_t thresh = std::clamp(last_round_min_us_ / kHyStartMinRttDivisor, kHyStartMinRttThreshUs,
                                           kHyStartMaxRttThreshUs);
        if (cur_round_min_us_ >= uint64_t{last_round_min_us_} + thresh) {
          css_baseline_us_ = cur_round_min_us_;  // RFC 9406 §4.2: cssBaselineMinRtt = currentRoundMinRTT
          flags_ |= kCss;                        // RFC 9406 §4.2: exit slow start and enter CSS
          css_rounds_ = 0;
          ca_bytes_ = 0;
        }
      }
    } else if (cur_round_min_us_ < css_baseline_us_) {
      // RFC 9406 §4.2: the RTT went back below the baseline, the exit was spurious: resume slow start.
      css_baseline_us_ = kRttInf;
      flags_ &= static_cast<uint8_t>(~kCss);
      css_rounds_ = 0;
      ca_bytes_ = 0;
    }
  }
  if (ack >= window_end_) {  // RFC 9406 §4.2: windowEnd is ACKed, the round ends
    // RFC 9406 §4.2: CSS lasts at most CSS_ROUNDS rounds, a partial first round included.
    if ((flags_ & kCss) && ++css_rounds_ >= kHyStartCssRounds) {
      ssthresh_ = std::max(cwnd_, two_mss());  // RFC 9406 §4.2: congestion avoidance, ssthresh = cwnd
      if (algo_ == CcAlgo::cubic) {
        cwnd_prior_ = cwnd_;  // RFC 9438 §4.10: exit without loss: cwnd_prior = cwnd,
        w_max_ = 0;           // W_max undefined: the epoch takes W_max = cwnd_epoch and K = 0
      }
      ca_bytes_ = 0;
      flags_ &= static_cast<uint8_t>(~kInitialSs);
      reset_hystart();
      if (hystart_exits_ != UINT16_MAX) ++hystart_exits_;
      return;
    }
    start_round(snd_nxt);  // RFC 9406 §4.2: windowEnd = SND.NXT, new round
  }
}

void Congestion::on_ack(uint32_t acked_bytes, uint32_t flight_before, uint64_t srtt_ns, uint64_t now_ns,
                        bool app_limited) noexcept {
  if (acked_bytes == 0) return;
  flags_ &= static_cast<uint8_t>(~(kPristine | kRtoNoProgress));
  // RFC 7661 spirit / RFC 9438 §5.8: do not grow a window that is not being used.
  if (app_limited || flight_before < cwnd_ / 2) {
    if (algo_ == CcAlgo::cubic && (flags_ & kEpoch) && now_ns > last_ack_ns_) {
      epoch_start_ns_ += now_ns - last_ack_ns_;  // RFC 9438 §5.8: application-limited time is not growth time
      last_ack_ns_ = now_ns;
    }
    return;
  }
  slow_start_then_ca(acked_bytes, srtt_ns, now_ns);
}

uint64_t Congestion::slow_start_limit() const noexcept {
  if (flags_ & kAfterRto) return mss_;  // RFC 3465 §2.3: L = 1*SMSS after an RTO
  if (params_.abc_limit == 0)
    return std::numeric_limits<uint64_t>::max();             // no limit (RFC 9406 §4.3: L = infinity)
  if (hystart_running()) return uint64_t{kHyStartL} * mss_;  // RFC 9406 §4.3: L = 8 when not paced
  return uint64_t{params_.abc_limit} * mss_;                 // RFC 3465 §2.2 (RFC 5681 §3.1 eq. 2 if 1)
}

void Congestion::slow_start_then_ca(uint32_t acked, uint64_t srtt_ns, uint64_t now_ns) noexcept {
  if (cwnd_ < ssthresh_) {
    // RFC 5681 §3.1 eq. 2 with RFC 3465 §2.2: cwnd += min(N, L*SMSS); RFC 9406 §4.2 in slow start.
    uint64_t inc = std::min<uint64_t>(acked, slow_start_limit());
    if (hystart_running() && (flags_ & kCss)) {
      // RFC 9406 §4.2: in CSS, cwnd += min(N, L*SMSS) / CSS_GROWTH_DIVISOR; ca_bytes_ keeps the remainder.
      const uint64_t credit = inc + ca_bytes_;
      inc = credit / kHyStartCssGrowthDivisor;
      ca_bytes_ = static_cast<uint32_t>(credit % kHyStartCssGrowthDivisor);
    }
    const uint32_t room = ssthresh_ - cwnd_;
    if (inc < room) {
      cwnd_ += static_cast<uint32_t>(inc);
      return;
    }
    cwnd_ = ssthresh_;  // RFC 5681 §3.1: slow start ends at ssthresh
    acked -= room;      // room <= inc <= acked; the rest is congestion avoidance
    if (acked == 0) return;
  }
  switch (algo_) {
    case CcAlgo::newreno:
      flags_ &= static_cast<uint8_t>(~kAfterRto);
      newreno_ca(acked);
      break;
    case CcAlgo::cubic:
      cubic_ca(acked, srtt_ns, now_ns);
      break;
  }
}

void Congestion::newreno_ca(uint32_t acked) noexcept {
  ca_bytes_ = sat_add(ca_bytes_, acked);  // RFC 3465 §2.1: bytes_acked += acked
  if (ca_bytes_ >= cwnd_) {
    ca_bytes_ -= cwnd_;                          // RFC 3465 §2.1: bytes_acked -= cwnd
    cwnd_ = sat_add(cwnd_, mss_);                // RFC 5681 §3.1 eq. 3: about 1 SMSS per RTT
    ca_bytes_ = std::min(ca_bytes_, cwnd_ - 1);  // RFC 5681 §3.1: at most one SMSS per ACK
  }
}

void Congestion::cubic_ca(uint32_t acked, uint64_t srtt_ns, uint64_t now_ns) noexcept {
  const double mss = mss_;
  if (!(flags_ & kEpoch)) {
    flags_ |= kEpoch;
    epoch_start_ns_ = now_ns;  // RFC 9438 §4.2: t_epoch = start of this congestion avoidance stage
    last_ack_ns_ = now_ns;
    if ((flags_ & kAfterRto) || w_max_ <= cwnd_) {
      w_max_ = cwnd_;  // RFC 9438 §4.8 (after RTO) / §4.10 (W_max undefined): W_max = cwnd_epoch
      k_s_ = 0;        // RFC 9438 §4.8 / §4.10: K = 0
    } else {
      k_s_ = std::cbrt((w_max_ - cwnd_) / mss / kCubicC);  // RFC 9438 §4.2 Figure 2
    }
    w_est_ = cwnd_;  // RFC 9438 §4.3: W_est = cwnd_epoch
    cubic_frac_ = 0;
    flags_ &= static_cast<uint8_t>(~kAfterRto);
  }
  if (now_ns > last_ack_ns_) last_ack_ns_ = now_ns;
  acked = std::min(acked, cwnd_);  // one ACK cannot be worth more than one window of growth

  const double cw = cwnd_;
  const double t = now_ns > epoch_start_ns_ ? static_cast<double>(now_ns - epoch_start_ns_) * 1e-9 : 0.0;
  const double rtt = static_cast<double>(srtt_ns) * 1e-9;
  const double w_max = w_max_;
  const double k = k_s_;
  const auto w_cubic = [mss, w_max, k](double at_s) {
    const double d = at_s - k;
    return kCubicC * d * d * d * mss + w_max;  // RFC 9438 §4.2 Figure 1, in bytes
  };

  // RFC 9438 §4.3 Figure 4: alpha_cubic = 3*(1-beta)/(1+beta) until W_est reaches cwnd_prior, then 1.
  const double alpha = w_est_ >= cwnd_prior_ ? 1.0 : 3.0 * (1.0 - kCubicBeta) / (1.0 + kCubicBeta);
  w_est_ += alpha * static_cast<double>(acked) * mss / cw;  // RFC 9438 §4.3: W_est += alpha*acked/cwnd

  double next;
  if (w_cubic(t) < w_est_) {
    next = std::max(cw, w_est_);  // RFC 9438 §4.3: Reno-friendly region, cwnd = W_est
  } else {
    const double target = std::clamp(w_cubic(t + rtt), cw, 1.5 * cw);  // RFC 9438 §4.2: target bounds
    // RFC 9438 §4.4 (concave) / §4.5 (convex): cwnd += (target - cwnd)/cwnd per SMSS acked.
    const double inc = (target - cw) * static_cast<double>(acked) / cw + cubic_frac_;
    const double whole = std::floor(inc);
    next = std::min(cw + whole, target);
    cubic_frac_ = static_cast<float>(inc - whole);
  }
  cwnd_ = std::max(sat_u32(next), mss_);
}

uint32_t Congestion::decrease(uint32_t flight_size) noexcept {
  uint32_t ss = 0;
  switch (algo_) {
    case CcAlgo::newreno:
      ss = std::max(flight_size / 2, two_mss());  // RFC 5681 §3.1 eq. 4
      break;
    case CcAlgo::cubic:
      if (cwnd_ < w_max_) {
        w_max_ = sat_u32_round(cwnd_ * (1.0 + kCubicBeta) / 2.0);  // RFC 9438 §4.7: fast convergence
      } else {
        w_max_ = cwnd_;  // RFC 9438 §4.7: remember cwnd before the reduction
      }
      cwnd_prior_ = cwnd_;                                          // RFC 9438 §4.6
      ss = std::max(sat_u32_round(cwnd_ * kCubicBeta), two_mss());  // RFC 9438 §4.6: cwnd*beta, >= 2 SMSS
      break;
  }
  ssthresh_ = ss;
  cwnd_ = std::max(ss, mss_);  // RFC 9438 §4.6 / RFC 6582 §3.2 step 2 (engine inflates if it wants)
  ca_bytes_ = 0;
  cubic_frac_ = 0;
  // RFC 9406 §4.2: a congestion signal in slow start or CSS ends HyStart++; §4.3: it does not come back.
  flags_ &= static_cast<uint8_t>(~(kPristine | kRtoNoProgress | kAfterRto | kEpoch | kInitialSs));
  reset_hystart();
  return ss;
}

void Congestion::save_undo(uint32_t ssthresh) noexcept {
  undo_cwnd_ = cwnd_;
  undo_ssthresh_ = ssthresh;
  undo_w_max_ = w_max_;
  undo_cwnd_prior_ = cwnd_prior_;
  undo_k_s_ = static_cast<float>(k_s_);
  undo_w_est_ = static_cast<float>(w_est_);
  undo_epoch_start_ns_ = epoch_start_ns_;
  undo_flags_ = flags_;
  flags_ |= kUndoSaved;
}

uint32_t Congestion::on_loss(uint32_t flight_size, uint64_t /*now_ns*/) noexcept {
  save_undo(ssthresh_);
  return decrease(flight_size);
}

uint32_t Congestion::on_ecn(uint32_t flight_size, uint64_t /*now_ns*/) noexcept {
  flags_ &= static_cast<uint8_t>(~kUndoSaved);  // an ECN response is never undone, nor one before it
  return decrease(flight_size);                 // RFC 3168 §6.1.2: respond as to a loss (RFC 9438 §4.6)
}

void Congestion::on_recovery_exit(uint32_t flight_size, uint64_t /*now_ns*/) noexcept {
  const uint64_t w = uint64_t{std::max(flight_size, mss_)} + mss_;
  cwnd_ = std::max(sat_u32(std::min<uint64_t>(ssthresh_, w)), mss_);  // RFC 6582 §3.2 step 3 (1)
  ca_bytes_ = 0;
  flags_ &= static_cast<uint8_t>(~(kPristine | kRtoNoProgress));
}

void Congestion::on_rto(uint32_t flight_size, uint64_t /*now_ns*/) noexcept {
  // RFC 5681 §3.1: on a repeated timeout of the same data, ssthresh is held constant.
  if (!(flags_ & kRtoNoProgress)) {
    save_undo(std::max(flight_size, ssthresh_));  // RFC 4015 §4: pipe_prev = max(FlightSize, ssthresh)
    switch (algo_) {
      case CcAlgo::newreno:
        ssthresh_ = std::max(flight_size / 2, two_mss());  // RFC 5681 §3.1 eq. 4
        break;
      case CcAlgo::cubic:
        cwnd_prior_ = cwnd_;                                                 // RFC 9438 §4.6
        ssthresh_ = std::max(sat_u32_round(cwnd_ * kCubicBeta), two_mss());  // RFC 9438 §4.8: as in §4.6
        break;
    }
  }
  cwnd_ = mss_;  // RFC 5681 §3.1: cwnd = loss window (LW) = 1 SMSS
  ca_bytes_ = 0;
  cubic_frac_ = 0;
  flags_ |= kAfterRto | kRtoNoProgress;
  // RFC 9406 §4.3: HyStart++ only in the initial slow start, not in the one after a timeout.
  flags_ &= static_cast<uint8_t>(~(kPristine | kEpoch | kInitialSs));
  reset_hystart();
}

void Congestion::undo(bool after_rto, uint32_t flight_size, uint32_t bytes_acked, uint64_t now_ns) noexcept {
  if (!(flags_ & kUndoSaved)) return;
  w_max_ = undo_w_max_;  // CUBIC W_max and cwnd_prior as before the reduction
  cwnd_prior_ = undo_cwnd_prior_;
  ca_bytes_ = 0;
  cubic_frac_ = 0;
  flags_ &= static_cast<uint8_t>(~(kUndoSaved | kRtoNoProgress | kAfterRto | kEpoch));
  if (after_rto) {
    const uint32_t w = sat_add(flight_size, std::min(bytes_acked, initial_window()));
    cwnd_ = std::max(w, mss_);   // RFC 4015 §4: cwnd = FlightSize + min(bytes_acked, IW)
    ssthresh_ = undo_ssthresh_;  // RFC 4015 §4: ssthresh = pipe_prev
    // CUBIC: a new epoch starts at the next congestion avoidance ACK, K from the restored W_max.
  } else {
    // Linux tcp_undo_cwnd_reduction() (RFC 4015 covers timeouts only): never lower either window.
    cwnd_ = std::max(cwnd_, undo_cwnd_);
    ssthresh_ = std::max(ssthresh_, undo_ssthresh_);
    k_s_ = undo_k_s_;  // CUBIC: continue the epoch that the loss ended
    w_est_ = undo_w_est_;
    epoch_start_ns_ = undo_epoch_start_ns_;
    last_ack_ns_ = std::max(last_ack_ns_, now_ns);
    flags_ |= static_cast<uint8_t>(undo_flags_ & (kEpoch | kAfterRto));
  }
  if (ssthresh_ == kU32Max && (undo_flags_ & kInitialSs)) {
    flags_ |= kInitialSs;  // RFC 9406 §4.3: the initial slow start again; HyStart++ from a new round
    reset_hystart();
  }
  if (undos_ != UINT16_MAX) ++undos_;
}

void Congestion::on_idle(uint64_t idle_ns, uint64_t rto_ns, uint64_t now_ns) noexcept {
  if (idle_ns > rto_ns) {
    const uint32_t rw = std::min(initial_window(), cwnd_);  // RFC 5681 §4.1: RW = min(IW, cwnd)
    if (rw < cwnd_) {
      cwnd_ = rw;  // RFC 5681 §4.1: cwnd = RW before transmission begins
      ca_bytes_ = 0;
      cubic_frac_ = 0;
      flags_ &= static_cast<uint8_t>(~kEpoch);
      reset_hystart();  // RFC 9406 §4.3 (MAY grow the restart window): no RTT from before the idle period
      return;
    }
  }
  if (algo_ == CcAlgo::cubic && (flags_ & kEpoch)) {
    // RFC 9438 §5.8: t must not include idle periods. Only the time since the last congestion
    // avoidance ACK is not yet excluded (application-limited ACKs shift the epoch themselves).
    const uint64_t shift = std::min(idle_ns, now_ns > last_ack_ns_ ? now_ns - last_ack_ns_ : 0);
    const uint64_t shifted =
        epoch_start_ns_ > std::numeric_limits<uint64_t>::max() - shift ? now_ns : epoch_start_ns_ + shift;
    epoch_start_ns_ = std::min(shifted, now_ns);
    last_ack_ns_ = std::max(last_ack_ns_, now_ns);
  }
}

}  // namespace tern::tcp
