#include "tern/wire/tcp.hpp"

#include <algorithm>
#include <cassert>

#include "tern/base/checksum.hpp"
#include "tern/wire/ipv4.hpp"

namespace tern::wire {

namespace {

constexpr size_t kMssLen = 4;
constexpr size_t kWscaleLen = 3;
constexpr size_t kSackPermLen = 2;
constexpr size_t kTimestampsLen = 10;
constexpr size_t kSackBlockLen = 8;

Status bad_option_length(std::string_view reason) noexcept { return make_error(Errc::bad_option, reason); }

// RFC 9293 §3.2: MSS is kind 2, length 4.
Status take_mss(std::span<const uint8_t> opt, TcpOptions& out) noexcept {
  if (opt.size() != kMssLen) return bad_option_length("tcp: MSS option length is not 4");
  out.mss = load_be16(opt.data() + 2);
  return {};
}

// RFC 7323 §2.2: window scale is kind 3, length 3.
Status take_wscale(std::span<const uint8_t> opt, TcpOptions& out) noexcept {
  if (opt.size() != kWscaleLen) return bad_option_length("tcp: window scale option length is not 3");
  // RFC 7323 §2.3: a shift above 14 is used as 14 (and may be logged).
  out.wscale = std::min(opt[2], kTcpMaxWindowShift);
  return {};
}

// RFC 2018 §2: SACK-permitted is kind 4, length 2.
Status take_sack_permitted(std::span<const uint8_t> opt, TcpOptions& out) noexcept {
  if (opt.size() != kSackPermLen) return bad_option_length("tcp: SACK-permitted option length is not 2");
  out.sack_permitted = true;
  return {};
}

// RFC 7323 §3.2: timestamps is kind 8, length 10.
Status take_timestamps(std::span<const uint8_t> opt, TcpOptions& out) noexcept {
  if (opt.size() != kTimestampsLen) return bad_option_length("tcp: timestamps option length is not 10");
  out.timestamps = TcpTimestamps{load_be32(opt.data() + 2), load_be32(opt.data() + 6)};
  return {};
}

// RFC 2018 §3: SACK is kind 5, length 2 + 8n; at most 4 blocks fit in 40 option bytes.
Status take_sack(std::span<const uint8_t> opt, TcpOptions& out) noexcept {
  const size_t n = (opt.size() - 2) / kSackBlockLen;
  if ((opt.size() - 2) % kSackBlockLen != 0 || n < 1 || n > kTcpMaxSackBlocks) {
    return bad_option_length("tcp: SACK option length is not 2+8n with n in 1..4");
  }
  out.sack_count = static_cast<uint8_t>(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* b = opt.data() + 2 + i * kSackBlockLen;
    out.sack[i] = SackBlock{SeqNum{load_be32(b)}, SeqNum{load_be32(b + 4)}};
  }
  return {};
}

// One option (kind, length, data) whose length fits the header: validate and store it.
Status take_option(std::span<const uint8_t> opt, TcpOptions& out) noexcept {
  switch (opt[0]) {
    case tcp_opt::mss:
      return take_mss(opt, out);
    case tcp_opt::wscale:
      return take_wscale(opt, out);
    case tcp_opt::sack_permitted:
      return take_sack_permitted(opt, out);
    case tcp_opt::timestamps:
      return take_timestamps(opt, out);
    case tcp_opt::sack:
      return take_sack(opt, out);
    case tcp_opt::fastopen:
      // RFC 7413 §4.1.1: length 2 is a cookie request, 6..18 a cookie; any other length is ignored.
      if (opt.size() == 2) {
        out.fastopen = FastOpenCookie{};
      } else if (opt.size() >= 2u + FastOpenCookie::kMinLen && opt.size() <= 2u + FastOpenCookie::kMaxLen) {
        FastOpenCookie c;
        c.len = static_cast<uint8_t>(opt.size() - 2);
        std::copy(opt.begin() + 2, opt.end(), c.bytes.begin());
        out.fastopen = c;
      }
      return {};
    default:  // RFC 9293 §3.2: an unknown option is ignored, skipped by its length.
      return {};
  }
}

// RFC 9293 §3.2: EOL ends the list, NOP is one byte, any other option is
// kind, length (counting both), data, and must fit inside the header.
Status parse_options(std::span<const uint8_t> o, TcpOptions& out) noexcept {
  size_t i = 0;
  while (i < o.size()) {
    const uint8_t kind = o[i];
    if (kind == tcp_opt::eol) break;
    if (kind == tcp_opt::nop) {
      ++i;
      continue;
    }
    if (i + 1 >= o.size()) return make_error(Errc::bad_option, "tcp: option length byte missing");
    const uint8_t len = o[i + 1];
    if (len < 2) return make_error(Errc::bad_option, "tcp: option length below 2");
    if (len > o.size() - i) return make_error(Errc::bad_option, "tcp: option overruns the header");
    auto st = take_option(o.subspan(i, len), out);
    if (!st) return st;
    i += len;
  }
  return {};
}

// Bytes of the canonical layout before the SACK blocks (items 1-3).
size_t base_options_length(const TcpOptions& o) noexcept {
  size_t n = 0;
  if (o.mss) n += 4;
  if (o.timestamps) {
    n += 12;
  } else if (o.sack_permitted) {
    n += 4;
  }
  if (o.wscale) n += 4;
  if (o.fastopen) n += (2u + o.fastopen->len + 3u) / 4u * 4u;
  return n;
}

uint8_t* put4(uint8_t* p, uint8_t a, uint8_t b, uint8_t c, uint8_t d) noexcept {
  p[0] = a;
  p[1] = b;
  p[2] = c;
  p[3] = d;
  return p + 4;
}

uint8_t* emit_timestamps(uint8_t* p, const TcpOptions& o) noexcept {
  // Linux folds SACK-permitted into the alignment bytes in front of the timestamps.
  if (o.sack_permitted) {
    p = put4(p, tcp_opt::sack_permitted, kSackPermLen, tcp_opt::timestamps, kTimestampsLen);
  } else {
    p = put4(p, tcp_opt::nop, tcp_opt::nop, tcp_opt::timestamps, kTimestampsLen);
  }
  store_be32(p, o.timestamps->tsval);
  store_be32(p + 4, o.timestamps->tsecr);
  return p + 8;
}

uint8_t* emit_sack(uint8_t* p, const TcpOptions& o, size_t n) noexcept {
  p = put4(p, tcp_opt::nop, tcp_opt::nop, tcp_opt::sack, static_cast<uint8_t>(2 + n * kSackBlockLen));
  for (size_t i = 0; i < n; ++i) {
    store_be32(p, o.sack[i].left.v);
    store_be32(p + 4, o.sack[i].right.v);
    p += kSackBlockLen;
  }
  return p;
}

}  // namespace

size_t TcpOptions::emitted_sack_blocks() const noexcept {
  const size_t want = sack_blocks().size();
  const size_t base = base_options_length(*this);
  // 4 bytes of NOP NOP kind length, then 8 per block, within 40 bytes (RFC 9293 §3.1).
  const size_t room =
      base + 4 + kSackBlockLen <= kTcpMaxOptionsLen ? (kTcpMaxOptionsLen - base - 4) / kSackBlockLen : 0;
  return std::min(want, room);
}

size_t TcpOptions::length() const noexcept {
  const size_t n = emitted_sack_blocks();
  return base_options_length(*this) + (n > 0 ? 4 + n * kSackBlockLen : 0);
}

size_t TcpOptions::emit(std::span<uint8_t> out) const noexcept {
  assert(out.size() >= length());
  uint8_t* p = out.data();
  if (mss) {
    p = put4(p, tcp_opt::mss, kMssLen, 0, 0);
    store_be16(p - 2, *mss);
  }
  if (timestamps) {
    p = emit_timestamps(p, *this);
  } else if (sack_permitted) {
    p = put4(p, tcp_opt::nop, tcp_opt::nop, tcp_opt::sack_permitted, kSackPermLen);
  }
  if (wscale) p = put4(p, tcp_opt::nop, tcp_opt::wscale, kWscaleLen, *wscale);
  if (fastopen) {
    const size_t n = 2u + fastopen->len;
    for (size_t pad = (4 - n % 4) % 4; pad > 0; --pad) *p++ = tcp_opt::nop;  // keep 4-byte alignment
    *p++ = tcp_opt::fastopen;
    *p++ = static_cast<uint8_t>(n);
    p = std::copy_n(fastopen->bytes.begin(), fastopen->len, p);
  }
  if (const size_t n = emitted_sack_blocks(); n > 0) p = emit_sack(p, *this, n);
  return static_cast<size_t>(p - out.data());
}

bool operator==(const TcpOptions& a, const TcpOptions& b) noexcept {
  return a.mss == b.mss && a.wscale == b.wscale && a.sack_permitted == b.sack_permitted &&
         a.timestamps == b.timestamps && std::ranges::equal(a.sack_blocks(), b.sack_blocks()) &&
         a.fastopen == b.fastopen;
}

Result<TcpView> TcpView::parse(std::span<const uint8_t> bytes) noexcept {
  if (bytes.size() < kTcpMinHeaderLen) return make_error(Errc::truncated, "tcp: shorter than 20-byte header");
  // RFC 9293 §3.1 "Data Offset": header length in 32-bit words, at least 5.
  const size_t hlen = (size_t{bytes[12]} >> 4) * 4;
  if (hlen < kTcpMinHeaderLen) return make_error(Errc::bad_header, "tcp: data offset below 5");
  if (hlen > bytes.size()) return make_error(Errc::bad_header, "tcp: data offset beyond the data");
  TcpView v;
  v.data_ = bytes;
  auto st = parse_options(bytes.subspan(kTcpMinHeaderLen, hlen - kTcpMinHeaderLen), v.opts_);
  if (!st) return st.error();
  return v;
}

bool TcpView::checksum_ok(Ipv4Addr src, Ipv4Addr dst) const noexcept {
  ChecksumAccumulator acc;
  add_ipv4_pseudo_header(acc, src.v, dst.v, ip_proto::tcp, static_cast<uint16_t>(data_.size()));
  acc.add(data_);
  return acc.sum16() == 0xffff;
}

uint16_t tcp_checksum(Ipv4Addr src, Ipv4Addr dst, std::span<const uint8_t> segment) noexcept {
  // RFC 9293 §3.1 "Checksum": over the pseudo-header, the header and the data.
  ChecksumAccumulator acc;
  add_ipv4_pseudo_header(acc, src.v, dst.v, ip_proto::tcp, static_cast<uint16_t>(segment.size()));
  acc.add(segment);
  return acc.finish();
}

TcpHeader TcpHeader::from_view(const TcpView& v) noexcept {
  return TcpHeader{v.src_port(), v.dst_port(), v.seq(),    v.ack(),    v.flags(),
                   v.window(),   v.checksum(), v.urgent(), v.options()};
}

Result<TcpHeader> TcpHeader::parse(std::span<const uint8_t> bytes) noexcept {
  auto v = TcpView::parse(bytes);
  if (!v) return v.error();
  return from_view(*v);
}

size_t TcpHeader::emit(std::span<uint8_t> out) const noexcept {
  const size_t hlen = length();
  assert(out.size() >= hlen);
  uint8_t* p = out.data();
  store_be16(p, src_port);
  store_be16(p + 2, dst_port);
  store_be32(p + 4, seq.v);
  store_be32(p + 8, ack.v);
  p[12] = static_cast<uint8_t>((hlen / 4) << 4);  // RFC 9293 §3.1: data offset, reserved bits 0
  p[13] = flags;
  store_be16(p + 14, window);
  store_be16(p + 16, checksum);
  store_be16(p + 18, urgent);
  options.emit(out.subspan(kTcpMinHeaderLen));
  return hlen;
}

}  // namespace tern::wire
