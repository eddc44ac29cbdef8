/**
 * @file
 * UDP header (RFC 768) and its IPv4 pseudo-header checksum. Data-path:
 * views never copy or allocate.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tern/base/byteorder.hpp"
#include "tern/base/result.hpp"
#include "tern/wire/addr.hpp"

namespace tern::wire {

/** Source port, destination port, length, checksum. */
inline constexpr size_t kUdpHeaderLen = 8;

/**
 * RFC 768: the checksum of a UDP datagram over the IPv4 pseudo-header
 * (@p src, @p dst, protocol 17, length = @p datagram.size()) and @p datagram
 * (header and payload) whose checksum field must be zero. A computed 0 is
 * returned as 0xffff, since 0 on the wire means "no checksum".
 */
uint16_t udp_checksum(Ipv4Addr src, Ipv4Addr dst, std::span<const uint8_t> datagram) noexcept;

/**
 * A checked view over a UDP datagram; the bytes must outlive the view.
 * bytes() and payload() stop at the length field (IP or Ethernet padding is excluded).
 */
class UdpView {
 public:
  /** An empty view: only one returned by parse() may be read. */
  UdpView() = default;

  /**
   * Check @p bytes (the IPv4 payload).
   * @return the view, or Errc::truncated (under 8 bytes), Errc::bad_length
   *         (length field below 8 or beyond the data). The checksum is not checked.
   */
  static Result<UdpView> parse(std::span<const uint8_t> bytes) noexcept;

  /** Source port (0: none, RFC 768). */
  uint16_t src_port() const noexcept { return load_be16(data_.data()); }
  /** Destination port. */
  uint16_t dst_port() const noexcept { return load_be16(data_.data() + 2); }
  /** The length field: header plus payload. */
  uint16_t length() const noexcept { return load_be16(data_.data() + 4); }
  /** The checksum field; 0 means none was computed (RFC 768). */
  uint16_t checksum() const noexcept { return load_be16(data_.data() + 6); }
  /** length() - 8 bytes of data. */
  std::span<const uint8_t> payload() const noexcept { return data_.subspan(kUdpHeaderLen); }
  /** Header and payload (length() bytes). */
  std::span<const uint8_t> bytes() const noexcept { return data_; }
  /**
   * True when the checksum field is 0 (RFC 768: the sender computed none) or
   * the datagram with the pseudo-header for @p src / @p dst sums to 0xffff.
   */
  bool checksum_ok(Ipv4Addr src, Ipv4Addr dst) const noexcept;

 private:
  explicit UdpView(std::span<const uint8_t> data) noexcept : data_(data) {}
  std::span<const uint8_t> data_;
};

/**
 * The UDP header as values; the checksum is emitted verbatim.
 * Note: the `length` member is the wire length field, so the header's own
 * size is header_length() (always 8), not length().
 */
struct UdpHeader {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint16_t length = 0;    ///< header plus payload
  uint16_t checksum = 0;  ///< 0: none

  /** Parse as UdpView::parse() does and copy the header fields out. */
  static Result<UdpHeader> parse(std::span<const uint8_t> bytes) noexcept;
  /** Copy the header fields of a parsed view. */
  static UdpHeader from_view(const UdpView& v) noexcept;
  /** The number of bytes emit() writes: always kUdpHeaderLen. */
  static constexpr size_t header_length() noexcept { return kUdpHeaderLen; }
  /**
   * Write the 8 header bytes to the front of @p out.
   * @pre out.size() >= header_length().
   * @return header_length().
   */
  size_t emit(std::span<uint8_t> out) const noexcept;
  /** Same as the free function wire::udp_checksum(). */
  static uint16_t udp_checksum(Ipv4Addr src, Ipv4Addr dst, std::span<const uint8_t> datagram) noexcept {
    return wire::udp_checksum(src, dst, datagram);
  }

  friend bool operator==(const UdpHeader&, const UdpHeader&) = default;
};

}  // namespace tern::wire
