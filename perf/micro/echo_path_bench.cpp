// Google Benchmark of the UDP echo path on one Core (see echo_path.hpp).
#include <benchmark/benchmark.h>

#include "echo_path.hpp"

namespace {

void BM_UdpEchoPath(benchmark::State& st) {
  tern::perf::EchoPath path(static_cast<size_t>(st.range(0)));
  for (auto _ : st) path.run(1);
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()) * tern::perf::EchoPath::kBurst);
}
BENCHMARK(BM_UdpEchoPath)->Arg(64)->Arg(1400);

}  // namespace
