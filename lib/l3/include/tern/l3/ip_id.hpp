/**
 * @file
 * IPv4 Identification for datagrams that may be fragmented (DF clear), as
 * RFC 7739 §5.3 ("hash-based" selection) describes and Linux does: a keyed
 * hash of (source, destination, protocol) picks one of a table of counters
 * and adds a per-destination offset, so the IDs toward one host say nothing
 * about how much tern sends to any other (a single counter shared by all
 * destinations is the idle-scan and traffic-counting channel of RFC 6274
 * §3.5 and RFC 7739 §4). A bucket left unused gains a random increment that
 * grows with the time it was idle (Linux's ip_idents_reserve), so a host
 * whose destination happens to share a bucket with another cannot count that
 * destination's datagrams between two of its own.
 *
 * RFC 6864 §4.1: an ID must not repeat for one (source, destination,
 * protocol) within the datagram lifetime; a counter per bucket moves on for
 * every datagram, so it repeats only after 65,536 datagrams toward that
 * bucket, as one counter per destination would. Atomic datagrams (DF set,
 * never fragmented) may carry any value (RFC 6864 §4.2): TCP numbers its
 * segments per connection (OutputParams::id), other atomic datagrams use this
 * generator too.
 *
 * One per core (per Ipv4), its own key: cores sending to one destination draw
 * from independent sequences (as the random start per core did before).
 */
#pragma once

#include <array>
#include <cstdint>

#include "tern/base/siphash.hpp"
#include "tern/wire/addr.hpp"

namespace tern::l3 {

class IpIdGenerator {
 public:
  static constexpr uint32_t kBuckets = 2048;  ///< counters (12 KiB with their timestamps)

  /** @param key secret for the bucket hash and the offsets; @param rand_key secret for the increments. */
  IpIdGenerator(const SipKey& key, const SipKey& rand_key) noexcept
      : key_(key), rng_(rand_key), last_hash_(siphash13(key_, 0, 0)) {}

  /** The Identification for the next datagram from @p src to @p dst of protocol @p proto at @p now (ns). */
  uint16_t next(wire::Ipv4Addr src, wire::Ipv4Addr dst, uint8_t proto, uint64_t now) noexcept;

 private:
  SipKey key_;
  SecretRandom rng_;
  // The last (source, destination, protocol) and its hash (starting as that of 0, 0, 0): a reply
  // stream to one peer hashes once.
  uint64_t last_msg_ = 0;
  uint8_t last_proto_ = 0;
  uint64_t last_hash_;
  std::array<uint16_t, kBuckets> ids_{};
  std::array<uint32_t, kBuckets> stamp_ms_{};  // last use of each bucket, in ms (wraps after 49 days)
};

}  // namespace tern::l3
