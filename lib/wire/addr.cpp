#include "tern/wire/addr.hpp"

#include <cstdio>

namespace tern::wire {

namespace {

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Parse a decimal number of at most @p max_digits digits, without a leading
// zero unless the number is 0, from the front of @p s; advance @p s past it.
bool take_decimal(std::string_view& s, size_t max_digits, uint32_t& out) noexcept {
  size_t n = 0;
  uint32_t v = 0;
  while (n < s.size() && is_digit(s[n])) {
    if (n == max_digits) return false;
    v = v * 10 + static_cast<uint32_t>(s[n] - '0');
    ++n;
  }
  if (n == 0 || (n > 1 && s[0] == '0')) return false;
  s.remove_prefix(n);
  out = v;
  return true;
}

// Parse a dotted quad from the front of @p s, leaving whatever follows it.
Result<Ipv4Addr> take_ipv4(std::string_view& s) noexcept {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (s.empty() || s[0] != '.')
        return make_error(Errc::invalid_argument, "ipv4: expected four dotted octets");
      s.remove_prefix(1);
    }
    uint32_t octet = 0;
    if (!take_decimal(s, 3, octet)) {
      return make_error(Errc::invalid_argument, "ipv4: octet is not 1-3 digits without leading zero");
    }
    if (octet > 255) return make_error(Errc::invalid_argument, "ipv4: octet above 255");
    v = (v << 8) | octet;
  }
  return Ipv4Addr{v};
}

}  // namespace

Result<MacAddr> MacAddr::parse(std::string_view text) noexcept {
  if (text.size() != 17) return make_error(Errc::invalid_argument, "mac: not of the form aa:bb:cc:dd:ee:ff");
  MacAddr m;
  for (size_t i = 0; i < 6; ++i) {
    const size_t at = i * 3;
    if (i > 0 && text[at - 1] != ':')
      return make_error(Errc::invalid_argument, "mac: groups not ':' separated");
    const int hi = hex_digit(text[at]);
    const int lo = hex_digit(text[at + 1]);
    if (hi < 0 || lo < 0) return make_error(Errc::invalid_argument, "mac: group is not two hex digits");
    m.b[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return m;
}

std::string MacAddr::to_string() const {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
  return std::string(buf);
}

Result<Ipv4Addr> Ipv4Addr::parse(std::string_view text) noexcept {
  auto r = take_ipv4(text);
  if (!r) return r;
  if (!text.empty()) return make_error(Errc::invalid_argument, "ipv4: trailing characters after address");
  return r;
}

std::string Ipv4Addr::to_string() const {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%u.%u.%u.%u", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
  return std::string(buf);
}

Result<Ipv4Prefix> Ipv4Prefix::parse(std::string_view text) noexcept {
  auto a = take_ipv4(text);
  if (!a) return a.error();
  if (text.empty() || text[0] != '/') return make_error(Errc::invalid_argument, "prefix: missing '/len'");
  text.remove_prefix(1);
  uint32_t len = 0;
  if (!take_decimal(text, 2, len)) {
    return make_error(Errc::invalid_argument, "prefix: length is not 1-2 digits without leading zero");
  }
  if (len > 32) return make_error(Errc::invalid_argument, "prefix: length above 32");
  if (!text.empty()) return make_error(Errc::invalid_argument, "prefix: trailing characters after length");
  return Ipv4Prefix{*a, static_cast<uint8_t>(len)};
}

std::string Ipv4Prefix::to_string() const { return addr.to_string() + "/" + std::to_string(len); }

}  // namespace tern::wire
