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
  flags_ = kPristine;
  reset_algo_state();
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

void Congestion::set_algo(CcAlgo a, uint64_t /*now_ns*/) noexcept {
  algo_ = a;
  reset_algo_state();
}

void Congestion::set_mss(uint32_t mss) noexcept {
  mss_ = std::max<uint32_t>(mss, 1);
  if (flags_ & kPristine) {
    cwnd_ = initial_window();  // RFC 6928 §2: IW is defined in terms of the (negotiated) MSS
  } else {
    cwnd_ = std::max(cwnd_, mss_);
    if (ssthresh_ != kU32Max) ssthresh_ = std::max(ssthresh_, two_mss());  // RFC 5681 §3.1 eq. 4 floor
  }
  flags_ &= static_cast<uint8_t>(~kEpoch);  // K and W_cubic are in segments: restart the epoch
  cubic_frac_ = 0;
}

void Congestion::set_cwnd(uint32_t bytes) noexcept {
  cwnd_ = std::max(bytes, mss_);
  flags_ &= static_cast<uint8_t>(~kPristine);
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

void Congestion::slow_start_then_ca(uint32_t acked, uint64_t srtt_ns, uint64_t now_ns) noexcept {
  if (cwnd_ < ssthresh_) {
    // RFC 5681 §3.1 eq. 2 with RFC 3465 §2.2 (L = 2*SMSS), L = 1*SMSS after an RTO (RFC 3465 §2.3).
    const uint64_t limit = uint64_t{(flags_ & kAfterRto) ? 1u : kAbcLimitSegments} * mss_;
    const uint64_t inc = std::min<uint64_t>(acked, limit);
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

uint32_t Congestion::on_loss(uint32_t flight_size, uint64_t /*now_ns*/) noexcept {
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
  flags_ &= static_cast<uint8_t>(~(kPristine | kRtoNoProgress | kAfterRto | kEpoch));
  return ss;
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
  flags_ &= static_cast<uint8_t>(~(kPristine | kEpoch));
}

void Congestion::on_idle(uint64_t idle_ns, uint64_t rto_ns, uint64_t now_ns) noexcept {
  if (idle_ns > rto_ns) {
    const uint32_t rw = std::min(initial_window(), cwnd_);  // RFC 5681 §4.1: RW = min(IW, cwnd)
    if (rw < cwnd_) {
      cwnd_ = rw;  // RFC 5681 §4.1: cwnd = RW before transmission begins
      ca_bytes_ = 0;
      cubic_frac_ = 0;
      flags_ &= static_cast<uint8_t>(~kEpoch);
      return;
    }
  }
  if (algo_ == CcAlgo::cubic && (flags_ & kEpoch)) {
    // RFC 9438 §5.8 (as Linux does): idle time does not count as time since the epoch started.
    const uint64_t shifted =
        epoch_start_ns_ > std::numeric_limits<uint64_t>::max() - idle_ns ? now_ns : epoch_start_ns_ + idle_ns;
    epoch_start_ns_ = std::min(shifted, now_ns);
    last_ack_ns_ = std::max(last_ack_ns_, now_ns);
  }
}

}  // namespace tern::tcp
