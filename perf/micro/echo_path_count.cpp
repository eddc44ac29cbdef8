// Fixed-count driver for callgrind: N bursts of 32 UDP datagrams through the
// echo path, so instructions inside Core::poll divided by N*32 is the
// per-packet cost (perf/callgrind.sh).
#include <rte_eal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench_util.hpp"
#include "echo_path.hpp"

int main(int argc, char** argv) {
  int bursts = argc > 1 ? std::atoi(argv[1]) : 1000;
  size_t payload = argc > 2 ? static_cast<size_t>(std::atoi(argv[2])) : 64;
  tern::perf::start_eal("tern-count", 256);
  uint64_t replies = 0;
  {
    tern::perf::EchoPath path(payload);
    path.run(10);  // warm up: first-touch and timer-wheel start
    path.run(bursts);
    replies = path.replies();
  }
  std::printf("packets %d replies %lu\n", bursts * tern::perf::EchoPath::kBurst + 320, replies);
  rte_eal_cleanup();
  return replies == static_cast<uint64_t>(bursts + 10) * tern::perf::EchoPath::kBurst ? 0 : 1;
}
