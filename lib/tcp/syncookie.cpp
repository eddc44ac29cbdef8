#include "tern/tcp/syncookie.hpp"

#include <algorithm>

#include "tern/base/byteorder.hpp"

namespace tern::tcp {

namespace {

// RFC 4987 §3.6: top 5 bits t mod 32, next 3 bits the MSS, low 24 bits the MAC.
constexpr uint32_t kCounterShift = 27;
constexpr uint32_t kCounterMask = 0x1f;
constexpr uint32_t kMssShift = 24;
constexpr uint32_t kMssMask = 0x7;
constexpr uint32_t kMacMask = 0xffffff;
constexpr uint8_t kCookieDomain = 0x53;

// Linux-style TSval option bits.
constexpr uint32_t kTsWscaleMask = 0x0f;
constexpr uint32_t kTsNoWscale = 0x0f;
constexpr uint32_t kTsSack = 1u << 4;
constexpr uint32_t kTsMarker = 1u << 5;
constexpr uint32_t kTsBits = 6;
constexpr uint32_t kTsMask = (1u << kTsBits) - 1;
constexpr uint8_t kMaxWscale = 14;

}  // namespace

uint32_t SynCookies::mac(const FourTuple& t, uint64_t counter, wire::SeqNum peer_isn,
                         uint32_t mss_index) const noexcept {
  std::array<uint8_t, 26> msg{};
  const auto tuple = tuple_bytes(t);
  std::copy(tuple.begin(), tuple.end(), msg.begin());
  store_be32(msg.data() + 12, static_cast<uint32_t>(counter >> 32));
  store_be32(msg.data() + 16, static_cast<uint32_t>(counter));
  store_be32(msg.data() + 20, peer_isn.v);
  msg[24] = static_cast<uint8_t>(mss_index);
  msg[25] = kCookieDomain;
  // RFC 4987 §3.6: a secret function of the addresses, ports and t (here also the peer ISN and MSS).
  return static_cast<uint32_t>(siphash24(key_, msg)) & kMacMask;
}

wire::SeqNum SynCookies::make(const FourTuple& t, wire::SeqNum peer_isn, uint16_t mss,
                              uint64_t now_ns) const noexcept {
  const uint64_t counter = now_ns / kPeriodNs;
  // RFC 4987 §3.6: the MSS is encoded by a 3-bit index; round down (index 0 below the table).
  uint32_t idx = kMssTable.size() - 1;
  while (idx > 0 && kMssTable[idx] > mss) --idx;
  const uint32_t cookie = (static_cast<uint32_t>(counter & kCounterMask) << kCounterShift) |
                          (idx << kMssShift) | mac(t, counter, peer_isn, idx);
  return wire::SeqNum{cookie};
}

std::optional<uint16_t> SynCookies::check(const FourTuple& t, wire::SeqNum peer_isn,
                                          wire::SeqNum ack_minus_one, uint64_t now_ns) const noexcept {
  const uint32_t cookie = ack_minus_one.v;
  const uint64_t now = now_ns / kPeriodNs;
  const uint32_t idx = (cookie >> kMssShift) & kMssMask;
  // RFC 4987 §3.6: accept a recent t only; here the current and the previous period.
  for (uint64_t age = 0; age < 2 && age <= now; ++age) {
    const uint64_t counter = now - age;
    if ((cookie >> kCounterShift) != (counter & kCounterMask)) continue;
    // RFC 4987 §3.6: recompute the secret function and compare.
    if ((cookie & kMacMask) == mac(t, counter, peer_isn, idx)) return kMssTable[idx];
  }
  return std::nullopt;
}

uint32_t SynCookies::encode_ts(uint32_t tsval, const SynCookieOptions& o) noexcept {
  uint32_t bits = kTsMarker;
  // RFC 7323 §2.3: shifts above 14 are used as 14.
  bits |= o.wscale ? std::min(*o.wscale, kMaxWscale) : kTsNoWscale;
  if (o.sack_permitted) bits |= kTsSack;
  uint32_t ts = (tsval & ~kTsMask) | bits;
  // RFC 7323 §5 (PAWS): never send a TSval ahead of our clock.
  if (static_cast<int32_t>(ts - tsval) > 0) ts -= 1u << kTsBits;
  return ts;
}

std::optional<SynCookieOptions> SynCookies::decode_ts(uint32_t tsecr) noexcept {
  if ((tsecr & kTsMarker) == 0) return std::nullopt;
  SynCookieOptions o;
  o.timestamps = true;
  o.sack_permitted = (tsecr & kTsSack) != 0;
  const uint32_t ws = tsecr & kTsWscaleMask;
  // RFC 7323 §2.3: a shift above 14 is used as 14 (15 means no window scale option).
  if (ws != kTsNoWscale) o.wscale = static_cast<uint8_t>(std::min<uint32_t>(ws, kMaxWscale));
  return o;
}

}  // namespace tern::tcp
