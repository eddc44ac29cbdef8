/**
 * @file
 * IPv4 Identification selection (see ip_id.hpp), called by Ipv4::output()
 * for each locally originated datagram before it is fragmented or sent.
 */
#include "tern/l3/ip_id.hpp"

namespace tern::l3 {

uint16_t IpIdGenerator::next(wire::Ipv4Addr src, wire::Ipv4Addr dst, uint8_t proto, uint64_t now) noexcept {
  // RFC 7739 §5.3: ID = offset(src, dst, proto) + counter[index(src, dst, proto)]; both from one
  // keyed hash (64 bits: the low bits index, the top 16 bits offset). SipHash-1-3 (Linux's
  // hsiphash): neither part is ever shown whole, and it is half the cost of SipHash-2-4.
  const uint64_t msg = (uint64_t{src.v} << 32) | dst.v;
  if (msg != last_msg_ || proto != last_proto_) {
    last_hash_ = siphash13(key_, msg, proto);
    last_msg_ = msg;
    last_proto_ = proto;
  }
  const uint64_t h = last_hash_;
  const uint32_t i = static_cast<uint32_t>(h) & (kBuckets - 1);
  const auto ms = static_cast<uint32_t>(now / 1'000'000);
  if (stamp_ms_[i] != ms) {
    // Linux ip_idents_reserve: an idle bucket moves on by a random amount below its idle time.
    const uint32_t idle = ms - stamp_ms_[i];
    stamp_ms_[i] = ms;
    ids_[i] = static_cast<uint16_t>(ids_[i] + rng_.below(idle < 65536 ? idle : 65536));
  }
  return static_cast<uint16_t>((h >> 48) + ids_[i]++);
}

}  // namespace tern::l3
