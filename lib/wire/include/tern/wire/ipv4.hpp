/**
 * @file
 * IPv4 header (RFC 791 §3.1). The view checks lengths and walks the options
 * but leaves the header checksum to the caller (the NIC may have verified it):
 * see Ipv4View::checksum_ok(). Data-path: views never copy or allocate.
 */
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "tern/base/byteorder.hpp"
#include "tern/base/result.hpp"
#include "tern/wire/addr.hpp"

namespace tern::wire {

/** The header without options (IHL 5). */
inline constexpr size_t kIpv4MinHeaderLen = 20;
/** The header with the most options (IHL 15). */
inline constexpr size_t kIpv4MaxHeaderLen = 60;
/** The most option bytes a header can carry. */
inline constexpr size_t kIpv4MaxOptionsLen = kIpv4MaxHeaderLen - kIpv4MinHeaderLen;

/** IP protocol numbers (IANA "Assigned Internet Protocol Numbers"). */
namespace ip_proto {
inline constexpr uint8_t icmp = 1;
inline constexpr uint8_t tcp = 6;
inline constexpr uint8_t udp = 17;
}  // namespace ip_proto

/** IPv4 option types (RFC 791 §3.1, RFC 2113). */
namespace ipv4_opt {
inline constexpr uint8_t eol = 0;             ///< end of option list
inline constexpr uint8_t nop = 1;             ///< no operation
inline constexpr uint8_t router_alert = 148;  ///< RFC 2113 §2.1
}  // namespace ipv4_opt

/**
 * A checked view over an IPv4 packet. The bytes must outlive the view;
 * bytes() and payload() exclude anything past total_length (Ethernet padding).
 */
class Ipv4View {
 public:
  /** An empty view: only one returned by parse() may be read. */
  Ipv4View() = default;

  /**
   * Check @p bytes as a received datagram.
   * @return the view, or: Errc::truncated (under 20 bytes), Errc::bad_version
   *         (not 4), Errc::bad_header (IHL below 5 or past the data),
   *         Errc::bad_length (total length below the header length or past the
   *         data), Errc::bad_option (an option without a valid length).
   *         The checksum is not checked.
   */
  static Result<Ipv4View> parse(std::span<const uint8_t> bytes) noexcept;

  /**
   * As parse(), for the header quoted in an ICMP error (RFC 792): total_length
   * may exceed the bytes present; payload() is then what is there (RFC 1812
   * §4.3.2.3 routers quote as much as fits, RFC 792 at least 8 bytes).
   * The options are not walked (Errc::bad_option never comes back): they are
   * never acted on in a quote, and a Parameter Problem quotes a header whose
   * options are malformed; options() still lies within the header.
   */
  static Result<Ipv4View> parse_quoted(std::span<const uint8_t> bytes) noexcept;
  /**
   * As parse(), for a datagram whose @p head (at least the whole header) is
   * the first part of @p total_bytes (an mbuf chain, e.g. a GRO merge):
   * Errc::bad_length when the total length passes total_bytes. The view's
   * bytes() and payload() cover only what is in @p head.
   */
  static Result<Ipv4View> parse_head(std::span<const uint8_t> head, size_t total_bytes) noexcept {
    return parse_impl(head, false, total_bytes > head.size() ? total_bytes : head.size());
  }

