// libFuzzer target: ArpView / ArpPacket parse, emit, re-parse.
#include <cstring>

#include "fuzz_check.hpp"
#include "tern/wire/arp.hpp"

using namespace tern::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto v = ArpView::parse(std::span<const uint8_t>(data, size));
  if (!v) {
    fuzz::check_rejection(v.error());
    return 0;
  }
  FUZZ_CHECK(v->op() == arp_op::request || v->op() == arp_op::reply);
  const ArpPacket p = ArpPacket::from_view(*v);
  uint8_t buf[kArpLen];
  FUZZ_CHECK(p.emit(buf) == kArpLen && p.length() == kArpLen);
  FUZZ_CHECK(std::memcmp(buf, data, kArpLen) == 0);  // only Ethernet/IPv4 is accepted: fully represented
  auto r = ArpView::parse(buf);
  FUZZ_CHECK(r.ok());
  FUZZ_CHECK(r->op() == v->op() && r->sha() == v->sha() && r->spa() == v->spa());
  FUZZ_CHECK(r->tha() == v->tha() && r->tpa() == v->tpa());
  FUZZ_CHECK(ArpPacket::from_view(*r) == p);
  return 0;
}
