/**
 * @file
 * Initial sequence numbers (RFC 6528) and the keyed tuple hash behind them:
 * SipHash-2-4 (tern/base/siphash.hpp) with a 128-bit secret key.
 *
 * The tuple is hashed as 12 bytes in network order:
 *   local_ip(4) local_port(2) remote_ip(4) remote_port(2)
 * which is the argument order of RFC 6528 §3's F(). IsnGenerator::hash()
 * appends a domain byte (13 bytes), so its outputs never coincide with the
 * ISN offsets by construction (SipHash binds the message length).
 */
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "tern/base/siphash.hpp"
#include "tern/tcp/tuple.hpp"
#include "tern/wire/seq.hpp"

namespace tern::tcp {

/** The 12 tuple bytes hashed by IsnGenerator and SynCookies (see the file comment). */
std::array<uint8_t, 12> tuple_bytes(const FourTuple& t) noexcept;

/**
 * RFC 6528 initial sequence number generator. Holds only the secret key: one
 * per core (or shared read-only), no state changes after construction.
 */
class IsnGenerator {
 public:
  /**
   * @param secret 16 random bytes (e.g. from rte_rand()); RFC 6528 §3 requires the key to be
   *               unpredictable to an attacker. Copied.
   */
  explicit IsnGenerator(const SipKey& secret) noexcept : key_(secret) {}

  /**
   * RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey).
   * M is a 4-microsecond timer, now_ns / 4000 modulo 2^32 (it advances 250,000 per second and
   * wraps every ~4.77 hours); F is the low 32 bits of SipHash-2-4 of the 12 tuple bytes.
   * @param t      the connection's tuple (host order).
   * @param now_ns a monotonic clock in nanoseconds; only differences matter.
   */
  wire::SeqNum isn(const FourTuple& t, uint64_t now_ns) const noexcept;

  /**
   * A 32-bit keyed hash of @p t for other per-tuple secrets: the ephemeral port offset of
   * RFC 6056 §3.3.3 (Algorithm 3: pass local_port = 0, since it is being chosen) or TIME_WAIT
   * assassination checks. Distinct @p domain values give independent hashes, all independent
   * of isn(). Low 32 bits of SipHash-2-4 over the 12 tuple bytes followed by @p domain.
   */
  uint32_t hash(const FourTuple& t, uint8_t domain) const noexcept;

 private:
  SipKey key_;
};

}  // namespace tern::tcp
