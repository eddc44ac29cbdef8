/**
 * @file
 * TCP header (RFC 9293 §3.1) with the options tern understands: MSS
 * (RFC 9293 §3.2), window scale and timestamps (RFC 7323), SACK-permitted and
 * SACK (RFC 2018). Data-path: views never copy or allocate.
 *
 * Canonical option layout written by TcpOptions::emit() (that of Linux
 * tcp_options_write(), so Linux segments round-trip byte-exact); each item is
 * present only when its option is set, in this order:
 *
 *   1. MSS                      02 04 mss(2)
 *   2. timestamps               04 02 08 0a tsval(4) tsecr(4)   when sack_permitted
 *                               01 01 08 0a tsval(4) tsecr(4)   otherwise
 *      or, without timestamps, sack_permitted alone: 01 01 04 02
 *   3. window scale             01 03 03 shift
 *   4. SACK blocks              01 01 05 (2+8n) left(4) right(4) ...
 *   5. Fast Open (RFC 7413)     NOPs to a 4-byte boundary, 22 (2+n) cookie(n); n = 0 asks for one
 *
 * Every item is a multiple of 4 bytes, so no trailing padding is needed. At
 * most 40 option bytes fit (RFC 9293 §3.1): SACK blocks that do not fit after
 * the other options are dropped (the earliest blocks are kept, RFC 2018 §4
 * puts the most recent first).
 */
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "tern/base/byteorder.hpp"
#include "tern/base/result.hpp"
#include "tern/wire/addr.hpp"
#include "tern/wire/seq.hpp"

namespace tern::wire {

/** The header without options (data offset 5). */
inline constexpr size_t kTcpMinHeaderLen = 20;
/** The header with the most options (data offset 15). */
inline constexpr size_t kTcpMaxHeaderLen = 60;
/** The most option bytes a header can carry. */
inline constexpr size_t kTcpMaxOptionsLen = kTcpMaxHeaderLen - kTcpMinHeaderLen;
/** RFC 7323 §2.3: the largest usable window shift. */
inline constexpr uint8_t kTcpMaxWindowShift = 14;
/** RFC 2018 §3: at most 4 SACK blocks fit in the option space. */
inline constexpr size_t kTcpMaxSackBlocks = 4;

/** The flag bits of header byte 13 (RFC 9293 §3.1, RFC 3168 §6.1 for ECE and CWR). */
namespace tcp_flag {
inline constexpr uint8_t fin = 0x01;
inline constexpr uint8_t syn = 0x02;
inline constexpr uint8_t rst = 0x04;
inline constexpr uint8_t psh = 0x08;
inline constexpr uint8_t ack = 0x10;
inline constexpr uint8_t urg = 0x20;
inline constexpr uint8_t ece = 0x40;
inline constexpr uint8_t cwr = 0x80;
}  // namespace tcp_flag

/** TCP option kinds (IANA "TCP Option Kind Numbers"). */
namespace tcp_opt {
inline constexpr uint8_t eol = 0;
inline constexpr uint8_t nop = 1;
inline constexpr uint8_t mss = 2;             ///< length 4
inline constexpr uint8_t wscale = 3;          ///< length 3
inline constexpr uint8_t sack_permitted = 4;  ///< length 2
inline constexpr uint8_t sack = 5;            ///< length 2 + 8n
inline constexpr uint8_t timestamps = 8;      ///< length 10
inline constexpr uint8_t fastopen = 34;       ///< RFC 7413 §4.1.1: length 2 (request) or 6..18
}  // namespace tcp_opt

/** One SACK block (RFC 2018 §3): [left, right). */
struct SackBlock {
  SeqNum left;   ///< first sequence number of the block
  SeqNum right;  ///< sequence number just after the block
  friend constexpr bool operator==(const SackBlock&, const SackBlock&) = default;
};

/** The timestamps option (RFC 7323 §3.2), host order. */
struct TcpTimestamps {
  uint32_t tsval = 0;  ///< the sender's timestamp clock
  uint32_t tsecr = 0;  ///< echo of the peer's latest tsval (valid with ACK)
  friend constexpr bool operator==(const TcpTimestamps&, const TcpTimestamps&) = default;
};

/**
 * The TCP Fast Open option (RFC 7413 §4.1.1): a cookie of 4..16 bytes, or a cookie request
 * (len 0).
 */
struct FastOpenCookie {
  static constexpr uint8_t kMinLen = 4;
  static constexpr uint8_t kMaxLen = 16;
  uint8_t len = 0;  ///< cookie bytes in use; 0: a request
  std::array<uint8_t, kMaxLen> bytes{};
  std::span<const uint8_t> cookie() const noexcept { return std::span<const uint8_t>(bytes.data(), len); }
  friend bool operator==(const FastOpenCookie& a, const FastOpenCookie& b) noexcept {
    return a.len == b.len && std::equal(a.bytes.begin(), a.bytes.begin() + a.len, b.bytes.begin());
  }
};

/** The options tern understands; unknown options are skipped when parsing and never emitted. */
struct TcpOptions {
  std::optional<uint16_t> mss;                      ///< maximum segment size (SYN only)
  std::optional<uint8_t> wscale;                    ///< window shift (SYN only); parsing clamps to 14
  bool sack_permitted = false;                      ///< SACK-permitted (SYN only)
  uint8_t sack_count = 0;                           ///< valid entries in sack, 0..4
  std::array<SackBlock, kTcpMaxSackBlocks> sack{};  ///< SACK blocks, most recent first (RFC 2018 §4)
  std::optional<TcpTimestamps> timestamps;          ///< RFC 7323 §3
  /// RFC 7413 (SYN and SYN-ACK only); a malformed length is ignored as §4.1.1 requires.
  std::optional<FastOpenCookie> fastopen;

