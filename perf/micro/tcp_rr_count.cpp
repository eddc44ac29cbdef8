// Fixed-count driver for callgrind: N TCP request/response transactions
// between two Cores (tcp_rr.hpp) after a warm-up of 10, so instructions
// inside serve_poll() for 2N minus those for N, divided by N, is the server's
// cost per transaction (perf/callgrind.sh).
//   tern-tcp-rr-count [N] [MESSAGE_BYTES]
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench_util.hpp"
#include "tcp_rr.hpp"

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  size_t msg = argc > 2 ? static_cast<size_t>(std::atoi(argv[2])) : 64;
  tern::perf::start_eal("tern-rr", 256);
  rte_mempool* pool = rte_pktmbuf_pool_create("rr_pool", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  if (pool == nullptr) return 1;
  uint64_t done = 0, rtx = 0, srv_in = 0, srv_out = 0, cli_wu = 0, cli_dack = 0;
  {
    tern::perf::TcpRr rr(pool, msg);
    rr.run(10);  // warm up: first-touch, RTT estimate, timer-wheel slots
    rr.run(n);
    done = rr.transactions();
    rtx = rr.retransmits();
    srv_in = rr.server_stats().in_segs;
    srv_out = rr.server_stats().out_segs;
    cli_wu = rr.client_stats().window_updates;
    cli_dack = rr.client_stats().delayed_acks;
  }
  std::printf("server segments in %lu out %lu; client window updates %lu delayed acks %lu\n", srv_in, srv_out,
              cli_wu, cli_dack);
  unsigned leaked = pool->size - rte_mempool_avail_count(pool);
  std::printf("transactions %lu (%zu-byte messages), retransmissions %lu, mbufs leaked %u\n", done, msg, rtx,
              leaked);
  rte_mempool_free(pool);
  rte_eal_cleanup();
  return done == static_cast<uint64_t>(n) + 10 && rtx == 0 && leaked == 0 ? 0 : 1;
}
