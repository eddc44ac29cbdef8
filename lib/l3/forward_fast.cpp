/**
 * @file
 * The forwarding fast path. Frames come straight from Core::poll()'s RX burst
 * (before l2::Interface::input()); a frame that is plainly forwardable leaves
 * here, rewritten in place, into the output interface's TxQueue. Anything else
 * goes back to the caller for the full path (ipv4.cpp), which validates,
 * counts drops and sends ICMP errors. Both paths keep the same counters.
 */
#include <cstring>

#include "tern/base/byteorder.hpp"
#include "tern/base/checksum.hpp"
#include "tern/l3/ipv4.hpp"
#include "tern/wire/ethernet.hpp"

namespace tern::l3 {

namespace {
constexpr uint32_t kEth = wire::kEthernetHeaderLen;
}  // namespace

bool Ipv4::forward_fast(Packet& frame, l2::Interface& in, uint64_t now) {
  if (frame.segments() != 1 || frame.head_length() < kEth + 20) return false;
  uint8_t* f = frame.data();
  // L2: unicast to us, untagged IPv4 (broadcast, VLAN, ARP: Interface::input).
  if (std::memcmp(f, in.mac().b.data(), 6) != 0 || load_be16(f + 12) != wire::ethertype::ipv4) return false;
  uint8_t* h = f + kEth;
  const uint32_t total = load_be16(h + 2);
  // RFC 1812 §5.2.2: version 4, IHL 5 (options take the full path), a length that fits.
  if (h[0] != 0x45 || total < 20 || total > frame.length() - kEth) return false;
  const RxCsum hw = frame.rx_ip_csum();
  if (hw == RxCsum::bad || (hw == RxCsum::unknown && !checksum_valid20(h))) return false;
  if (h[8] <= 1) return false;  // RFC 1812 §5.3.1: time exceeded is the full path's
  const wire::Ipv4Addr src{load_be32(h + 12)}, dst{load_be32(h + 16)};
  // RFC 1812 §5.3.7 / RFC 1122 §3.2.1.3: special or local addresses take the full path.
  if (src.is_special() || dst.is_special()) return false;
  if (is_local(dst) || is_local(src) || is_our_broadcast(dst) || is_our_broadcast(src)) return false;
  const Route* route = routes_.lookup(dst);
  if (route == nullptr || route->iface >= ifaces_.size()) return false;
  l2::Interface& out = *ifaces_[route->iface];
  // Fragmentation or a DF error; learnt path MTUs only once there are any.
  if (total > out.mtu() || (stats_.pmtu_updates != 0 && total > pmtu_lookup(dst))) return false;
  const wire::MacAddr* mac = &route->mac;
  if (mac->is_zero()) {
    const wire::Ipv4Addr next_hop = route->connected() ? dst : route->gateway;
    if (out.is_broadcast(next_hop)) return false;
    mac = out.neighbours().fresh_mac(next_hop, now);
    if (mac == nullptr) return false;  // ARP resolution or re-confirmation: full path
  }
  now_ = now;
  in.count_rx_ipv4();
  ++stats_.rx_datagrams;
  ++stats_.forwarded;
  if (frame.length() > kEth + total) frame.truncate(kEth + total);  // Ethernet padding
  // RFC 1812 §5.3.1 / RFC 1624: decrement TTL, update the checksum incrementally.
  const uint16_t old_word = load_be16(h + 8);
  --h[8];
  store_be16(h + 10, checksum_update16(load_be16(h + 10), old_word, load_be16(h + 8)));
  std::memcpy(f, mac->b.data(), 6);
  std::memcpy(f + 6, out.mac().b.data(), 6);
  frame.clear_offloads();
  out.transmit_frame(std::move(frame));
  return true;
}

}  // namespace tern::l3
