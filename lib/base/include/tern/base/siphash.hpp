/**
 * @file
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012), the keyed hash behind every per-tuple secret in tern: TCP initial
 * sequence numbers (RFC 6528), SYN cookies, ephemeral port offsets
 * (RFC 6056), IPv4 identification (RFC 7739) and the random draws of the
 * rate limiters. Also the source of the secret keys themselves.
 */
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace tern {

/** A 128-bit SipHash key; byte 0 is the least significant byte of k0 (SipHash paper §2). */
using SipKey = std::array<uint8_t, 16>;

/**
 * SipHash-2-4 of @p msg under @p key.
 * @param key the 16-byte secret (k0 = bytes 0..7, k1 = bytes 8..15, little-endian).
 * @param msg any number of bytes, including none.
 * @return the 64-bit tag, as the paper's little-endian output read as an integer.
 */
uint64_t siphash24(const SipKey& key, std::span<const uint8_t> msg) noexcept;

/**
 * SipHash-2-4 of the 16-byte message whose two little-endian words are @p a
 * and @p b: the same value as siphash24() over those bytes, without the
 * byte loop (for hashes on the data path).
 */
uint64_t siphash24(const SipKey& key, uint64_t a, uint64_t b) noexcept;

/**
 * SipHash-1-3 (one compression round, three finalization rounds: Linux's
 * hsiphash on 64-bit hosts, Rust's default hasher) of the 16-byte message
 * @p a, @p b: about half the cost of siphash24(). For per-packet keyed
 * indexes where the output is never shown whole (IPv4 ID buckets); keys,
 * cookies and ISNs keep SipHash-2-4.
 */
uint64_t siphash13(const SipKey& key, uint64_t a, uint64_t b) noexcept;

/**
 * 16 bytes from the kernel's random source (getrandom(2)). If it fails (no
 * entropy source), falls back to the clock and logs a warning naming
 * @p what, since keys from the clock are guessable.
 */
SipKey random_key(const char* what) noexcept;

/**
 * A stream of unpredictable numbers for one owner (one core): SipHash-2-4
 * of a counter under a secret key (a PRF in counter mode), so outputs seen by
 * an attacker say nothing about the others. Not thread safe; about 100
 * instructions per draw, meant for draws per window or per timeout, not per
 * packet.
 */
class SecretRandom {
 public:
  /** @param key the secret, e.g. random_key(); copied. */
  explicit SecretRandom(const SipKey& key) noexcept : key_(key) {}
  /** The next 64 random bits. */
  uint64_t next() noexcept { return siphash24(key_, ctr_++, 0); }
  /** Uniform in [0, @p n) (0 when @p n is 0); bias below n / 2^64 (multiply-shift). */
  uint64_t below(uint64_t n) noexcept {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }

 private:
  SipKey key_;
  uint64_t ctr_ = 0;
};

}  // namespace tern
