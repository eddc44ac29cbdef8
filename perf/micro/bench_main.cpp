// Benchmark main: starts DPDK's EAL (--no-huge, unique --file-prefix) for the
// benchmarks that move real mbufs, then runs Google Benchmark.
#include <benchmark/benchmark.h>
#include <rte_eal.h>
#include <unistd.h>

#include <string>

#include "bench_util.hpp"

int main(int argc, char** argv) {
  tern::perf::start_eal("tern-bench", 512);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  rte_eal_cleanup();
  return 0;
}
