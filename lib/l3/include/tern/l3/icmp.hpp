/**
 * @file
 * ICMP (RFC 792, RFC 1122 §3.2.2) for one core. Receives from Ipv4 like a
 * transport: echo requests are answered in place (the request mbuf becomes
 * the reply), errors are matched to the transport that sent the quoted
 * datagram. Sends errors about received datagrams (port/protocol
 * unreachable, reassembly time exceeded), rate limited by a token bucket.
 */
#pragma once

#include <cstdint>

#include "tern/l3/ipv4.hpp"

namespace tern::l3 {

struct IcmpParams {
  bool echo = true;           ///< answer echo requests
  uint32_t error_rate = 100;  ///< errors per second (token refill)
  uint32_t error_burst = 50;  ///< bucket depth
};

class Icmp final : public L4Handler {
 public:
  /** Registers itself with @p ip for protocol 1. */
  Icmp(const IcmpParams& params, Ipv4& ip);
  ~Icmp() override;

  L4Verdict input(Packet& payload, const Ipv4Meta& meta, uint64_t now) override;
  /**
   * Send an ICMP error about @p original (data at its IPv4 header; not
   * consumed). Suppressed as RFC 1122 §3.2.2 requires (errors about ICMP
   * errors, broadcasts, non-first fragments, non-unicast sources) and by
   * the rate limit (counted).
   * @param rest the second word of the ICMP header (RFC 792): 0 (unused), the
   *        next-hop MTU for fragmentation needed (RFC 1191 §4), or the pointer
   *        << 24 for a Parameter Problem.
   * @return true if the error was sent.
   */
  bool send_error(const Packet& original, uint8_t type, uint8_t code, uint32_t rest, uint64_t now);

 private:
  void echo_reply(Packet& msg, const Ipv4Meta& meta, uint64_t now);
  void error_input(const Packet& msg, const Ipv4Meta& meta, uint8_t type, uint8_t code, uint32_t rest,
                   uint64_t now);
  bool take_token(uint64_t now);

  IcmpParams p_;
  Ipv4& ip_;
  double tokens_;
  uint64_t last_refill_ns_ = 0;
  bool bucket_started_ = false;
};

}  // namespace tern::l3
