// TCP request/response between two Cores in one thread (tcp_rr.hpp):
// transactions per second of the whole loop, client and server together,
// including the client's copy of each message in and out.
#include <benchmark/benchmark.h>

#include "bench_util.hpp"
#include "tcp_rr.hpp"

namespace {

void BM_TcpRequestResponse(benchmark::State& st) {
  tern::perf::TcpRr rr(tern::perf::micro_pool(), static_cast<size_t>(st.range(0)));
  rr.run(10);
  for (auto _ : st) rr.run(1);
  tern::perf::require(rr.retransmits() == 0, "request/response needed retransmissions");
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()));
}
BENCHMARK(BM_TcpRequestResponse)->ArgName("msg")->Arg(64);

}  // namespace