  /** IHL * 4: 20..60. */
  size_t header_length() const noexcept { return hlen_; }
  /** The type-of-service byte (DSCP << 2 | ECN, RFC 2474 / RFC 3168). */
  uint8_t tos() const noexcept { return p()[1]; }
  /** The total length field: header plus data. */
  uint16_t total_length() const noexcept { return load_be16(p() + 2); }
  /** The identification field (RFC 791 §3.1, RFC 6864). */
  uint16_t id() const noexcept { return load_be16(p() + 4); }
  /** The DF flag (RFC 791 §3.1 "Flags", bit 1). */
  bool dont_fragment() const noexcept { return (p()[6] & 0x40) != 0; }
  /** The MF flag (bit 2). */
  bool more_fragments() const noexcept { return (p()[6] & 0x20) != 0; }
  /** The fragment offset in bytes (the field counts 8-byte units). */
  uint16_t fragment_offset() const noexcept {
    return static_cast<uint16_t>((load_be16(p() + 6) & 0x1fff) * 8);
  }
  /** MF set or a non-zero offset: part of a fragmented datagram (RFC 791 §3.2). */
  bool is_fragment() const noexcept { return (load_be16(p() + 6) & 0x3fff) != 0; }
  /** Time to live. */
  uint8_t ttl() const noexcept { return p()[8]; }
  /** The next protocol: an ip_proto value. */
  uint8_t protocol() const noexcept { return p()[9]; }
  /** The header checksum field as received. */
  uint16_t checksum() const noexcept { return load_be16(p() + 10); }
  /** Source address. */
  Ipv4Addr src() const noexcept { return Ipv4Addr::load(p() + 12); }
  /** Destination address. */
  Ipv4Addr dst() const noexcept { return Ipv4Addr::load(p() + 16); }
  /** The options area (header_length() - 20 bytes, including any padding). */
  std::span<const uint8_t> options() const noexcept {
    return data_.subspan(kIpv4MinHeaderLen, hlen_ - kIpv4MinHeaderLen);
  }
  /** The data after the header: total_length - header_length bytes (fewer for a short quoted header). */
  std::span<const uint8_t> payload() const noexcept { return data_.subspan(hlen_); }
  /** The header and payload, without trailing padding. */
  std::span<const uint8_t> bytes() const noexcept { return data_; }
  /** The header bytes. */
  std::span<const uint8_t> header() const noexcept { return data_.first(hlen_); }
  /** RFC 791 §3.1: the one's complement sum of the header, checksum included, is 0xffff. */
  bool checksum_ok() const noexcept;

 private:
  Ipv4View(std::span<const uint8_t> data, size_t hlen) noexcept : data_(data), hlen_(hlen) {}
  static Result<Ipv4View> parse_impl(std::span<const uint8_t> bytes, bool quoted, size_t avail) noexcept;
  const uint8_t* p() const noexcept { return data_.data(); }
  std::span<const uint8_t> data_;
  size_t hlen_ = 0;
};

/**
 * Where the options of an IPv4 header are malformed (the reason parse() gives
 * Errc::bad_option): the offset, from the first header octet, of the octet
 * found wrong, which is the pointer of an ICMP Parameter Problem (RFC 792,
 * RFC 1122 §3.2.2.5). That is the option's length octet when the length is
 * below 2 or runs past the header, its type octet when the header ends before
 * the length octet.
 * @param header at least the IHL * 4 header bytes (fewer: only those present are walked)
 * @return the offset (21..59), or nullopt when the options are well formed or
 *         the bytes are too short to hold a header with options
 */
std::optional<uint8_t> ipv4_option_problem(std::span<const uint8_t> header) noexcept;

/**
 * An IPv4 header as values. The reserved flag bit is not kept (emitted 0).
 * Options are kept as raw bytes; emit() pads them with EOL (zero) bytes to a
 * multiple of 4 (RFC 791 §3.1 "Padding").
 */
struct Ipv4Header {
  uint8_t tos = 0;
  uint16_t total_length = 0;  ///< header plus data
  uint16_t id = 0;
  bool df = false;
  bool mf = false;
  uint16_t frag_offset = 0;  ///< in bytes, a multiple of 8
  uint8_t ttl = 64;
  uint8_t protocol = 0;
  uint16_t checksum = 0;  ///< emitted only when emit(out, false)
  Ipv4Addr src;
  Ipv4Addr dst;
  std::array<uint8_t, kIpv4MaxOptionsLen> options{};
  uint8_t options_len = 0;  ///< bytes used in options, 0..40

  /** Parse as Ipv4View::parse() does and copy the fields out. */
  static Result<Ipv4Header> parse(std::span<const uint8_t> bytes) noexcept;
  /** Copy the fields of a parsed view (options including their padding). */
  static Ipv4Header from_view(const Ipv4View& v) noexcept;
  /** 20 plus options_len (at most 40) rounded up to 4. */
  size_t length() const noexcept { return kIpv4MinHeaderLen + ((used_options() + 3u) & ~size_t{3}); }
  /** options_len, clamped to 40. */
  size_t used_options() const noexcept {
    return options_len < kIpv4MaxOptionsLen ? options_len : kIpv4MaxOptionsLen;
  }
  /**
   * Write the header to the front of @p out.
   * @param compute_checksum true: compute the header checksum into the bytes
   *        (RFC 791 §3.1); false: write the `checksum` member verbatim.
   * @pre out.size() >= length(), options_len <= 40.
   * @return length().
   */
  size_t emit(std::span<uint8_t> out, bool compute_checksum = true) const noexcept;

  /** Equal headers; only the options_len option bytes in use are compared. */
  friend bool operator==(const Ipv4Header& a, const Ipv4Header& b) noexcept;
};

}  // namespace tern::wire
