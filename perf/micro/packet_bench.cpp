// Packet (lib/buf) operations on the data path: push_header (prepend into
// headroom, or chain a fresh header mbuf when there is none), trim_front /
// trim_back, and share() (the indirect-mbuf clone that TCP retransmission
// keeps). Each iteration works on a batch of 64 packets (within the mempool
// cache) and times only the operation (manual time, bench_timing.hpp); the
// undo between batches is not timed and checks the result.
#include <benchmark/benchmark.h>
#include <rte_mbuf.h>

#include <vector>

#include "bench_timing.hpp"
#include "bench_util.hpp"
#include "tern/buf/packet.hpp"

namespace {

using tern::Packet;
using tern::perf::micro_pool;
using tern::perf::per_item;
using tern::perf::require;
using tern::perf::SectionTimer;

constexpr int kBatch = 64;
constexpr uint16_t kHdr = 54;  // Ethernet + IPv4 + TCP

// kBatch packets of @p len bytes in @p segs segments.
std::vector<Packet> make_batch(uint32_t len, int segs = 1) {
  std::vector<uint8_t> bytes(len, 0x5a);
  std::vector<Packet> v;
  const uint32_t per = len / static_cast<uint32_t>(segs);
  for (int i = 0; i < kBatch; ++i) {
    Packet p;
    for (int s = 0; s < segs; ++s) {
      uint32_t n = s + 1 == segs ? len - per * static_cast<uint32_t>(s) : per;
      Packet part = Packet::copy_from(micro_pool(), std::span<const uint8_t>(bytes).first(n));
      require(static_cast<bool>(part), "mbuf pool exhausted");
      if (!p) {
        p = std::move(part);
      } else {
        require(p.chain(std::move(part)), "chain failed");
      }
    }
    v.push_back(std::move(p));
  }
  return v;
}

// Arg 0: there is headroom (the usual case); 1: none, so a header mbuf is allocated and chained.
void BM_PacketPushHeader(benchmark::State& st) {
  const bool no_headroom = st.range(0) != 0;
  std::vector<Packet> v = make_batch(64);
  if (no_headroom) {
    for (auto& p : v) require(rte_pktmbuf_prepend(p.mbuf(), p.headroom()) != nullptr, "prepend failed");
  }
  const uint32_t len0 = v[0].length();
  SectionTimer clock;
  for (auto _ : st) {
    clock.start();
    for (auto& p : v) benchmark::DoNotOptimize(p.push_header(kHdr, micro_pool()));
    clock.stop();
    for (auto& p : v) {
      require(p.length() == len0 + kHdr && p.segments() == (no_headroom ? 2 : 1), "push_header failed");
      require(p.trim_front(kHdr), "trim_front failed");
    }
    clock.report(st);
  }
  per_item(st, kBatch, &clock);
}
BENCHMARK(BM_PacketPushHeader)->ArgName("no_headroom")->Arg(0)->Arg(1)->UseManualTime();

// Arg 0: trim_front(54) (headers off a received frame); 1: trim_back(4) (drop padding or an FCS).
void BM_PacketTrim(benchmark::State& st) {
  const bool back = st.range(0) != 0;
  const uint16_t n = back ? 4 : kHdr;
  std::vector<Packet> v = make_batch(kHdr + 64);
  SectionTimer clock;
  for (auto _ : st) {
    clock.start();
    for (auto& p : v) benchmark::DoNotOptimize(back ? p.trim_back(n) : p.trim_front(n));
    clock.stop();
    for (auto& p : v) {
      require(p.length() == kHdr + 64u - n, "trim failed");
      require((back ? p.append(n) : p.prepend(n)) != nullptr, "cannot undo the trim");
    }
    clock.report(st);
  }
  per_item(st, kBatch, &clock);
}
BENCHMARK(BM_PacketTrim)->ArgName("back")->Arg(0)->Arg(1)->UseManualTime();

// Cross-check of the batched figures without manual timing: push_header then trim_front on one
// packet per iteration (CPU time), i.e. the sum of the two operations above.
void BM_PacketPushTrimPair(benchmark::State& st) {
  std::vector<Packet> v = make_batch(64);
  Packet& p = v[0];
  for (auto _ : st) {
    benchmark::DoNotOptimize(p.push_header(kHdr, micro_pool()));
    benchmark::DoNotOptimize(p.trim_front(kHdr));
  }
  require(p.length() == 64 && p.segments() == 1, "push_header/trim_front changed the packet");
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()));
}
BENCHMARK(BM_PacketPushTrimPair);

// share() of a chain of Arg segments (1448 bytes in all); freeing the clones is not timed.
void BM_PacketShare(benchmark::State& st) {
  const int segs = static_cast<int>(st.range(0));
  std::vector<Packet> v = make_batch(1448, segs);
  std::vector<Packet> clones(kBatch);
  SectionTimer clock;
  for (auto _ : st) {
    clock.start();
    for (size_t i = 0; i < v.size(); ++i) clones[i] = v[i].share(micro_pool());
    clock.stop();
    for (auto& c : clones) {
      require(c && c.length() == 1448 && c.segments() == segs, "share failed");
      c.reset();
    }
    clock.report(st);
  }
  per_item(st, kBatch, &clock);
}
BENCHMARK(BM_PacketShare)->ArgName("segments")->Arg(1)->Arg(3)->UseManualTime();

}  // namespace
