/**
 * @file
 * Link and network addresses: MAC (EUI-48), IPv4 address and IPv4 prefix.
 * Plain value types, host-order integers; load()/store() move them to and
 * from wire bytes. Text parsing is strict and never allocates; to_string()
 * allocates and is meant for logs and configuration, not the data path.
 */
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "tern/base/byteorder.hpp"
#include "tern/base/result.hpp"

namespace tern::wire {

/** An Ethernet (EUI-48) address; `b[0]` is the first byte on the wire. */
struct MacAddr {
  std::array<uint8_t, 6> b{};

  /** ff:ff:ff:ff:ff:ff. */
  static constexpr MacAddr broadcast() noexcept { return MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }

  /**
   * Parse exactly "aa:bb:cc:dd:ee:ff" (six two-digit hex groups, either case,
   * ':' separated, nothing before or after).
   * @return the address, or Errc::invalid_argument with the reason.
   */
  static Result<MacAddr> parse(std::string_view text) noexcept;

  /** Read 6 bytes at @p p (no alignment needed; @p p must have 6 bytes). */
  static MacAddr load(const uint8_t* p) noexcept {
    MacAddr m;
    std::memcpy(m.b.data(), p, 6);
    return m;
  }
  /** Write the 6 bytes to @p p (which must have room for 6). */
  void store(uint8_t* p) const noexcept { std::memcpy(p, b.data(), 6); }

  /** "aa:bb:cc:dd:ee:ff", lower case. Allocates. */
  std::string to_string() const;

  /** All ones. */
  constexpr bool is_broadcast() const noexcept { return (b[0] & b[1] & b[2] & b[3] & b[4] & b[5]) == 0xff; }
  /** IEEE 802: the I/G bit (least significant bit of the first byte) is set; includes broadcast. */
  constexpr bool is_multicast() const noexcept { return (b[0] & 0x01) != 0; }
  /** 00:00:00:00:00:00. */
  constexpr bool is_zero() const noexcept { return (b[0] | b[1] | b[2] | b[3] | b[4] | b[5]) == 0; }

  friend constexpr auto operator<=>(const MacAddr&, const MacAddr&) = default;
  friend constexpr bool operator==(const MacAddr&, const MacAddr&) = default;
};

/** An IPv4 address held in host order (`v = 0xc6120001` is 198.18.0.1). */
struct Ipv4Addr {
  uint32_t v = 0;  ///< host order

  /** Build a.b.c.d. */
  static constexpr Ipv4Addr from_octets(uint8_t a, uint8_t b, uint8_t c, uint8_t d) noexcept {
    return Ipv4Addr{(uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d};
  }

  /**
   * Parse dotted-quad "a.b.c.d": exactly four decimal octets 0..255, no
   * leading zeros (they would read as octal to inet_aton), no sign, no
   * whitespace, nothing after.
   * @return the address, or Errc::invalid_argument with the reason.
   */
  static Result<Ipv4Addr> parse(std::string_view text) noexcept;

  /** Read 4 network-order bytes at @p p (no alignment needed). */
  static Ipv4Addr load(const uint8_t* p) noexcept { return Ipv4Addr{load_be32(p)}; }
  /** Write the address as 4 network-order bytes to @p p. */
  void store(uint8_t* p) const noexcept { store_be32(p, v); }

  /** "a.b.c.d". Allocates. */
  std::string to_string() const;

  /** 255.255.255.255, the limited broadcast (RFC 919). */
  constexpr bool is_broadcast() const noexcept { return v == 0xffffffffu; }
  /** 224.0.0.0/4 (RFC 5771). */
  constexpr bool is_multicast() const noexcept { return (v >> 28) == 0xe; }
  /** 127.0.0.0/8 (RFC 1122 §3.2.1.3). */
  constexpr bool is_loopback() const noexcept { return (v >> 24) == 127; }
  /** 0.0.0.0. */
  constexpr bool is_unspecified() const noexcept { return v == 0; }
  /** 240.0.0.0/4, reserved (RFC 1112 §4); never a host. */
  constexpr bool is_class_e() const noexcept { return (v >> 28) == 0xf; }
  /** 0.0.0.0/8, "this network" (RFC 1122 §3.2.1.3 (a)/(b)): a source only while a host starts up. */
  constexpr bool is_this_network() const noexcept { return (v >> 24) == 0; }
  /**
   * Cannot name one host, whatever the subnet (RFC 1122 §3.2.1.3): 0.0.0.0/8,
   * 255.255.255.255, multicast, loopback, class E. Subnet broadcasts need the
   * interface's prefix (Ipv4::is_our_broadcast).
   */
  constexpr bool is_special() const noexcept {
    return is_this_network() || is_broadcast() || is_multicast() || is_loopback() || is_class_e();
  }

  friend constexpr auto operator<=>(const Ipv4Addr&, const Ipv4Addr&) = default;
  friend constexpr bool operator==(const Ipv4Addr&, const Ipv4Addr&) = default;
};

/**
 * An IPv4 prefix "a.b.c.d/len". `addr` keeps the bits given (an interface
 * address such as 198.18.0.1/24 is a valid prefix); network() clears the host bits.
 */
struct Ipv4Prefix {
  Ipv4Addr addr;
  uint8_t len = 0;  ///< 0..32

  /**
   * Parse "a.b.c.d/n" with n a decimal 0..32 without leading zeros.
   * @return the prefix, or Errc::invalid_argument with the reason.
   */
  static Result<Ipv4Prefix> parse(std::string_view text) noexcept;

  /** The netmask in host order: len leading one bits (0 for /0). */
  constexpr uint32_t mask() const noexcept {
    return len == 0 ? 0 : ~uint32_t{0} << (32 - (len > 32 ? 32 : len));
  }
  /** True when @p a lies in this prefix. */
  constexpr bool contains(Ipv4Addr a) const noexcept { return (a.v & mask()) == (addr.v & mask()); }
  /** The address with the host bits cleared. */
  constexpr Ipv4Addr network() const noexcept { return Ipv4Addr{addr.v & mask()}; }
  /** The directed broadcast: the address with all host bits set. */
  constexpr Ipv4Addr broadcast() const noexcept { return Ipv4Addr{addr.v | ~mask()}; }

  /** "a.b.c.d/n" (addr as stored). Allocates. */
  std::string to_string() const;

  friend constexpr bool operator==(const Ipv4Prefix&, const Ipv4Prefix&) = default;
};

}  // namespace tern::wire

namespace tern {

/** An IPv4 address and a port (TCP or UDP): the one endpoint type of every socket. */
struct Endpoint {
  wire::Ipv4Addr addr;
  uint16_t port = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

}  // namespace tern