  /** The SACK blocks in use. */
  std::span<const SackBlock> sack_blocks() const noexcept {
    return std::span<const SackBlock>(sack.data(),
                                      sack_count < kTcpMaxSackBlocks ? sack_count : kTcpMaxSackBlocks);
  }
  /** How many SACK blocks emit() writes: sack_count limited by the space left (see the file comment). */
  size_t emitted_sack_blocks() const noexcept;
  /** Bytes emit() writes: a multiple of 4, at most 40. */
  size_t length() const noexcept;
  /**
   * Write the options in the canonical layout (file comment) to the front of @p out.
   * @pre out.size() >= length().
   * @return length().
   */
  size_t emit(std::span<uint8_t> out) const noexcept;

  /** Equal options; only the sack_count blocks in use are compared. */
  friend bool operator==(const TcpOptions& a, const TcpOptions& b) noexcept;
};

/**
 * A checked view over a TCP segment; the bytes must outlive the view. The
 * options are decoded once by parse() and kept in the view.
 */
class TcpView {
 public:
  /** An empty view: only one returned by parse() may be read. */
  TcpView() = default;

  /**
   * Check @p bytes (the whole segment: the IPv4 payload) and decode the options.
   * @return the view, or Errc::truncated (under 20 bytes), Errc::bad_header
   *         (data offset below 5 or past the data), Errc::bad_option (an
   *         option without a valid length, or a known option with a wrong
   *         length). The checksum is not checked: see checksum_ok().
   */
  static Result<TcpView> parse(std::span<const uint8_t> bytes) noexcept;

  /** Source port. */
  uint16_t src_port() const noexcept { return load_be16(p()); }
  /** Destination port. */
  uint16_t dst_port() const noexcept { return load_be16(p() + 2); }
  /** The sequence number of the first data octet (or the ISN on a SYN). */
  SeqNum seq() const noexcept { return SeqNum{load_be32(p() + 4)}; }
  /** The acknowledgment number (meaningful when ACK is set). */
  SeqNum ack() const noexcept { return SeqNum{load_be32(p() + 8)}; }
  /** The data offset field: header length in 32-bit words, 5..15. */
  uint8_t data_offset() const noexcept { return static_cast<uint8_t>(p()[12] >> 4); }
  /** data_offset() * 4. */
  size_t header_length() const noexcept { return size_t{data_offset()} * 4; }
  /** Header byte 13: tcp_flag bits. */
  uint8_t flags() const noexcept { return p()[13]; }
  /** True when every bit of @p flag_bits is set. */
  bool has(uint8_t flag_bits) const noexcept { return (flags() & flag_bits) == flag_bits; }
  /** The window field, unscaled. */
  uint16_t window() const noexcept { return load_be16(p() + 14); }
  /** The checksum field as received. */
  uint16_t checksum() const noexcept { return load_be16(p() + 16); }
  /** The urgent pointer (meaningful when URG is set). */
  uint16_t urgent() const noexcept { return load_be16(p() + 18); }
  /** The decoded options. */
  const TcpOptions& options() const noexcept { return opts_; }
  /** The raw option bytes (header_length() - 20). */
  std::span<const uint8_t> raw_options() const noexcept {
    return data_.subspan(kTcpMinHeaderLen, header_length() - kTcpMinHeaderLen);
  }
  /** The data after the header. */
  std::span<const uint8_t> payload() const noexcept { return data_.subspan(header_length()); }
  /** The whole segment. */
  std::span<const uint8_t> bytes() const noexcept { return data_; }
  /** RFC 9293 §3.1: the segment with the pseudo-header for @p src / @p dst sums to 0xffff. */
  bool checksum_ok(Ipv4Addr src, Ipv4Addr dst) const noexcept;

 private:
  const uint8_t* p() const noexcept { return data_.data(); }
  std::span<const uint8_t> data_;
  TcpOptions opts_;
};

/**
 * RFC 9293 §3.1: the checksum of @p segment (header and data, checksum field
 * zero) over the IPv4 pseudo-header (@p src, @p dst, protocol 6, length =
 * @p segment.size()). Store it with store_be16().
 */
uint16_t tcp_checksum(Ipv4Addr src, Ipv4Addr dst, std::span<const uint8_t> segment) noexcept;

/**
 * A TCP header as values. emit() writes the options in the canonical layout
 * (file comment), the reserved bits as zero and the checksum verbatim.
 */
struct TcpHeader {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  SeqNum seq;
  SeqNum ack;
  uint8_t flags = 0;  ///< tcp_flag bits
  uint16_t window = 0;
  uint16_t checksum = 0;
  uint16_t urgent = 0;
  TcpOptions options;

  /** Parse as TcpView::parse() does and copy the fields out. */
  static Result<TcpHeader> parse(std::span<const uint8_t> bytes) noexcept;
  /** Copy the fields of a parsed view. */
  static TcpHeader from_view(const TcpView& v) noexcept;
  /** 20 + options.length(): a multiple of 4, at most 60. */
  size_t length() const noexcept { return kTcpMinHeaderLen + options.length(); }
  /**
   * Write the header to the front of @p out.
   * @pre out.size() >= length().
   * @return length().
   */
  size_t emit(std::span<uint8_t> out) const noexcept;
  /** Same as the free function wire::tcp_checksum(). */
  static uint16_t tcp_checksum(Ipv4Addr src, Ipv4Addr dst, std::span<const uint8_t> segment) noexcept {
    return wire::tcp_checksum(src, dst, segment);
  }

  friend bool operator==(const TcpHeader&, const TcpHeader&) = default;
};

}  // namespace tern::wire
