#include "tern/wire/udp.hpp"

#include <cassert>

#include "tern/base/checksum.hpp"
#include "tern/wire/ipv4.hpp"

namespace tern::wire {

namespace {

uint16_t pseudo_sum(Ipv4Addr src, Ipv4Addr dst, std::span<const uint8_t> datagram) noexcept {
  // RFC 768: pseudo-header of source, destination, zero, protocol, UDP length.
  ChecksumAccumulator acc;
  add_ipv4_pseudo_header(acc, src.v, dst.v, ip_proto::udp, static_cast<uint16_t>(datagram.size()));
  acc.add(datagram);
  return acc.sum16();
}

}  // namespace

uint16_t udp_checksum(Ipv4Addr src, Ipv4Addr dst, std::span<const uint8_t> datagram) noexcept {
  const uint16_t c = static_cast<uint16_t>(~pseudo_sum(src, dst, datagram));
  // RFC 768: "If the computed checksum is zero, it is transmitted as all ones".
  return c == 0 ? 0xffff : c;
}

Result<UdpView> UdpView::parse(std::span<const uint8_t> bytes) noexcept {
  if (bytes.size() < kUdpHeaderLen) return make_error(Errc::truncated, "udp: shorter than 8-byte header");
  // RFC 768 "Length": the datagram including this header, so at least 8.
  const size_t len = load_be16(bytes.data() + 4);
  if (len < kUdpHeaderLen) return make_error(Errc::bad_length, "udp: length field below 8");
  if (len > bytes.size()) return make_error(Errc::bad_length, "udp: length field beyond the data");
  return UdpView(bytes.first(len));
}

bool UdpView::checksum_ok(Ipv4Addr src, Ipv4Addr dst) const noexcept {
  // RFC 768: "An all zero transmitted checksum value means that the transmitter generated no checksum".
  if (checksum() == 0) return true;
  return pseudo_sum(src, dst, data_) == 0xffff;
}

UdpHeader UdpHeader::from_view(const UdpView& v) noexcept {
  return UdpHeader{v.src_port(), v.dst_port(), v.length(), v.checksum()};
}

Result<UdpHeader> UdpHeader::parse(std::span<const uint8_t> bytes) noexcept {
  auto v = UdpView::parse(bytes);
  if (!v) return v.error();
  return from_view(*v);
}

size_t UdpHeader::emit(std::span<uint8_t> out) const noexcept {
  assert(out.size() >= kUdpHeaderLen);
  uint8_t* p = out.data();
  store_be16(p, src_port);
  store_be16(p + 2, dst_port);
  store_be16(p + 4, length);
  store_be16(p + 6, checksum);
  return kUdpHeaderLen;
}

}  // namespace tern::wire
