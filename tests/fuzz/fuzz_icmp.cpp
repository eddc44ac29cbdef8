// libFuzzer target: IcmpView / IcmpHeader parse, emit, re-parse; the quoted IPv4 header of errors.
#include <cstring>
#include <vector>

#include "fuzz_check.hpp"
#include "tern/wire/icmp.hpp"
#include "tern/wire/ipv4.hpp"

using namespace tern::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  auto v = IcmpView::parse(in);
  if (!v) {
    fuzz::check_rejection(v.error());
    return 0;
  }
  FUZZ_CHECK(v->payload().size() + kIcmpHeaderLen == size);
  FUZZ_CHECK(v->rest() == ((uint32_t{v->id()} << 16) | v->seq()));
  FUZZ_CHECK(v->next_hop_mtu() == v->seq() && v->gateway().v == v->rest() &&
             v->pointer() == (v->rest() >> 24));
  if (v->is_error()) {
    if (auto q = Ipv4View::parse_quoted(v->payload())) {
      FUZZ_CHECK(q->header_length() + q->payload().size() <= v->payload().size());
    }
  }
  const IcmpHeader h = IcmpHeader::from_view(*v);
  std::vector<uint8_t> buf(size);
  FUZZ_CHECK(h.emit(buf) == kIcmpHeaderLen && h.length() == kIcmpHeaderLen);
  FUZZ_CHECK(std::memcmp(buf.data(), data, kIcmpHeaderLen) == 0);
  std::memcpy(buf.data() + kIcmpHeaderLen, v->payload().data(), v->payload().size());
  auto r = IcmpView::parse(buf);
  FUZZ_CHECK(r.ok());
  FUZZ_CHECK(IcmpHeader::from_view(*r) == h);
  FUZZ_CHECK(r->checksum_ok() == v->checksum_ok() && r->is_error() == v->is_error());
  buf[2] = buf[3] = 0;  // a freshly computed checksum always verifies
  tern::store_be16(buf.data() + 2, IcmpHeader::compute_checksum(buf));
  FUZZ_CHECK(IcmpView::parse(buf)->checksum_ok());
  return 0;
}
