/**
 * @file
 * Ethernet II header (IEEE 802.3 clause 3.2.6 "Length/Type" used as a type)
 * with at most one IEEE 802.1Q tag. Data-path: views never copy or allocate.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "tern/base/byteorder.hpp"
#include "tern/base/result.hpp"
#include "tern/wire/addr.hpp"

namespace tern::wire {

/** Destination, source and type: 14 bytes. */
inline constexpr size_t kEthernetHeaderLen = 14;
/** An IEEE 802.1Q tag: TPID 0x8100 then the 16-bit TCI. */
inline constexpr size_t kVlanTagLen = 4;
/** The minimum frame length without the 4-byte FCS (IEEE 802.3 clause 4.4.2). */
inline constexpr size_t kEthernetMinFrame = 60;

/** EtherType values (IEEE registry). */
namespace ethertype {
inline constexpr uint16_t ipv4 = 0x0800;
inline constexpr uint16_t arp = 0x0806;
inline constexpr uint16_t vlan = 0x8100;  ///< IEEE 802.1Q C-tag TPID
inline constexpr uint16_t qinq = 0x88a8;  ///< IEEE 802.1ad S-tag TPID
inline constexpr uint16_t ipv6 = 0x86dd;
}  // namespace ethertype

/**
 * A checked view over an Ethernet frame. Holds a span into the caller's
 * buffer, which must outlive the view. One 802.1Q tag (TPID 0x8100) is
 * decoded; an 802.1ad S-tag (0x88a8) is not: ethertype() then reports
 * ethertype::qinq and payload() starts right after the 14-byte header.
 */
class EthernetView {
 public:
  /** An empty view: only one returned by parse() may be read. */
  EthernetView() = default;

  /**
   * Check that @p frame holds a full header (14 bytes, 18 with an 802.1Q tag).
   * @return the view, or Errc::truncated. The frame may carry padding or an FCS after the payload.
   */
  static Result<EthernetView> parse(std::span<const uint8_t> frame) noexcept;

  /** Destination address. */
  MacAddr dst() const noexcept { return MacAddr::load(data_.data()); }
  /** Source address. */
  MacAddr src() const noexcept { return MacAddr::load(data_.data() + 6); }
  /** The EtherType of the payload: the inner one when an 802.1Q tag is present. */
  uint16_t ethertype() const noexcept { return load_be16(data_.data() + hlen_ - 2); }
  /** The 802.1Q TCI (PCP, DEI, VID) when the frame is tagged. */
  std::optional<uint16_t> vlan_tci() const noexcept {
    if (hlen_ == kEthernetHeaderLen) return std::nullopt;
    return load_be16(data_.data() + 14);
  }
  /** 14, or 18 when tagged. */
  size_t header_length() const noexcept { return hlen_; }
  /** Everything after the header (including any padding). */
  std::span<const uint8_t> payload() const noexcept { return data_.subspan(hlen_); }
  /** The whole frame as given to parse(). */
  std::span<const uint8_t> bytes() const noexcept { return data_; }

 private:
  EthernetView(std::span<const uint8_t> data, size_t hlen) noexcept : data_(data), hlen_(hlen) {}
  std::span<const uint8_t> data_;
  size_t hlen_ = 0;
};

/** An Ethernet header as values; emit() writes an 802.1Q tag when vlan_tci is set. */
struct EthernetHeader {
  MacAddr dst;
  MacAddr src;
  uint16_t ethertype = 0;            ///< of the payload (inner type when tagged)
  std::optional<uint16_t> vlan_tci;  ///< PCP(3) DEI(1) VID(12), host order

  /** Parse as EthernetView::parse() does and copy the fields out. */
  static Result<EthernetHeader> parse(std::span<const uint8_t> frame) noexcept;
  /** Copy the fields of a parsed view. */
  static EthernetHeader from_view(const EthernetView& v) noexcept;
  /** 14, or 18 with a tag. */
  size_t length() const noexcept { return vlan_tci ? kEthernetHeaderLen + kVlanTagLen : kEthernetHeaderLen; }
  /**
   * Write the header to the front of @p out.
   * @pre out.size() >= length().
   * @return length().
   */
  size_t emit(std::span<uint8_t> out) const noexcept;

  friend bool operator==(const EthernetHeader&, const EthernetHeader&) = default;
};

}  // namespace tern::wire
