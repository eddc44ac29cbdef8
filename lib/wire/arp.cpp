#include "tern/wire/arp.hpp"

#include <cassert>

#include "tern/wire/ethernet.hpp"

namespace tern::wire {

Result<ArpView> ArpView::parse(std::span<const uint8_t> bytes) noexcept {
  if (bytes.size() < kArpLen) return make_error(Errc::truncated, "arp: shorter than 28 bytes");
  const uint8_t* p = bytes.data();
  // RFC 826 "Packet format": ar$hrd, ar$pro, ar$hln, ar$pln; only Ethernet/IPv4 is handled.
  if (load_be16(p) != kArpHtypeEthernet)
    return make_error(Errc::unsupported, "arp: hardware type is not Ethernet");
  if (load_be16(p + 2) != ethertype::ipv4)
    return make_error(Errc::unsupported, "arp: protocol type is not IPv4");
  if (p[4] != 6) return make_error(Errc::unsupported, "arp: hardware address length is not 6");
  if (p[5] != 4) return make_error(Errc::unsupported, "arp: protocol address length is not 4");
  // RFC 826: ar$op is REQUEST (1) or REPLY (2).
  const uint16_t op = load_be16(p + 6);
  if (op != arp_op::request && op != arp_op::reply)
    return make_error(Errc::bad_value, "arp: op is not request or reply");
  return ArpView(bytes.first(kArpLen));
}

ArpPacket ArpPacket::from_view(const ArpView& v) noexcept {
  return ArpPacket{v.op(), v.sha(), v.spa(), v.tha(), v.tpa()};
}

Result<ArpPacket> ArpPacket::parse(std::span<const uint8_t> bytes) noexcept {
  auto v = ArpView::parse(bytes);
  if (!v) return v.error();
  return from_view(*v);
}

size_t ArpPacket::emit(std::span<uint8_t> out) const noexcept {
  assert(out.size() >= kArpLen);
  uint8_t* p = out.data();
  store_be16(p, kArpHtypeEthernet);
  store_be16(p + 2, ethertype::ipv4);
  p[4] = 6;
  p[5] = 4;
  store_be16(p + 6, op);
  sha.store(p + 8);
  spa.store(p + 14);
  tha.store(p + 18);
  tpa.store(p + 24);
  return kArpLen;
}

}  // namespace tern::wire
