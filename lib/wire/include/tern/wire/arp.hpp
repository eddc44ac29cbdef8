/**
 * @file
 * ARP (RFC 826) for Ethernet hardware and IPv4 protocol addresses only.
 * Data-path: views never copy or allocate.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tern/base/byteorder.hpp"
#include "tern/base/result.hpp"
#include "tern/wire/addr.hpp"

namespace tern::wire {

/** An Ethernet/IPv4 ARP packet: 8 fixed bytes + 2 * (6 + 4). */
inline constexpr size_t kArpLen = 28;
/** ar$hrd for Ethernet (RFC 826; IANA "Hardware Types"). */
inline constexpr uint16_t kArpHtypeEthernet = 1;

/** ar$op values (RFC 826). */
namespace arp_op {
inline constexpr uint16_t request = 1;
inline constexpr uint16_t reply = 2;
}  // namespace arp_op

/** A checked view over an ARP packet; the bytes must outlive the view. */
class ArpView {
 public:
  /** An empty view: only one returned by parse() may be read. */
  ArpView() = default;

  /**
   * Check @p bytes (at least 28; Ethernet padding after them is ignored).
   * @return the view, or Errc::truncated; Errc::unsupported when the hardware
   *         type is not Ethernet (1), the protocol type not IPv4 (0x0800), or
   *         the address lengths not 6 and 4; Errc::bad_value for an op other
   *         than request (1) or reply (2).
   */
  static Result<ArpView> parse(std::span<const uint8_t> bytes) noexcept;

  /** ar$hrd: always 1 (Ethernet) in a parsed view. */
  uint16_t htype() const noexcept { return load_be16(p() + 0); }
  /** ar$pro: always 0x0800 (IPv4) in a parsed view. */
  uint16_t ptype() const noexcept { return load_be16(p() + 2); }
  /** ar$hln: always 6 in a parsed view. */
  uint8_t hlen() const noexcept { return p()[4]; }
  /** ar$pln: always 4 in a parsed view. */
  uint8_t plen() const noexcept { return p()[5]; }
  /** arp_op::request or arp_op::reply. */
  uint16_t op() const noexcept { return load_be16(p() + 6); }
  /** Sender hardware address. */
  MacAddr sha() const noexcept { return MacAddr::load(p() + 8); }
  /** Sender protocol address. */
  Ipv4Addr spa() const noexcept { return Ipv4Addr::load(p() + 14); }
  /** Target hardware address. */
  MacAddr tha() const noexcept { return MacAddr::load(p() + 18); }
  /** Target protocol address. */
  Ipv4Addr tpa() const noexcept { return Ipv4Addr::load(p() + 24); }
  /** The 28 bytes of the packet. */
  std::span<const uint8_t> bytes() const noexcept { return data_; }

 private:
  explicit ArpView(std::span<const uint8_t> data) noexcept : data_(data) {}
  const uint8_t* p() const noexcept { return data_.data(); }
  std::span<const uint8_t> data_;
};

/** An Ethernet/IPv4 ARP packet as values (htype 1, ptype 0x0800, hlen 6, plen 4 implied). */
struct ArpPacket {
  uint16_t op = arp_op::request;
  MacAddr sha;
  Ipv4Addr spa;
  MacAddr tha;
  Ipv4Addr tpa;

  /** Parse as ArpView::parse() does and copy the fields out. */
  static Result<ArpPacket> parse(std::span<const uint8_t> bytes) noexcept;
  /** Copy the fields of a parsed view. */
  static ArpPacket from_view(const ArpView& v) noexcept;
  /** Always kArpLen. */
  size_t length() const noexcept { return kArpLen; }
  /**
   * Write the 28 bytes to the front of @p out.
   * @pre out.size() >= length().
   * @return length().
   */
  size_t emit(std::span<uint8_t> out) const noexcept;

  friend bool operator==(const ArpPacket&, const ArpPacket&) = default;
};

}  // namespace tern::wire
