#include "tern/tcp/rtt.hpp"

#include <algorithm>
#include <limits>

namespace tern::tcp {

namespace {

RttParams sanitise(RttParams p) noexcept {
  p.min_rto_ns = std::max<uint64_t>(p.min_rto_ns, 1);
  p.max_rto_ns = std::max(p.max_rto_ns, p.min_rto_ns);
  return p;
}

uint64_t sat_add(uint64_t a, uint64_t b) noexcept {
  return a > std::numeric_limits<uint64_t>::max() - b ? std::numeric_limits<uint64_t>::max() : a + b;
}

}  // namespace

RttEstimator::RttEstimator(const RttParams& p) : p_(sanitise(p)) { base_rto_ = clamp_rto(p_.initial_rto_ns); }

void RttEstimator::set_params(const RttParams& p) {
  p_ = sanitise(p);
  if (has_sample_) {
    recompute();
  } else {
    base_rto_ = clamp_rto(p_.initial_rto_ns);  // RFC 6298 §2.1
  }
}

uint64_t RttEstimator::clamp_rto(uint64_t rto) const noexcept {
  // RFC 6298 §2.4 (lower bound; 200 ms default instead of 1 s) and §2.5 (upper bound).
  return std::clamp(rto, p_.min_rto_ns, p_.max_rto_ns);
}

void RttEstimator::recompute() noexcept {
  // RFC 6298 §2.2/§2.3: RTO <- SRTT + max(G, K*RTTVAR) with K = 4.
  base_rto_ = clamp_rto(sat_add(srtt_, std::max(p_.granularity_ns, 4 * rttvar_)));
}

void RttEstimator::sample(uint64_t rtt_ns) {
  const uint64_t r = std::clamp<uint64_t>(rtt_ns, 1, kMaxSampleNs);  // zero counts as 1 ns
  if (!has_sample_) {
    srtt_ = r;        // RFC 6298 §2.2: SRTT <- R
    rttvar_ = r / 2;  // RFC 6298 §2.2: RTTVAR <- R/2
    has_sample_ = true;
  } else {
    const uint64_t diff = srtt_ > r ? srtt_ - r : r - srtt_;
    rttvar_ = (3 * rttvar_ + diff) / 4;  // RFC 6298 §2.3: RTTVAR <- (1 - 1/4)*RTTVAR + 1/4*|SRTT - R'|
    srtt_ = (7 * srtt_ + r) / 8;         // RFC 6298 §2.3: SRTT <- (1 - 1/8)*SRTT + 1/8*R' (after RTTVAR)
  }
  recompute();
}

uint64_t RttEstimator::rto_ns() const noexcept {
  // RFC 6298 §5.5: RTO doubles per backoff; the §2.5 maximum bounds the doubling.
  if (backoffs_ >= 64 || base_rto_ > (p_.max_rto_ns >> backoffs_)) return p_.max_rto_ns;
  return base_rto_ << backoffs_;
}

void RttEstimator::backoff() noexcept {
  if (backoffs_ != std::numeric_limits<uint32_t>::max()) ++backoffs_;  // RFC 6298 §5.5
}

void RttEstimator::reset() noexcept { reset_to(p_.initial_rto_ns); }  // RFC 6298 §2.1

void RttEstimator::reset_to(uint64_t rto_ns) noexcept {
  srtt_ = 0;
  rttvar_ = 0;
  has_sample_ = false;  // next sample is a first sample again (RFC 6298 §2.2)
  backoffs_ = 0;
  base_rto_ = clamp_rto(rto_ns);  // RFC 6298 §5.7: e.g. 3 s after a SYN timeout
}

}  // namespace tern::tcp
