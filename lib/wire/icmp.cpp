#include "tern/wire/icmp.hpp"

#include <cassert>

#include "tern/base/checksum.hpp"

namespace tern::wire {

Result<IcmpView> IcmpView::parse(std::span<const uint8_t> bytes) noexcept {
  if (bytes.size() < kIcmpHeaderLen) return make_error(Errc::truncated, "icmp: shorter than 8-byte header");
  return IcmpView(bytes);
}

bool IcmpView::checksum_ok() const noexcept { return checksum_valid(data_); }

bool IcmpView::is_error() const noexcept {
  switch (type()) {
    case icmp_type::dest_unreachable:
    case icmp_type::source_quench:
    case icmp_type::redirect:
    case icmp_type::time_exceeded:
    case icmp_type::parameter_problem:
      return true;
    default:
      return false;
  }
}

IcmpHeader IcmpHeader::from_view(const IcmpView& v) noexcept {
  return IcmpHeader{v.type(), v.code(), v.checksum(), v.rest()};
}

Result<IcmpHeader> IcmpHeader::parse(std::span<const uint8_t> bytes) noexcept {
  auto v = IcmpView::parse(bytes);
  if (!v) return v.error();
  return from_view(*v);
}

size_t IcmpHeader::emit(std::span<uint8_t> out) const noexcept {
  assert(out.size() >= kIcmpHeaderLen);
  uint8_t* p = out.data();
  p[0] = type;
  p[1] = code;
  store_be16(p + 2, checksum);
  store_be32(p + 4, rest);
  return kIcmpHeaderLen;
}

uint16_t IcmpHeader::compute_checksum(std::span<const uint8_t> message) noexcept {
  // RFC 792: the 16-bit one's complement of the one's complement sum of the ICMP message.
  return internet_checksum(message);
}

}  // namespace tern::wire
