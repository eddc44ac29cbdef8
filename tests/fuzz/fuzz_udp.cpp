// libFuzzer target: UdpView / UdpHeader parse, emit, re-parse, checksums.
#include <cstring>
#include <vector>

#include "fuzz_check.hpp"
#include "tern/wire/udp.hpp"

using namespace tern::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto v = UdpView::parse(std::span<const uint8_t>(data, size));
  if (!v) {
    fuzz::check_rejection(v.error());
    return 0;
  }
  const size_t len = v->length();
  FUZZ_CHECK(len >= kUdpHeaderLen && len <= size);
  FUZZ_CHECK(v->bytes().size() == len && v->payload().size() == len - kUdpHeaderLen);
  const Ipv4Addr src{0xc6120001}, dst{0xc6120002};  // 198.18.0.1, 198.18.0.2
  const UdpHeader h = UdpHeader::from_view(*v);
  std::vector<uint8_t> buf(len);
  FUZZ_CHECK(h.emit(buf) == kUdpHeaderLen && UdpHeader::header_length() == kUdpHeaderLen);
  FUZZ_CHECK(std::memcmp(buf.data(), data, kUdpHeaderLen) == 0);
  std::memcpy(buf.data() + kUdpHeaderLen, v->payload().data(), v->payload().size());
  auto r = UdpView::parse(buf);
  FUZZ_CHECK(r.ok());
  FUZZ_CHECK(UdpHeader::from_view(*r) == h);
  FUZZ_CHECK(r->checksum_ok(src, dst) == v->checksum_ok(src, dst));
  buf[6] = buf[7] = 0;  // a freshly computed checksum always verifies and is never 0
  const uint16_t c = udp_checksum(src, dst, buf);
  FUZZ_CHECK(c != 0);
  tern::store_be16(buf.data() + 6, c);
  FUZZ_CHECK(UdpView::parse(buf)->checksum_ok(src, dst));
  return 0;
}
