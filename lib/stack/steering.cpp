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
    const uint16_t sport = load_be16(ip + ihl), dport = load_be16(ip + ihl + 2);
    if (hw_hash == nullptr) {
      fc.sw_hash = hash_.l4(src, dst, sport, dport);
      if (pins_.empty()) return hash_owner(fc.sw_hash);
    } else if (pins_.empty()) {
      return hash_owner(*hw_hash);
    }
    return flow_owner(src, dst, sport, dport);  // a pinned flow, or the hash
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

PinnedFlows::PinnedFlows() : slots_(std::make_unique<Slot[]>(kSlots)) {}

uint32_t PinnedFlows::slot_of(uint64_t addrs, uint32_t ports) noexcept {
  uint64_t x = addrs ^ (uint64_t{ports} * 0x9E3779B97F4A7C15ull);
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 29;
  return static_cast<uint32_t>(x) & (kSlots - 1);
}

bool PinnedFlows::pin(wire::Ipv4Addr src, wire::Ipv4Addr dst, uint16_t sport, uint16_t dport,
                      uint16_t core) noexcept {
  const uint64_t a = uint64_t{src.v} << 32 | dst.v;
  const uint32_t p = uint32_t{sport} << 16 | dport;
  while (lock_.test_and_set(std::memory_order_acquire)) {
  }
  bool ok = false;
  if (count_.load(std::memory_order_relaxed) < kSlots * 3 / 4) {  // keeps probe chains short
    uint32_t i = slot_of(a, p);
    while (slots_[i].state.load(std::memory_order_relaxed) == 1) i = (i + 1) & (kSlots - 1);
    seq_.fetch_add(1, std::memory_order_acq_rel);  // odd: readers retry
    slots_[i].addrs.store(a, std::memory_order_relaxed);
    slots_[i].ports.store(p, std::memory_order_relaxed);
    slots_[i].core.store(core, std::memory_order_relaxed);
    slots_[i].state.store(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    seq_.fetch_add(1, std::memory_order_release);
    ok = true;
  }
  lock_.clear(std::memory_order_release);
  return ok;
}

void PinnedFlows::unpin(wire::Ipv4Addr src, wire::Ipv4Addr dst, uint16_t sport, uint16_t dport) noexcept {
  const uint64_t a = uint64_t{src.v} << 32 | dst.v;
  const uint32_t p = uint32_t{sport} << 16 | dport;
  while (lock_.test_and_set(std::memory_order_acquire)) {
  }
  for (uint32_t i = slot_of(a, p), n = 0; n < kSlots; i = (i + 1) & (kSlots - 1), ++n) {
    const uint8_t st = slots_[i].state.load(std::memory_order_relaxed);
    if (st == 0) break;
    if (st == 1 && slots_[i].addrs.load(std::memory_order_relaxed) == a &&
        slots_[i].ports.load(std::memory_order_relaxed) == p) {
      seq_.fetch_add(1, std::memory_order_acq_rel);
      slots_[i].state.store(2, std::memory_order_relaxed);
      count_.fetch_sub(1, std::memory_order_relaxed);
      seq_.fetch_add(1, std::memory_order_release);
      break;
    }
  }
  lock_.clear(std::memory_order_release);
}

uint16_t PinnedFlows::find(wire::Ipv4Addr src, wire::Ipv4Addr dst, uint16_t sport,
                           uint16_t dport) const noexcept {
  const uint64_t a = uint64_t{src.v} << 32 | dst.v;
  const uint32_t p = uint32_t{sport} << 16 | dport;
  for (;;) {
    const uint32_t s0 = seq_.load(std::memory_order_acquire);
    if (s0 & 1) continue;  // a writer is in the middle of a change
    uint16_t found = 0xffff;
    for (uint32_t i = slot_of(a, p), n = 0; n < kSlots; i = (i + 1) & (kSlots - 1), ++n) {
      const uint8_t st = slots_[i].state.load(std::memory_order_relaxed);
      if (st == 0) break;
      if (st == 1 && slots_[i].addrs.load(std::memory_order_relaxed) == a &&
          slots_[i].ports.load(std::memory_order_relaxed) == p) {
        found = slots_[i].core.load(std::memory_order_relaxed);
        break;
      }
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (seq_.load(std::memory_order_relaxed) == s0) return found;
  }
}

}  // namespace tern
