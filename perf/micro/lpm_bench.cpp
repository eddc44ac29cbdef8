// Longest-prefix match, burst of 32 destinations: tern's RouteTable (lib/l3,
// what Ipv4::forward and tern-l3fwd use) against DPDK's rte_lpm (DIR-24-8)
// with the same routes and the same addresses. Both produce a next-hop index
// per address (tern: Route::iface carries the route's index here; rte_lpm:
// the 24-bit next hop, or the default route's index on a miss, since
// rte_lpm has no /0). The fixture checks that both answer the same for
// every address before measuring.
//
// Tables: "tiny" = 4 routes (two connected /24s and two forwarded prefixes,
// the shape of tern-l3fwd's benchmark); "large" = 1,000 distinct random
// prefixes of lengths 8..32 plus a default route. Addresses: uniformly
// random (large table: most fall to the default route or a short prefix),
// or inside a random route's prefix (every lookup hits a real route).
#include <benchmark/benchmark.h>
#include <rte_lpm.h>
#include <sys/mman.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bench_timing.hpp"
#include "bench_util.hpp"
#include "tern/l3/route.hpp"

namespace {

using tern::perf::fail;
using tern::perf::require;
namespace wire = tern::wire;

constexpr int kBurst = 32;
constexpr size_t kAddrs = 1 << 16;  // cycled through: 256 KiB, cache-resident like a hot flow mix
constexpr uint32_t kMiss = 0xffff;

struct Prefix {
  uint32_t addr;
  uint8_t len;
};

uint32_t mask_of(uint8_t len) { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }

// Routes (index = next hop); a default route, if any, is last.
std::vector<Prefix> make_routes(bool large) {
  if (!large) {
    return {{wire::Ipv4Addr::from_octets(198, 18, 2, 0).v, 24},
            {wire::Ipv4Addr::from_octets(198, 18, 3, 0).v, 24},
            {wire::Ipv4Addr::from_octets(198, 19, 0, 0).v, 16},
            {wire::Ipv4Addr::from_octets(198, 18, 0, 0).v, 24}};
  }
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> len(8, 32);
  std::set<std::pair<uint32_t, uint8_t>> seen;
  std::vector<Prefix> v;
  while (v.size() < 1000) {
    auto l = static_cast<uint8_t>(len(rng));
    uint32_t a = static_cast<uint32_t>(rng()) & mask_of(l);
    if (seen.insert({a, l}).second) v.push_back({a, l});
  }
  v.push_back({0, 0});
  return v;
}

std::vector<uint32_t> make_addrs(const std::vector<Prefix>& routes, bool inside) {
  std::mt19937 rng(7);
  std::vector<uint32_t> a(kAddrs);
  std::uniform_int_distribution<size_t> pick(0, routes.size() - 1);
  for (auto& x : a) {
    x = static_cast<uint32_t>(rng());
    if (inside) {
      const Prefix& p = routes[pick(rng)];
      x = p.addr | (x & ~mask_of(p.len));
    }
  }
  return a;
}

struct Tables {
  std::vector<Prefix> routes;
  std::vector<uint32_t> addrs;
  tern::l3::RouteTable tern;
  rte_lpm* lpm = nullptr;
  uint32_t default_hop = kMiss;

  bool tbl24_huge = false;  // rte_lpm's 64 MiB tbl24 is backed by 2 MiB pages

  Tables(bool large, bool inside, bool huge = false)
      : routes(make_routes(large)), addrs(make_addrs(routes, inside)) {
    static int seq = 0;
    std::string name = "bench_lpm" + std::to_string(seq++);
    rte_lpm_config cfg{};
    cfg.max_rules = 2048;
    cfg.number_tbl8s = 1024;
    lpm = rte_lpm_create(name.c_str(), SOCKET_ID_ANY, &cfg);
    require(lpm != nullptr, "rte_lpm_create failed (EAL memory?)");
    if (huge) tbl24_huge = backing.apply(lpm->tbl24, sizeof(lpm->tbl24));
    for (uint32_t i = 0; i < routes.size(); ++i) {
      const Prefix& p = routes[i];
      tern::l3::Route r;
      r.prefix = wire::Ipv4Prefix{wire::Ipv4Addr{p.addr}, p.len};
      r.iface = static_cast<uint16_t>(i);
      require(tern.add(r).ok(), "RouteTable::add failed");
      if (p.len == 0) {
        default_hop = i;
      } else {
        require(rte_lpm_add(lpm, p.addr, p.len, i) == 0, "rte_lpm_add failed");
      }
    }
    require(tern.size() == routes.size(), "RouteTable lost routes");
    // Both must agree on every address, or the comparison means nothing.
    for (uint32_t a : addrs) {
      const tern::l3::Route* r = tern.lookup(wire::Ipv4Addr{a});
      uint32_t hop = 0;
      uint32_t d = rte_lpm_lookup(lpm, a, &hop) == 0 ? hop : default_hop;
      require((r != nullptr ? r->iface : kMiss) == d, "RouteTable and rte_lpm disagree on an address");
    }
  }
  ~Tables() {
    backing.restore();
    rte_lpm_free(lpm);
  }

  // DPDK runs on hugepages; under --no-huge the EAL memory is a memfd of 4 KiB pages (no THP
  // for shmem here), so random tbl24 accesses miss the TLB. For the huge variants the 2 MiB-
  // aligned interior of tbl24 is moved aside (mremap), replaced by anonymous memory backed by
  // 2 MiB pages holding the same bytes, and moved back before rte_lpm_free().
  struct HugeBacking {
    uint8_t* at = nullptr;
    size_t len = 0;
    void* saved = MAP_FAILED;

