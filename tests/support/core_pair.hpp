/**
 * @file
 * What two-Core tests share: two hosts (198.18.0.1 / 02:..:0a on end a,
 * 198.18.0.2 / 02:..:0b on end b of a drivers::PairWire), the PortCaps of a
 * plain port, and the CoreParams of a one-interface Core. Header-only: the
 * tests that use it link stack_dep and drivers_dep themselves.
 */
#pragma once

#include "tern/stack/core.hpp"
#include "tern/wire/addr.hpp"
#include "test_support.hpp"

namespace tern::test {

inline const wire::MacAddr kMacA{{0x02, 0x00, 0x00, 0x00, 0x00, 0x0a}};
inline const wire::MacAddr kMacB{{0x02, 0x00, 0x00, 0x00, 0x00, 0x0b}};
inline const wire::Ipv4Addr kIpA = wire::Ipv4Addr::from_octets(198, 18, 0, 1);
inline const wire::Ipv4Addr kIpB = wire::Ipv4Addr::from_octets(198, 18, 0, 2);

/** A port with address @p mac, MTU @p mtu and no offloads. */
inline PortCaps caps(const wire::MacAddr& mac, uint16_t mtu = 1500) {
  PortCaps c;
  c.mac = mac.b;
  c.mtu = mtu;
  return c;
}

/** A Core with one interface "if0" on queue 0 of @p port, @p ip/24, mbufs from @p pool. Adjust the rest. */
inline CoreParams core_params(Port& port, wire::Ipv4Addr ip, rte_mempool* pool = test::pool()) {
  CoreParams p;
  p.pool = pool;
  CoreInterface ci;
  ci.port = &port;
  ci.queue = 0;
  ci.params.name = "if0";
  ci.params.address = wire::Ipv4Prefix{ip, 24};
  p.interfaces.push_back(ci);
  return p;
}

}  // namespace tern::test
