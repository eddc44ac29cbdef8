// Benchmark main: starts DPDK's EAL (--no-huge, unique --file-prefix) for the
// benchmarks that move real mbufs, then runs Google Benchmark.
#include <benchmark/benchmark.h>
#include <rte_eal.h>
#include <unistd.h>

#include <string>

int main(int argc, char** argv) {
  std::string prefix = "--file-prefix=tern-bench-" + std::to_string(getpid());
  const char* eal[] = {
      "tern-bench",   "--no-huge", "-m", "512", "--no-pci", "--no-telemetry", "--log-level=lib.eal:error",
      prefix.c_str(), "-l",        "0"};
  if (rte_eal_init(sizeof(eal) / sizeof(eal[0]), const_cast<char**>(eal)) < 0) return 1;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  rte_eal_cleanup();
  return 0;
}
