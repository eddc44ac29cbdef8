/**
 * @file
 * What the micro benchmarks share: a fixture check that aborts with a
 * message (a benchmark must not measure a broken setup silently), one mbuf
 * pool, the EAL start and the one-interface Core every fixture builds, and
 * a builder of peer frames (Ethernet + IPv4 + TCP, valid checksums) for the
 * TCP fixtures. Linked by the benchmarks, the callgrind drivers and
 * tern-conn-memory.
 */
#pragma once

#include <rte_mempool.h>

#include <cstdint>
#include <span>
#include <vector>

#include "tern/stack/core.hpp"
#include "tern/wire/addr.hpp"
#include "tern/wire/tcp.hpp"

namespace tern::perf {

/** Print "benchmark fixture failed: @p what" and abort. */
[[noreturn]] void fail(const char* what);
/** fail(@p what) unless @p ok. */
inline void require(bool ok, const char* what) {
  if (!ok) fail(what);
}

/**
 * Start DPDK's EAL for a measuring tool: --no-huge with @p mem_mb MiB, a
 * --file-prefix unique to the process, no PCI, no telemetry, lcore 0.
 * Aborts with a message when the EAL refuses.
 */
void start_eal(const char* name, int mem_mb);

/** Port capabilities with address @p mac, MTU 1500 and no offloads (what PairWire ends offer). */
PortCaps plain_caps(const wire::MacAddr& mac);

/** A Core with one interface "if0" on queue 0 of @p port, @p ip/24, no gratuitous ARP. Adjust the rest. */
CoreParams host_params(Port& port, wire::Ipv4Addr ip, rte_mempool* pool);

/** The micro benchmarks' mbuf pool (created on first use; needs the EAL). */
rte_mempool* micro_pool();

/** Addresses of a frame's two ends. */
struct FrameEnds {
  wire::MacAddr src_mac, dst_mac;
  wire::Ipv4Addr src, dst;
};

/** An Ethernet/IPv4/TCP frame from @p e.src to @p e.dst with @p th and @p payload; checksums filled. */
std::vector<uint8_t> tcp_frame(const FrameEnds& e, const wire::TcpHeader& th,
                               std::span<const uint8_t> payload, uint16_t ip_id = 0);

}  // namespace tern::perf
