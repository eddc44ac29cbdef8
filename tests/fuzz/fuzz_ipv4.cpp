// libFuzzer target: Ipv4View (strict and quoted) / Ipv4Header parse, emit, re-parse.
#include <algorithm>
#include <cstring>
#include <vector>

#include "fuzz_check.hpp"
#include "tern/wire/ipv4.hpp"

using namespace tern::wire;

namespace {

void check_accessors_agree(const Ipv4View& a, const Ipv4View& b) {
  FUZZ_CHECK(a.header_length() == b.header_length() && a.tos() == b.tos());
  FUZZ_CHECK(a.total_length() == b.total_length() && a.id() == b.id());
  FUZZ_CHECK(a.dont_fragment() == b.dont_fragment() && a.more_fragments() == b.more_fragments());
  FUZZ_CHECK(a.fragment_offset() == b.fragment_offset() && a.is_fragment() == b.is_fragment());
  FUZZ_CHECK(a.ttl() == b.ttl() && a.protocol() == b.protocol() && a.checksum() == b.checksum());
  FUZZ_CHECK(a.src() == b.src() && a.dst() == b.dst());
  FUZZ_CHECK(std::ranges::equal(a.options(), b.options()) && std::ranges::equal(a.payload(), b.payload()));
}

void check_quoted(std::span<const uint8_t> in) {
  auto q = Ipv4View::parse_quoted(in);
  if (!q) {
    fuzz::check_rejection(q.error());
    return;
  }
  const size_t present = std::min<size_t>(q->total_length(), in.size());
  FUZZ_CHECK(q->bytes().size() == present && q->payload().size() == present - q->header_length());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  check_quoted(in);
  auto v = Ipv4View::parse(in);
  if (!v) {
    fuzz::check_rejection(v.error());
    return 0;
  }
  FUZZ_CHECK(Ipv4View::parse_quoted(in).ok());
  FUZZ_CHECK(v->header_length() >= kIpv4MinHeaderLen && v->header_length() <= kIpv4MaxHeaderLen);
  FUZZ_CHECK(v->bytes().size() == v->total_length());
  const Ipv4Header h = Ipv4Header::from_view(*v);
  std::vector<uint8_t> buf(v->total_length());
  FUZZ_CHECK(h.emit(buf, false) == v->header_length() && h.length() == v->header_length());
  buf[6] |= data[6] & 0x80;  // the reserved flag bit is the one header bit not kept
  FUZZ_CHECK(std::memcmp(buf.data(), data, h.length()) == 0);
  std::memcpy(buf.data() + h.length(), v->payload().data(), v->payload().size());
  auto r = Ipv4View::parse(buf);
  FUZZ_CHECK(r.ok());
  check_accessors_agree(*v, *r);
  FUZZ_CHECK(r->checksum_ok() == v->checksum_ok());
  h.emit(buf, true);
  auto c = Ipv4View::parse(buf);
  FUZZ_CHECK(c.ok() && c->checksum_ok());
  return 0;
}
