/**
 * @file
 * ICMP (RFC 792, RFC 1122 §3.2.2) for one core. Receives from Ipv4 like a
 * transport: echo requests are answered in place (the request mbuf becomes
 * the reply), errors are matched to the transport that sent the quoted
 * datagram. Sends errors about received datagrams (port/protocol
 * unreachable, reassembly time exceeded), rate limited twice: per
 * destination (a token bucket each, so one peer flooding a closed port spends
 * only its own allowance) and by a budget of the core whose windows are drawn
 * at random (so its exhaustion cannot be timed from outside: the "SAD DNS"
 * side channel, CVE-2020-25705). Echo replies have their own limit and never
 * touch the error budgets. See docs/robustness.md.
 */
#pragma once

#include <cstdint>

#include "tern/base/rate_limit.hpp"
#include "tern/l3/ipv4.hpp"

namespace tern::l3 {

struct IcmpParams {
  bool echo = true;                ///< answer echo requests
  uint32_t echo_rate = 0;          ///< echo replies per second (burst: one second's worth); 0: unlimited
  uint32_t error_rate = 100;       ///< mean errors per second of the core (RandomBudget)
  uint32_t dest_error_rate = 10;   ///< errors per second to one destination; 0: no per-destination limit
  uint32_t dest_error_burst = 10;  ///< errors one destination may get back to back
  uint32_t dest_slots = 1024;      ///< destinations tracked at once (16 bytes each)
};

class alignas(64) Icmp final : public L4Handler {
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
  bool may_send_error(wire::Ipv4Addr to, uint64_t now);

  IcmpParams p_;
  Ipv4& ip_;
  SecretRandom rng_;
  RandomBudget errors_;     // the core's
  KeyedLimiter dest_;       // per destination
  TokenBucket echo_limit_;  // echo replies
};

}  // namespace tern::l3
