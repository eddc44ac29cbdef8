// libFuzzer target: TcpView / TcpHeader parse, emit (canonical option layout), re-parse.
#include <algorithm>
#include <cstring>
#include <vector>

#include "fuzz_check.hpp"
#include "tern/wire/tcp.hpp"

using namespace tern::wire;

namespace {

// The options a re-parse of emit() must yield: everything but the SACK blocks that did not fit.
void check_options_survive(const TcpOptions& sent, const TcpOptions& got) {
  FUZZ_CHECK(got.mss == sent.mss && got.wscale == sent.wscale);
  FUZZ_CHECK(got.sack_permitted == sent.sack_permitted && got.timestamps == sent.timestamps);
  const size_t n = sent.emitted_sack_blocks();
  FUZZ_CHECK(got.sack_count == n);
  FUZZ_CHECK(std::equal(got.sack.begin(), got.sack.begin() + n, sent.sack.begin()));
}

void check_view(const TcpView& v, size_t size) {
  FUZZ_CHECK(v.header_length() == size_t{v.data_offset()} * 4);
  FUZZ_CHECK(v.header_length() >= kTcpMinHeaderLen && v.header_length() <= size);
  FUZZ_CHECK(v.raw_options().size() + kTcpMinHeaderLen + v.payload().size() == size);
  const TcpOptions& o = v.options();
  FUZZ_CHECK(o.sack_count <= kTcpMaxSackBlocks);
  FUZZ_CHECK(!o.wscale || *o.wscale <= kTcpMaxWindowShift);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto v = TcpView::parse(std::span<const uint8_t>(data, size));
  if (!v) {
    fuzz::check_rejection(v.error());
    return 0;
  }
  check_view(*v, size);
  const TcpHeader h = TcpHeader::from_view(*v);
  std::vector<uint8_t> buf(kTcpMaxHeaderLen + v->payload().size());
  const size_t n = h.emit(buf);
  FUZZ_CHECK(n == h.length() && n % 4 == 0 && n <= kTcpMaxHeaderLen);
  FUZZ_CHECK(std::memcmp(buf.data(), data, 12) == 0 && std::memcmp(buf.data() + 13, data + 13, 7) == 0);
  std::memcpy(buf.data() + n, v->payload().data(), v->payload().size());
  buf.resize(n + v->payload().size());
  auto r = TcpView::parse(buf);
  FUZZ_CHECK(r.ok());
  FUZZ_CHECK(r->src_port() == v->src_port() && r->dst_port() == v->dst_port());
  FUZZ_CHECK(r->seq() == v->seq() && r->ack() == v->ack() && r->flags() == v->flags());
  FUZZ_CHECK(r->window() == v->window() && r->checksum() == v->checksum() && r->urgent() == v->urgent());
  FUZZ_CHECK(std::ranges::equal(r->payload(), v->payload()));
  check_options_survive(h.options, r->options());
  std::vector<uint8_t> again(kTcpMaxHeaderLen);  // the canonical layout is a fixed point
  FUZZ_CHECK(TcpHeader::from_view(*r).emit(again) == n && std::memcmp(again.data(), buf.data(), n) == 0);
  const Ipv4Addr src{0xc6120001}, dst{0xc6120002};  // 198.18.0.1, 198.18.0.2
  buf[16] = buf[17] = 0;
  tern::store_be16(buf.data() + 16, tcp_checksum(src, dst, buf));
  FUZZ_CHECK(TcpView::parse(buf)->checksum_ok(src, dst));
  return 0;
}