    bool apply(void* p, size_t n) {
      constexpr uintptr_t k2M = uintptr_t{2} << 20;
      uintptr_t a = (reinterpret_cast<uintptr_t>(p) + k2M - 1) & ~(k2M - 1);
      uintptr_t e = (reinterpret_cast<uintptr_t>(p) + n) & ~(k2M - 1);
      if (e <= a) return false;
      at = reinterpret_cast<uint8_t*>(a);
      len = e - a;
      saved = mmap(nullptr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (saved == MAP_FAILED) return false;
      if (mremap(at, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, saved) == MAP_FAILED)
        fail("mremap of tbl24 failed");
      void* q = mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      if (q != at) fail("mmap over tbl24 failed");
      (void)madvise(at, len, MADV_HUGEPAGE);
      std::memcpy(at, saved, len);
      return anon_huge_kb() * 1024 >= len / 2;
    }
    // AnonHugePages of the mapping at `at`, from /proc/self/smaps.
    size_t anon_huge_kb() const {
      std::FILE* f = std::fopen("/proc/self/smaps", "r");
      if (f == nullptr) return 0;
      char line[512];
      bool in = false;
      size_t kb = 0;
      while (std::fgets(line, sizeof(line), f) != nullptr) {
        unsigned long lo = 0, hi = 0;
        if (std::sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && std::strchr(line, '-') < std::strchr(line, ' ')) {
          in = lo == reinterpret_cast<uintptr_t>(at);
        } else if (in && std::sscanf(line, "AnonHugePages: %zu kB", &kb) == 1) {
          break;
        }
      }
      std::fclose(f);
      return kb;
    }
    void restore() {
      if (saved == MAP_FAILED) return;
      std::memcpy(saved, at, len);
      if (mremap(saved, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, at) == MAP_FAILED)
        fail("mremap back failed");
      saved = MAP_FAILED;
    }
  };
  HugeBacking backing;
};

void finish(benchmark::State& st) { tern::perf::per_item(st, kBurst); }

void BM_LpmTern(benchmark::State& st) {
  Tables t(st.range(0) != 0, st.range(1) != 0);
  std::array<uint32_t, kBurst> hops{};
  size_t pos = 0;
  for (auto _ : st) {
    const uint32_t* a = t.addrs.data() + pos;
    pos = (pos + kBurst) & (kAddrs - 1);
    for (int i = 0; i < kBurst; ++i) {
      const tern::l3::Route* r = t.tern.lookup(wire::Ipv4Addr{a[i]});
      hops[i] = r != nullptr ? r->iface : kMiss;
    }
    benchmark::DoNotOptimize(hops.data());
    benchmark::ClobberMemory();
  }
  finish(st);
}

void BM_LpmDpdkBulk(benchmark::State& st) {
  Tables t(st.range(0) != 0, st.range(1) != 0, st.range(2) != 0);
  require(t.tbl24_huge == (st.range(2) != 0), "rte_lpm's tbl24 did not get 2 MiB pages");
  std::array<uint32_t, kBurst> res{}, hops{};
  size_t pos = 0;
  for (auto _ : st) {
    const uint32_t* a = t.addrs.data() + pos;
    pos = (pos + kBurst) & (kAddrs - 1);
    rte_lpm_lookup_bulk(t.lpm, a, res.data(), kBurst);
    for (int i = 0; i < kBurst; ++i)
      hops[i] = (res[i] & RTE_LPM_LOOKUP_SUCCESS) != 0 ? res[i] & 0x00ffffff : t.default_hop;
    benchmark::DoNotOptimize(hops.data());
    benchmark::ClobberMemory();
  }
  finish(st);
}

// rte_lpm_lookupx4, what DPDK's l3fwd uses (SSE/NEON): four addresses per call, misses get the default.
void BM_LpmDpdkX4(benchmark::State& st) {
  Tables t(st.range(0) != 0, st.range(1) != 0, st.range(2) != 0);
  require(t.tbl24_huge == (st.range(2) != 0), "rte_lpm's tbl24 did not get 2 MiB pages");
  std::array<uint32_t, kBurst> hops{};
  size_t pos = 0;
  for (auto _ : st) {
    const uint32_t* a = t.addrs.data() + pos;
    pos = (pos + kBurst) & (kAddrs - 1);
    for (int i = 0; i < kBurst; i += 4) {
      xmm_t ip = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i));
      rte_lpm_lookupx4(t.lpm, ip, hops.data() + i, t.default_hop);
    }
    benchmark::DoNotOptimize(hops.data());
    benchmark::ClobberMemory();
  }
  finish(st);
}

// {table: 0 tiny / 1 large, addresses: 0 uniform random / 1 inside the routes}
void lpm_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"large", "inside"})->Args({0, 1})->Args({1, 0})->Args({1, 1});
}
// The same, and rte_lpm's tbl24 on 4 KiB pages (huge 0, as under --no-huge) or 2 MiB pages (huge 1).
void dpdk_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"large", "inside", "huge"});
  for (int huge : {0, 1}) b->Args({0, 1, huge})->Args({1, 0, huge})->Args({1, 1, huge});
}
BENCHMARK(BM_LpmTern)->Apply(lpm_args);
BENCHMARK(BM_LpmDpdkBulk)->Apply(dpdk_args);
BENCHMARK(BM_LpmDpdkX4)->Apply(dpdk_args);

}  // namespace
