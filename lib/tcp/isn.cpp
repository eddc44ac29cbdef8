#include "tern/tcp/isn.hpp"

#include <bit>

#include "tern/base/byteorder.hpp"

namespace tern::tcp {

namespace {

// SipHash paper §2: read 8 bytes as a little-endian 64-bit word.
uint64_t load_le64(const uint8_t* p) noexcept {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

struct SipState {
  uint64_t v0, v1, v2, v3;

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

  // SipHash paper §2, compression: v3 ^= m, c = 2 SipRounds, v0 ^= m.
  void compress(uint64_t m) noexcept {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

// RFC 6528 §3: M is a timer that increments every 4 microseconds.
constexpr uint64_t kIsnTickNs = 4000;

}  // namespace

uint64_t siphash24(const SipKey& key, std::span<const uint8_t> msg) noexcept {
  const uint64_t k0 = load_le64(key.data());
  const uint64_t k1 = load_le64(key.data() + 8);
  // SipHash paper §2, initialization: the key xored with "somepseudorandomlygeneratedbytes".
  SipState s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
             k1 ^ 0x7465646279746573ULL};

  const size_t full = msg.size() / 8 * 8;
  for (size_t i = 0; i < full; i += 8) s.compress(load_le64(msg.data() + i));

  // SipHash paper §2: the last word holds the 0..7 remaining bytes and, in its top byte, the
  // message length modulo 256.
  uint64_t last = uint64_t{static_cast<uint8_t>(msg.size())} << 56;
  for (size_t i = full; i < msg.size(); ++i) last |= uint64_t{msg[i]} << (8 * (i - full));
  s.compress(last);

  // SipHash paper §2, finalization: v2 ^= 0xff, d = 4 SipRounds, output v0^v1^v2^v3.
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

std::array<uint8_t, 12> tuple_bytes(const FourTuple& t) noexcept {
  std::array<uint8_t, 12> b{};
  // RFC 6528 §3: F(localip, localport, remoteip, remoteport, secretkey), network order.
  store_be32(b.data(), t.local_ip);
  store_be16(b.data() + 4, t.local_port);
  store_be32(b.data() + 6, t.remote_ip);
  store_be16(b.data() + 10, t.remote_port);
  return b;
}

wire::SeqNum IsnGenerator::isn(const FourTuple& t, uint64_t now_ns) const noexcept {
  // RFC 6528 §3: M is the 4-microsecond timer, modulo 2^32.
  const auto m = static_cast<uint32_t>(now_ns / kIsnTickNs);
  const auto bytes = tuple_bytes(t);
  // RFC 6528 §3: F() is a keyed hash of the tuple; keep its low 32 bits.
  const auto f = static_cast<uint32_t>(siphash24(key_, bytes));
  // RFC 6528 §3: ISN = M + F(...).
  return wire::SeqNum{m} + f;
}

uint32_t IsnGenerator::hash(const FourTuple& t, uint8_t domain) const noexcept {
  std::array<uint8_t, 13> msg{};
  const auto bytes = tuple_bytes(t);
  for (size_t i = 0; i < bytes.size(); ++i) msg[i] = bytes[i];
  msg[12] = domain;
  // RFC 6056 §3.3.3: F(local_addr, remote_addr, remote_port, secret_key) for the port offset.
  return static_cast<uint32_t>(siphash24(key_, msg));
}

}  // namespace tern::tcp
