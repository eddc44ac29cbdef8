/**
 * @file
 * The 4-tuple that names a TCP connection on one core (RFC 9293 §3.3.1),
 * addresses and ports in host order.
 */
#pragma once

#include <cstdint>

namespace tern::tcp {

/** Local and remote address/port of a connection, host byte order. */
struct FourTuple {
  uint32_t local_ip = 0;
  uint32_t remote_ip = 0;
  uint16_t local_port = 0;
  uint16_t remote_port = 0;
  friend constexpr bool operator==(const FourTuple&, const FourTuple&) = default;
};

}  // namespace tern::tcp
