/**
 * @file
 * SYN cookies (RFC 4987 §3.6): a listener under SYN flood answers a SYN
 * without keeping state, encoding what it must remember in the ISN of its
 * SYN-ACK, and rebuilds the connection from the ACK that completes the
 * handshake.
 *
 * Cookie (our ISN) layout, most significant bit first:
 *
 *   bits 31..27  t mod 32, t = now_ns / kPeriodNs (a 64-second counter)
 *   bits 26..24  index into kMssTable of the largest entry <= the peer's MSS
 *   bits 23..0   low 24 bits of SipHash-2-4(secret, tuple(12) | t(8, full counter, big-endian) |
 *                peer ISN(4) | MSS index(1) | domain byte 0x53 ('S'))
 *
 * This is RFC 4987 §3.6's layout (5-bit counter, 3-bit MSS, 24-bit MAC); the
 * MAC additionally binds the peer's ISN and the MSS index, so neither a
 * forged ACK for another SYN nor an edited MSS index validates. Unlike Linux,
 * the MAC is not added to the peer's ISN; it stands on its own.
 *
 * Limitation (RFC 4987 §3.6): the cookie has room only for the MSS. When the
 * peer offered timestamps, the window scale and SACK-permitted options are
 * kept in the low 6 bits of our TSval (encode_ts()), which the peer echoes in
 * TSecr; without timestamps a cookie connection has no window scaling and no
 * SACK. Those TSval bits are not authenticated: a peer can only change the
 * options of its own connection.
 *
 * A stateless value type: the secret is the only member and never changes.
 */
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "tern/tcp/isn.hpp"
#include "tern/tcp/tuple.hpp"
#include "tern/wire/seq.hpp"

namespace tern::tcp {

/** The SYN options a cookie connection remembers. */
struct SynCookieOptions {
  uint16_t mss = 536;             ///< peer's MSS (RFC 9293 §3.7.1 default 536); carried by the cookie itself
  bool sack_permitted = false;    ///< peer sent SACK-permitted (RFC 2018 §2)
  std::optional<uint8_t> wscale;  ///< peer's window shift 0..14 (RFC 7323 §2.3), nullopt when absent
  bool timestamps = false;        ///< peer sent timestamps (RFC 7323 §3)
  friend constexpr bool operator==(const SynCookieOptions&, const SynCookieOptions&) = default;
};

/** SYN cookie encoder and checker (see the file comment for the layout). */
class SynCookies {
 public:
  /** The counter t advances every 64 seconds (RFC 4987 §3.6: 't' a slowly incrementing counter). */
  static constexpr uint64_t kPeriodNs = 64'000'000'000;
  /**
   * The MSS values a cookie can carry, ascending: IPv4 default, IPv6 minimum MTU (1280 - 60),
   * common tunnel/VPN, 1500 - 60, PPPoE (1492 - 40), Ethernet (1500 - 40), 9000 - 60 and
   * jumbo Ethernet (9000 - 40).
   */
  static constexpr std::array<uint16_t, 8> kMssTable = {536, 1220, 1300, 1440, 1452, 1460, 8940, 8960};

  /**
   * @param secret 16 random bytes (e.g. rte_rand()); must be unpredictable, and the same on every
   *               core that may receive the completing ACK. Copied.
   */
  explicit SynCookies(const SipKey& secret) noexcept : key_(secret) {}

  /**
   * The ISN for our SYN-ACK (layout in the file comment).
   * @param t        the connection's tuple (host order, local = us).
   * @param peer_isn SEG.SEQ of the peer's SYN.
   * @param mss      the peer's MSS option (536 when absent); encoded as the largest kMssTable entry
   *                 <= mss, or 536 when mss is smaller than every entry.
   * @param now_ns   a monotonic clock in nanoseconds, the same clock later given to check().
   */
  wire::SeqNum make(const FourTuple& t, wire::SeqNum peer_isn, uint16_t mss, uint64_t now_ns) const noexcept;

  /**
   * Validate the ACK completing a cookie handshake.
   * @param t             the tuple of the ACK (host order, local = us).
   * @param peer_isn      SEG.SEQ - 1 of the ACK (the peer's ISN).
   * @param ack_minus_one SEG.ACK - 1 of the ACK (our cookie ISN).
   * @param now_ns        the clock given to make().
   * @return the encoded MSS (a kMssTable entry) when the cookie was made in the current period or
   *         the previous one (so a cookie lives between 64 and 128 s), else nullopt.
   */
  std::optional<uint16_t> check(const FourTuple& t, wire::SeqNum peer_isn, wire::SeqNum ack_minus_one,
                                uint64_t now_ns) const noexcept;

  /**
   * Put the options that the cookie cannot hold into the low 6 bits of our SYN-ACK's TSval
   * (Linux scheme): bits 3..0 window shift (0xf = none; values above 14 are sent as 14),
   * bit 4 SACK-permitted, bit 5 set to mark a cookie TSval. The result is never later than
   * @p tsval (64 is subtracted when needed), so our next real TSval does not look older to the
   * peer's PAWS check (RFC 7323 §5).
   * @param tsval our current timestamp clock.
   * @param o     the peer's SYN options; mss and timestamps are not encoded.
   * @return the TSval to send.
   */
  static uint32_t encode_ts(uint32_t tsval, const SynCookieOptions& o) noexcept;

  /**
   * Recover the options from the TSecr of the completing ACK (RFC 7323 §3.2: it echoes our TSval).
   * @param tsecr the ACK's TSecr.
   * @return sack_permitted and wscale as encoded, timestamps = true, mss left at its default (take
   *         it from check()); nullopt when the marker bit 5 is clear (not a cookie TSval).
   */
  static std::optional<SynCookieOptions> decode_ts(uint32_t tsecr) noexcept;

 private:
  uint32_t mac(const FourTuple& t, uint64_t counter, wire::SeqNum peer_isn,
               uint32_t mss_index) const noexcept;

  SipKey key_;
};

}  // namespace tern::tcp
