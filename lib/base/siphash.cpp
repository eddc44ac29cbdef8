#include "tern/base/siphash.hpp"

#include <sys/random.h>

#include <bit>
#include <cstring>

#include "tern/base/clock.hpp"
#include "tern/base/log.hpp"

namespace tern {

namespace {

// SipHash paper §2: read 8 bytes as a little-endian 64-bit word.
uint64_t load_le64(const uint8_t* p) noexcept {
  uint64_t v = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&v, p, sizeof v);  // one load
  } else {
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  }
  return v;
}

struct SipState {
  uint64_t v0, v1, v2, v3;

  // SipHash paper §2, initialization: the key xored with "somepseudorandomlygeneratedbytes".
  explicit SipState(const SipKey& key) noexcept {
    const uint64_t k0 = load_le64(key.data());
    const uint64_t k1 = load_le64(key.data() + 8);
    v0 = k0 ^ 0x736f6d6570736575ULL;
    v1 = k1 ^ 0x646f72616e646f6dULL;
    v2 = k0 ^ 0x6c7967656e657261ULL;
    v3 = k1 ^ 0x7465646279746573ULL;
  }

  // SipHash paper §2, SipRound: three ARX half-rounds mixing (v0,v1) and (v2,v3).
  void round() noexcept {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }

  // SipHash paper §2, compression: v3 ^= m, c SipRounds (2 for SipHash-2-4), v0 ^= m.
  template <int C = 2>
  void compress(uint64_t m) noexcept {
    v3 ^= m;
    for (int i = 0; i < C; ++i) round();
    v0 ^= m;
  }

  // SipHash paper §2, finalization: v2 ^= 0xff, d SipRounds (4 for SipHash-2-4), output v0^v1^v2^v3.
  template <int D = 4>
  uint64_t finish() noexcept {
    v2 ^= 0xff;
    for (int i = 0; i < D; ++i) round();
    return v0 ^ v1 ^ v2 ^ v3;
  }
};

}  // namespace

uint64_t siphash24(const SipKey& key, std::span<const uint8_t> msg) noexcept {
  SipState s(key);
  const size_t full = msg.size() / 8 * 8;
  for (size_t i = 0; i < full; i += 8) s.compress(load_le64(msg.data() + i));
  // SipHash paper §2: the last word holds the 0..7 remaining bytes and, in its top byte, the
  // message length modulo 256.
  uint64_t last = uint64_t{static_cast<uint8_t>(msg.size())} << 56;
  for (size_t i = full; i < msg.size(); ++i) last |= uint64_t{msg[i]} << (8 * (i - full));
  s.compress(last);
  return s.finish();
}

uint64_t siphash24(const SipKey& key, uint64_t a, uint64_t b) noexcept {
  SipState s(key);
  s.compress(a);
  s.compress(b);
  s.compress(uint64_t{16} << 56);  // no remaining bytes; the length, 16, in the top byte
  return s.finish();
}

uint64_t siphash13(const SipKey& key, uint64_t a, uint64_t b) noexcept {
  SipState s(key);
  s.compress<1>(a);
  s.compress<1>(b);
  s.compress<1>(uint64_t{16} << 56);
  return s.finish<3>();
}

SipKey random_key(const char* what) noexcept {
  SipKey k{};
  if (getrandom(k.data(), k.size(), 0) != static_cast<ssize_t>(k.size())) {
    uint64_t a = monotonic_ns(), b = a * 0x9E3779B97F4A7C15ull;
    std::memcpy(k.data(), &a, 8);
    std::memcpy(k.data() + 8, &b, 8);
    TERN_LOG_WARN("getrandom() failed; the %s key comes from the clock and is guessable", what);
  }
  return k;
}

}  // namespace tern
