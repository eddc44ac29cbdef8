#include "tern/wire/ethernet.hpp"

#include <cassert>

namespace tern::wire {

Result<EthernetView> EthernetView::parse(std::span<const uint8_t> frame) noexcept {
  if (frame.size() < kEthernetHeaderLen)
    return make_error(Errc::truncated, "ethernet: shorter than 14-byte header");
  size_t hlen = kEthernetHeaderLen;
  // IEEE 802.1Q §9.5: a C-tag (TPID 0x8100, TCI) sits between the source address and the type.
  if (load_be16(frame.data() + 12) == ethertype::vlan) {
    if (frame.size() < kEthernetHeaderLen + kVlanTagLen) {
      return make_error(Errc::truncated, "ethernet: 802.1Q tag truncated");
    }
    hlen += kVlanTagLen;
  }
  return EthernetView(frame, hlen);
}

EthernetHeader EthernetHeader::from_view(const EthernetView& v) noexcept {
  return EthernetHeader{v.dst(), v.src(), v.ethertype(), v.vlan_tci()};
}

Result<EthernetHeader> EthernetHeader::parse(std::span<const uint8_t> frame) noexcept {
  auto v = EthernetView::parse(frame);
  if (!v) return v.error();
  return from_view(*v);
}

size_t EthernetHeader::emit(std::span<uint8_t> out) const noexcept {
  assert(out.size() >= length());
  uint8_t* p = out.data();
  dst.store(p);
  src.store(p + 6);
  p += 12;
  if (vlan_tci) {
    store_be16(p, ethertype::vlan);
    store_be16(p + 2, *vlan_tci);
    p += kVlanTagLen;
  }
  store_be16(p, ethertype);
  return length();
}

}  // namespace tern::wire
