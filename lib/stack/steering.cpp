/**
 * @file
 * FlowSteering::classify(): runs on the core that received a frame, before
 * l2 input; the frame then goes up this core's stack or, through the owner's
 * steering ring, up the owner's (Core::poll, Core::drain_steered). Reads only
 * the first segment, never writes the frame.
 */
#include "tern/stack/steering.hpp"

#include "tern/base/byteorder.hpp"

namespace tern {

namespace {
constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint8_t kIcmp = 1, kTcp = 6, kUdp = 17;

bool is_icmp_error(uint8_t type) noexcept {
  // RFC 792 / RFC 1122 §3.2.2: the messages that quote an offending datagram.
  return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}
}  // namespace

const char* to_string(SteerMode m) noexcept {
  switch (m) {
    case SteerMode::single:
      return "single core";
    case SteerMode::hardware:
      return "hardware RSS";
    case SteerMode::software:
      return "software steering";
  }
  return "?";
}

FlowSteering::FlowSteering(wire::RssSteering table, uint16_t cores, const std::vector<SteerMode>& modes)
    : table_(std::move(table)), hash_(table_.key), cores_(cores == 0 ? 1 : cores) {
  if (table_.reta.empty()) {
    for (uint16_t i = 0; i < cores_; ++i) table_.reta.push_back(i);
  }
  for (auto& e : table_.reta) e = static_cast<uint16_t>(e % cores_);
  modes_ = std::make_unique<std::atomic<SteerMode>[]>(modes.size());
  for (size_t i = 0; i < modes.size(); ++i) modes_[i].store(modes[i], std::memory_order_relaxed);
}

FlowSteering::FrameClass FlowSteering::classify(const rte_mbuf* m, const uint32_t* hw_hash) const noexcept {
  FrameClass fc;
  const uint32_t len = m->data_len;
  const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
  if (len < 14 + 20 || load_be16(p + 12) != kEtherIpv4) return fc;  // ARP and the rest: where it arrived
  fc.owner = ip_owner(p + 14, len - 14, hw_hash, fc);
  return fc;
}

uint16_t FlowSteering::ip_owner(const uint8_t* ip, uint32_t len, const uint32_t* hw_hash,
                                FrameClass& fc) const noexcept {
  const uint32_t ihl = (ip[0] & 0x0fu) * 4u;
  if ((ip[0] >> 4) != 4 || ihl < 20 || len < ihl) return kAnyCore;
  const wire::Ipv4Addr src{load_be32(ip + 12)}, dst{load_be32(ip + 16)};
  // Fragments by the address pair: every fragment of a datagram meets on one core (RSS hashes
  // fragments the same way); that core reassembles, then steers the whole (datagram_owner()).
  if ((load_be16(ip + 6) & 0x3fff) != 0) return table_.reta[hash_.pair(src, dst) % table_.reta.size()];
  const uint8_t proto = ip[9];
  if (proto == kTcp || proto == kUdp) {
    if (len < ihl + 4) return kAnyCore;
    fc.l4 = true;
    if (hw_hash != nullptr) return hash_owner(*hw_hash);
    fc.sw_hash = hash_.l4(src, dst, load_be16(ip + ihl), load_be16(ip + ihl + 2));
    return hash_owner(fc.sw_hash);
  }
  if (proto == kIcmp && len >= ihl + 8 && is_icmp_error(ip[ihl]))
    return icmp_error_owner(ip + ihl, len - ihl);
  return kAnyCore;
}

// An ICMP error quotes a datagram this stack sent (RFC 792): its source is us, its destination
// the peer. The flow's received frames hash as peer -> us, so that is the owner to ask.
uint16_t FlowSteering::icmp_error_owner(const uint8_t* icmp, uint32_t len) const noexcept {
  const uint8_t* q = icmp + 8;
  if (len < 8 + 20) return kAnyCore;
  const uint32_t qlen = len - 8;
  const uint32_t ihl = (q[0] & 0x0fu) * 4u;
  if ((q[0] >> 4) != 4 || ihl < 20 || qlen < ihl + 4) return kAnyCore;
  if ((load_be16(q + 6) & 0x1fff) != 0) return kAnyCore;  // a later fragment quotes no ports
  if (q[9] != kTcp && q[9] != kUdp) return kAnyCore;
  const wire::Ipv4Addr us{load_be32(q + 12)}, peer{load_be32(q + 16)};
  return flow_owner(peer, us, load_be16(q + ihl + 2), load_be16(q + ihl));
}

uint16_t FlowSteering::datagram_owner(const uint8_t* ip, uint32_t len) const noexcept {
  // The head segment of a reassembled datagram carries its header with the fragment fields of
  // the first fragment; what counts now is the 4-tuple.
  const uint32_t ihl = (ip[0] & 0x0fu) * 4u;
  if (len < 20 || ihl < 20 || len < ihl + 4) return kAnyCore;
  const uint8_t proto = ip[9];
  const wire::Ipv4Addr src{load_be32(ip + 12)}, dst{load_be32(ip + 16)};
  if (proto == kTcp || proto == kUdp)
    return flow_owner(src, dst, load_be16(ip + ihl), load_be16(ip + ihl + 2));
  if (proto == kIcmp && len >= ihl + 8 && is_icmp_error(ip[ihl]))
    return icmp_error_owner(ip + ihl, len - ihl);
  return kAnyCore;
}

}  // namespace tern
