#include "tern/tcp/isn.hpp"

#include "tern/base/byteorder.hpp"

namespace tern::tcp {

namespace {

// RFC 6528 §3: M is a timer that increments every 4 microseconds.
constexpr uint64_t kIsnTickNs = 4000;

}  // namespace

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
