// Micro paths of the wire layer: checksum, header parsing, Toeplitz hashing.
#include <benchmark/benchmark.h>

#include <array>
#include <vector>

#include "tern/base/checksum.hpp"
#include "tern/wire/ipv4.hpp"
#include "tern/wire/tcp.hpp"
#include "tern/wire/toeplitz.hpp"

namespace {

void BM_Checksum(benchmark::State& st) {
  std::vector<uint8_t> data(static_cast<size_t>(st.range(0)));
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
  for (auto _ : st) benchmark::DoNotOptimize(tern::internet_checksum(data));
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations()) * st.range(0));
}
BENCHMARK(BM_Checksum)->Arg(20)->Arg(64)->Arg(1500)->Arg(9000);

void BM_Ipv4Parse(benchmark::State& st) {
  std::array<uint8_t, 60> h{0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06,
                            0xb1, 0xe6, 0xac, 0x10, 0x0a, 0x63, 0xac, 0x10, 0x0a, 0x0c};
  for (auto _ : st) {
    auto v = tern::wire::Ipv4View::parse(h);
    benchmark::DoNotOptimize(v.ok() && v->checksum_ok());
  }
}
BENCHMARK(BM_Ipv4Parse);

void BM_TcpParseWithOptions(benchmark::State& st) {
  // A Linux SYN: MSS, SACK-permitted, timestamps, window scale.
  std::array<uint8_t, 40> seg{0xa3, 0x2e, 0x00, 0x50, 0x5b, 0x2b, 0x35, 0x2a, 0x00, 0x00,
                              0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00,
                              0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x01,
                              0x02, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};
  for (auto _ : st) {
    auto v = tern::wire::TcpView::parse(seg);
    benchmark::DoNotOptimize(v.ok());
  }
}
BENCHMARK(BM_TcpParseWithOptions);

void BM_ToeplitzIpv4L4(benchmark::State& st) {
  tern::wire::Ipv4Addr a{0x420995bb}, b{0xa18e6450};
  uint16_t p = 1000;
  for (auto _ : st)
    benchmark::DoNotOptimize(tern::wire::toeplitz_ipv4_l4(tern::wire::kSymmetricRssKey, a, b, p++, 80));
}
BENCHMARK(BM_ToeplitzIpv4L4);

}  // namespace
