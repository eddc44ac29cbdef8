/**
 * @file
 * The per-segment context that TCP input passes from step to step (private
 * to lib/tcp; not installed for applications).
 */
#pragma once

#include "tern/tcp/tcp.hpp"

namespace tern::tcp {

/** States in which a connection may send data or a FIN (RFC 9293 §3.10.2: SEND is refused elsewhere). */
constexpr bool sends_data(State s) noexcept {
  return s == State::established || s == State::close_wait || s == State::fin_wait_1 || s == State::closing ||
         s == State::last_ack;
}

/** What Connection::rtx_timer_ runs when it is not the persist timer (timers.cpp). */
namespace rtx_mode {
inline constexpr uint8_t rto = 0;      ///< RFC 6298 retransmission timeout
inline constexpr uint8_t probe = 1;    ///< RFC 8985 §7 tail loss probe (never later than the RTO)
inline constexpr uint8_t reorder = 2;  ///< RFC 8985 §6.2 RACK reordering timer (never later than the RTO)
}  // namespace rtx_mode

/** Connection::tfo_ flags (fastopen.cpp, RFC 7413). */
inline constexpr uint8_t kTfoClient = 1;     ///< connect() asked for Fast Open
inline constexpr uint8_t kTfoSynData = 2;    ///< our SYN carried data
inline constexpr uint8_t kTfoCookieOut = 4;  ///< (server) our SYN-ACK carries a cookie
inline constexpr uint8_t kTfoChild = 8;      ///< (server) opened by a valid cookie, counted as pending

/** One received segment being processed; filled by Tcp::parse(). */
struct Tcp::Segment {
  Packet pkt;       ///< the whole segment, data at the TCP header
  wire::TcpView v;  ///< parsed header and options (over pkt's first mbuf)
  const l3::Ipv4Meta* meta = nullptr;
  FourTuple t;            ///< from our side: local = destination
  wire::SeqNum seq, ack;  ///< seq moves forward as the front is trimmed
  uint32_t len = 0;       ///< payload bytes still in play
  uint32_t data_off = 0;  ///< where that payload starts in pkt
  uint16_t hlen = 0;
  uint8_t flags = 0;  ///< flags still in play (trimming may clear SYN/FIN)
  uint16_t wnd = 0;   ///< window field, unscaled
  /// Merged by GRO/LRO (RTE_MBUF_F_RX_LRO): the payload of each original segment (the last may be
  /// shorter); 0 for a segment as sent.
  uint16_t lro_segsz = 0;
  bool has(uint8_t f) const noexcept { return (flags & f) != 0; }
  /** SEG.LEN (RFC 9293 §3.4): data plus SYN plus FIN. */
  uint32_t seg_len() const noexcept {
    return len + ((flags & wire::tcp_flag::syn) ? 1 : 0) + ((flags & wire::tcp_flag::fin) ? 1 : 0);
  }
};

}  // namespace tern::tcp
