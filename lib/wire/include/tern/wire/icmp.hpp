/**
 * @file
 * ICMP for IPv4 (RFC 792): the 8-byte header (type, code, checksum, 32-bit
 * rest of header) and the message body. Data-path: views never copy or allocate.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tern/base/byteorder.hpp"
#include "tern/base/result.hpp"
#include "tern/wire/addr.hpp"

namespace tern::wire {

/** Type, code, checksum and the 4-byte rest of header. */
inline constexpr size_t kIcmpHeaderLen = 8;

/** ICMP types (RFC 792). */
namespace icmp_type {
inline constexpr uint8_t echo_reply = 0;
inline constexpr uint8_t dest_unreachable = 3;
inline constexpr uint8_t source_quench = 4;
inline constexpr uint8_t redirect = 5;
inline constexpr uint8_t echo_request = 8;
inline constexpr uint8_t time_exceeded = 11;
inline constexpr uint8_t parameter_problem = 12;
}  // namespace icmp_type

/** ICMP codes (RFC 792); the meaning depends on the type. */
namespace icmp_code {
// dest_unreachable
inline constexpr uint8_t net_unreachable = 0;
inline constexpr uint8_t host_unreachable = 1;
inline constexpr uint8_t protocol_unreachable = 2;
inline constexpr uint8_t port_unreachable = 3;
inline constexpr uint8_t frag_needed = 4;  ///< with next_hop_mtu (RFC 1191 §4)
// time_exceeded
inline constexpr uint8_t ttl_exceeded = 0;
inline constexpr uint8_t reassembly_exceeded = 1;
// parameter_problem
inline constexpr uint8_t pointer_indicates_error = 0;  ///< the pointer names the octet (RFC 792)
}  // namespace icmp_code

/** A checked view over an ICMP message; the bytes must outlive the view. */
class IcmpView {
 public:
  /** An empty view: only one returned by parse() may be read. */
  IcmpView() = default;

  /**
   * Check that @p bytes (the whole ICMP message, i.e. the IPv4 payload) holds the 8-byte header.
   * @return the view, or Errc::truncated. The checksum is not checked: see checksum_ok().
   */
  static Result<IcmpView> parse(std::span<const uint8_t> bytes) noexcept;

  /** An icmp_type value. */
  uint8_t type() const noexcept { return data_[0]; }
  /** An icmp_code value (meaning depends on the type). */
  uint8_t code() const noexcept { return data_[1]; }
  /** The checksum field as received. */
  uint16_t checksum() const noexcept { return load_be16(data_.data() + 2); }
  /** The 32-bit rest of header (meaning depends on the type). */
  uint32_t rest() const noexcept { return load_be32(data_.data() + 4); }
  /** Echo / echo reply identifier (RFC 792, high half of rest). */
  uint16_t id() const noexcept { return load_be16(data_.data() + 4); }
  /** Echo / echo reply sequence number (low half of rest). */
  uint16_t seq() const noexcept { return load_be16(data_.data() + 6); }
  /** RFC 1191 §4: the next-hop MTU in the low 16 bits of a frag-needed message (0 from old routers). */
  uint16_t next_hop_mtu() const noexcept { return load_be16(data_.data() + 6); }
  /** RFC 792 parameter problem: the octet where the error was detected. */
  uint8_t pointer() const noexcept { return data_[4]; }
  /** RFC 792 redirect: the gateway address. */
  Ipv4Addr gateway() const noexcept { return Ipv4Addr::load(data_.data() + 4); }
  /** Everything after the 8-byte header (for errors: the quoted IP header and data). */
  std::span<const uint8_t> payload() const noexcept { return data_.subspan(kIcmpHeaderLen); }
  /** The whole message. */
  std::span<const uint8_t> bytes() const noexcept { return data_; }
  /** RFC 792: the one's complement sum over the whole message, checksum included, is 0xffff. */
  bool checksum_ok() const noexcept;
  /**
   * An error message (RFC 1122 §3.2.2): destination unreachable, source
   * quench, redirect, time exceeded or parameter problem.
   */
  bool is_error() const noexcept;

 private:
  explicit IcmpView(std::span<const uint8_t> data) noexcept : data_(data) {}
  std::span<const uint8_t> data_;
};

/** The ICMP header as values; the checksum is emitted verbatim. */
struct IcmpHeader {
  uint8_t type = 0;
  uint8_t code = 0;
  uint16_t checksum = 0;
  uint32_t rest = 0;  ///< host order; echo: id << 16 | seq; frag-needed: next-hop MTU

  /** Parse as IcmpView::parse() does and copy the header fields out. */
  static Result<IcmpHeader> parse(std::span<const uint8_t> bytes) noexcept;
  /** Copy the header fields of a parsed view. */
  static IcmpHeader from_view(const IcmpView& v) noexcept;
  /** Always kIcmpHeaderLen. */
  size_t length() const noexcept { return kIcmpHeaderLen; }
  /**
   * Write the 8 header bytes to the front of @p out (checksum as stored).
   * @pre out.size() >= length().
   * @return length().
   */
  size_t emit(std::span<uint8_t> out) const noexcept;
  /**
   * RFC 792: the checksum of the whole message (header and body), whose
   * checksum field must be zero in @p message. Store it with store_be16().
   */
  static uint16_t compute_checksum(std::span<const uint8_t> message) noexcept;

  friend bool operator==(const IcmpHeader&, const IcmpHeader&) = default;
};

}  // namespace tern::wire
