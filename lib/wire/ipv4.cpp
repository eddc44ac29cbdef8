#include "tern/wire/ipv4.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <tuple>

#include "tern/base/checksum.hpp"

namespace tern::wire {

namespace {

// RFC 791 §3.1 "Options": EOL ends the list, NOP is one byte, every other
// option is type, length (counting both), data; it must fit in the header.
// Sets @p at to the offset in @p opts of the octet found wrong.
Status check_options(std::span<const uint8_t> opts, size_t& at) noexcept {
  size_t i = 0;
  while (i < opts.size()) {
    const uint8_t type = opts[i];
    if (type == ipv4_opt::eol) break;
    if (type == ipv4_opt::nop) {
      ++i;
      continue;
    }
    at = i;  // no room for the length octet: the type octet is the culprit
    if (i + 1 >= opts.size()) return make_error(Errc::bad_option, "ipv4: option length byte missing");
    const uint8_t len = opts[i + 1];
    at = i + 1;  // the length octet
    if (len < 2) return make_error(Errc::bad_option, "ipv4: option length below 2");
    if (len > opts.size() - i) return make_error(Errc::bad_option, "ipv4: option overruns the header");
    i += len;
  }
  return {};
}

Status check_options(std::span<const uint8_t> opts) noexcept {
  size_t at = 0;
  return check_options(opts, at);
}

}  // namespace

std::optional<uint8_t> ipv4_option_problem(std::span<const uint8_t> header) noexcept {
  if (header.size() < kIpv4MinHeaderLen) return std::nullopt;
  const size_t hlen = std::min<size_t>(size_t{header[0] & 0x0fu} * 4, header.size());
  if (hlen <= kIpv4MinHeaderLen) return std::nullopt;
  size_t at = 0;
  if (check_options(header.subspan(kIpv4MinHeaderLen, hlen - kIpv4MinHeaderLen), at)) return std::nullopt;
  return static_cast<uint8_t>(kIpv4MinHeaderLen + at);
}

Result<Ipv4View> Ipv4View::parse_impl(std::span<const uint8_t> bytes, bool quoted, size_t avail) noexcept {
  if (bytes.size() < kIpv4MinHeaderLen)
    return make_error(Errc::truncated, "ipv4: shorter than 20-byte header");
  // RFC 791 §3.1 "Version": 4.
  if ((bytes[0] >> 4) != 4) return make_error(Errc::bad_version, "ipv4: version is not 4");
  // RFC 791 §3.1 "IHL": header length in 32-bit words, minimum 5.
  const size_t hlen = size_t{bytes[0] & 0x0fu} * 4;
  if (hlen < kIpv4MinHeaderLen) return make_error(Errc::bad_header, "ipv4: IHL below 5");
  if (hlen > bytes.size()) return make_error(Errc::bad_header, "ipv4: IHL beyond the data");
  // RFC 791 §3.1 "Total Length": header and data; RFC 1122 §3.2.1.1 silently discard if inconsistent.
  const size_t total = load_be16(bytes.data() + 2);
  if (total < hlen) return make_error(Errc::bad_length, "ipv4: total length below header length");
  if (!quoted && total > avail) return make_error(Errc::bad_length, "ipv4: total length beyond the data");
  if (!quoted) {  // a quoted header's options are never acted on, and may be why it is quoted
    auto st = check_options(bytes.subspan(kIpv4MinHeaderLen, hlen - kIpv4MinHeaderLen));
    if (!st) return st.error();
  }
  return Ipv4View(bytes.first(std::min(total, bytes.size())), hlen);
}

Result<Ipv4View> Ipv4View::parse(std::span<const uint8_t> bytes) noexcept {
  return parse_impl(bytes, false, bytes.size());
}

Result<Ipv4View> Ipv4View::parse_quoted(std::span<const uint8_t> bytes) noexcept {
  return parse_impl(bytes, true, bytes.size());
}

bool Ipv4View::checksum_ok() const noexcept {
  auto h = header();
  return h.size() == 20 ? checksum_valid20(h.data()) : checksum_valid(h);  // no options: the common case
}

Ipv4Header Ipv4Header::from_view(const Ipv4View& v) noexcept {
  Ipv4Header h;
  h.tos = v.tos();
  h.total_length = v.total_length();
  h.id = v.id();
  h.df = v.dont_fragment();
  h.mf = v.more_fragments();
  h.frag_offset = v.fragment_offset();
  h.ttl = v.ttl();
  h.protocol = v.protocol();
  h.checksum = v.checksum();
  h.src = v.src();
  h.dst = v.dst();
  const auto opts = v.options();
  std::memcpy(h.options.data(), opts.data(), opts.size());
  h.options_len = static_cast<uint8_t>(opts.size());
  return h;
}

Result<Ipv4Header> Ipv4Header::parse(std::span<const uint8_t> bytes) noexcept {
  auto v = Ipv4View::parse(bytes);
  if (!v) return v.error();
  return from_view(*v);
}

bool operator==(const Ipv4Header& a, const Ipv4Header& b) noexcept {
  const auto fields = [](const Ipv4Header& h) {
    return std::tie(h.tos, h.total_length, h.id, h.df, h.mf, h.frag_offset, h.ttl, h.protocol, h.checksum,
                    h.src, h.dst, h.options_len);
  };
  return fields(a) == fields(b) && std::ranges::equal(std::span(a.options).first(a.used_options()),
                                                      std::span(b.options).first(b.used_options()));
}

size_t Ipv4Header::emit(std::span<uint8_t> out, bool compute_checksum) const noexcept {
  const size_t hlen = length();
  const size_t olen = used_options();
  assert(out.size() >= hlen && options_len <= kIpv4MaxOptionsLen);
  uint8_t* p = out.data();
  p[0] = static_cast<uint8_t>(0x40 | (hlen / 4));  // RFC 791 §3.1: version 4, IHL
  p[1] = tos;
  store_be16(p + 2, total_length);
  store_be16(p + 4, id);
  // RFC 791 §3.1: flags (reserved 0, DF, MF) then the offset in 8-byte units.
  const uint16_t frag =
      static_cast<uint16_t>((df ? 0x4000 : 0) | (mf ? 0x2000 : 0) | ((frag_offset / 8) & 0x1fff));
  store_be16(p + 6, frag);
  p[8] = ttl;
  p[9] = protocol;
  store_be16(p + 10, compute_checksum ? 0 : checksum);
  src.store(p + 12);
  dst.store(p + 16);
  std::memcpy(p + kIpv4MinHeaderLen, options.data(), olen);
  // RFC 791 §3.1 "Padding": zero bytes up to the 32-bit boundary.
  std::memset(p + kIpv4MinHeaderLen + olen, 0, hlen - kIpv4MinHeaderLen - olen);
  if (compute_checksum) store_be16(p + 10, internet_checksum(out.first(hlen)));
  return hlen;
}

}  // namespace tern::wire
