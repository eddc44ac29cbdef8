/**
 * @file
 * Shared support for unit tests that need mbufs: the gtest main in
 * eal_main.cpp starts the EAL with --no-huge and a unique --file-prefix,
 * creates pools, and fails any test that leaves an mbuf out of its pool.
 */
#pragma once

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdint>
#include <span>
#include <vector>

#include "tern/buf/packet.hpp"

namespace tern::test {

/** The default pool: 2048-byte data rooms, 128-byte headroom. */
rte_mempool* pool();
/** A pool of small (256-byte data room) mbufs, to build multi-segment chains. */
rte_mempool* small_pool();
/** Mbufs currently taken from every test pool. */
unsigned mbufs_in_use();

/** A packet holding @p bytes, spread over segments of at most @p seg_size bytes. */
Packet make_packet(std::span<const uint8_t> bytes, uint16_t seg_size = 2048);
/** All bytes of @p p, copied out. */
std::vector<uint8_t> bytes_of(const Packet& p);

}  // namespace tern::test
