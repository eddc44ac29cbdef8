// libFuzzer target: EthernetView / EthernetHeader parse, emit, re-parse.
#include <cstring>

#include "fuzz_check.hpp"
#include "tern/wire/ethernet.hpp"

using namespace tern::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  auto v = EthernetView::parse(in);
  if (!v) {
    fuzz::check_rejection(v.error());
    return 0;
  }
  FUZZ_CHECK(v->header_length() + v->payload().size() == size);
  const EthernetHeader h = EthernetHeader::from_view(*v);
  uint8_t buf[kEthernetHeaderLen + kVlanTagLen];
  const size_t n = h.emit(buf);
  FUZZ_CHECK(n == h.length() && n == v->header_length());
  FUZZ_CHECK(std::memcmp(buf, data, n) == 0);  // every header bit is kept
  auto r = EthernetView::parse(std::span<const uint8_t>(buf, n));
  FUZZ_CHECK(r.ok());
  FUZZ_CHECK(r->dst() == v->dst() && r->src() == v->src());
  FUZZ_CHECK(r->ethertype() == v->ethertype() && r->vlan_tci() == v->vlan_tci());
  FUZZ_CHECK(EthernetHeader::from_view(*r) == h);
  return 0;
}
