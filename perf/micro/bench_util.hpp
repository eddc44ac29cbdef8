/**
 * @file
 * What the micro benchmarks share: a fixture check that aborts with a
 * message (a benchmark must not measure a broken setup silently), one mbuf
 * pool, and a builder of peer frames (Ethernet + IPv4 + TCP, valid
 * checksums) for the TCP fixtures.
 */
#pragma once

#include <rte_mempool.h>

#include <cstdint>
#include <span>
#include <vector>

#include "tern/wire/addr.hpp"
#include "tern/wire/tcp.hpp"

namespace tern::perf {

/** Print "benchmark fixture failed: @p what" and abort. */
[[noreturn]] void fail(const char* what);
/** fail(@p what) unless @p ok. */
inline void require(bool ok, const char* what) {
  if (!ok) fail(what);
}

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
