// tern-loss-recovery: how long objects take to arrive over a lossy, delayed path, and what the
// loss recovery costs (issue 12). Two tern Cores in one process joined by a PairWire whose two
// directions go through the fault-injecting port (random loss, a fixed one-way delay). The
// client opens a connection per object, sends a 100-byte request, and the server answers with the
// object and closes; the time from connect() to the last byte is the object's completion time.
// The clock is simulated (50 us per poll turn), so the figures are exact and repeatable: they
// compare algorithms, not machines.
//
//   tern-loss-recovery [--recovery rack-tlp|rfc6675] [--loss 0.005,0.01,0.05] [--delay-ms 1]
//                      [--small 200] [--large 20] [--seed 1]
//
// One JSON line per (loss, object size): objects, median/p90/max completion (ms), RTOs,
// retransmitted segments and bytes, tail loss probes, RACK losses, undone responses.
// Built against the tree before issue 12 with -DTERN_LOSS_BASELINE (no recovery choice).
#include <rte_eal.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "micro/bench_util.hpp"
#include "tern/drivers/fault_port.hpp"
#include "tern/drivers/pair_wire.hpp"
#include "tern/drivers/port_ref.hpp"
#include "tern/stack/core.hpp"
#include "tern/tcp/tcp.hpp"

namespace tern {
namespace {

constexpr uint64_t kUs = 1'000;
constexpr uint64_t kMs = 1'000'000;
constexpr uint16_t kPort = 8080;
const wire::Ipv4Addr kIpC = wire::Ipv4Addr::from_octets(198, 18, 0, 1);
const wire::Ipv4Addr kIpS = wire::Ipv4Addr::from_octets(198, 18, 0, 2);
const wire::MacAddr kMacC{{0x02, 0, 0, 0, 0, 1}};
const wire::MacAddr kMacS{{0x02, 0, 0, 0, 0, 2}};

struct Options {
  std::string recovery = "rack-tlp";
  std::vector<double> losses{0.005, 0.01, 0.05};
  double delay_ms = 1;
  uint32_t small = 200;  // 64 KiB objects per loss rate
  uint32_t large = 20;   // 4 MiB objects per loss rate
  uint64_t seed = 1;
};

struct Outcome {
  std::vector<double> ms;  // completion times
  uint64_t rto = 0, retrans_segs = 0, retrans_bytes = 0, tlp = 0, rack_lost = 0, undos = 0, failed = 0;
};

CoreParams params(Port& port, wire::Ipv4Addr ip, rte_mempool* pool, const Options& o) {
  CoreParams p = perf::host_params(port, ip, pool);
  p.tcp.socket.send_buffer = 4 << 20;
  p.tcp.socket.recv_buffer = 4 << 20;
#ifndef TERN_LOSS_BASELINE
  p.tcp.recovery = tcp::loss_recovery_from_string(o.recovery).value_or(tcp::LossRecovery::rack_tlp);
#else
  (void)o;
#endif
  return p;
}

// Objects of @p size bytes, one connection each, through @p loss and the delay.
Outcome run(const Options& o, double loss, uint32_t size, uint32_t count, uint64_t seed) {
  Outcome r;
  rte_mempool* pc = rte_pktmbuf_pool_create("lr_c", 32767, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  rte_mempool* ps = rte_pktmbuf_pool_create("lr_s", 32767, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  perf::require(pc != nullptr && ps != nullptr, "cannot create the mbuf pools (EAL memory)");
  {
    drivers::PairWire wire(perf::plain_caps(kMacC), perf::plain_caps(kMacS), 16384);
    drivers::FaultOptions f;
    f.seed = seed;
    f.loss = loss;
    f.delay_ns = static_cast<uint64_t>(o.delay_ms * 1e6);
    drivers::FaultOptions fs = f;
    fs.seed = seed + 7919;
    drivers::FaultPort fc(drivers::ref(wire.a()), f, pc);
    drivers::FaultPort fsrv(drivers::ref(wire.b()), fs, ps);
    Core client(params(fc, kIpC, pc, o));
    Core server(params(fsrv, kIpS, ps, o));
    uint64_t now = 1'000'000'000;
    client.start(now);
    server.start(now);
    client.interface(0).neighbours().learn(kIpS, kMacS, true, now);
    server.interface(0).neighbours().learn(kIpC, kMacC, true, now);
    auto l = server.tcp().listen(kPort);
    perf::require(l.ok(), "listen failed");
    std::vector<uint8_t> chunk(64 * 1024, 0x5a);
    std::vector<uint8_t> req(100, 0x41);
    for (uint32_t i = 0; i < count; ++i) {
      auto c = client.tcp().connect(tcp::Endpoint{kIpS, kPort});
      perf::require(c.ok(), "connect failed");
      tcp::Connection* cc = *c;
      tcp::Connection* sc = nullptr;
      const uint64_t t0 = now;
      bool req_sent = false;
      uint32_t got_req = 0, sent = 0, got = 0;
      bool done = false;
      const uint64_t limit = now + 600ull * 1'000'000'000;  // 10 simulated minutes: a stall fails
      while (now < limit) {
        now += 50 * kUs;
        client.poll(now);
        server.poll(now);
        if (sc == nullptr) {
          sc = (*l)->accept();
        }
        if (!req_sent && cc->state() == tcp::State::established) {
          req_sent = cc->send_copy(req).ok();
          if (req_sent) (void)cc->shutdown();
        }
        if (sc != nullptr) {
          uint8_t buf[4096];
          for (;;) {
            auto n = sc->recv_copy(buf);
            if (!n || *n == 0) break;
            got_req += static_cast<uint32_t>(*n);
          }
          while (got_req >= req.size() && sent < size && sc->send_space() > 0) {
            const uint32_t n =
                std::min<uint32_t>({size - sent, static_cast<uint32_t>(chunk.size()), sc->send_space()});
            auto w = sc->send_copy(std::span<const uint8_t>(chunk.data(), n));
            if (!w || *w == 0) break;
            sent += static_cast<uint32_t>(*w);
          }
          if (sent == size && sc->state() != tcp::State::fin_wait_1 && sc->state() != tcp::State::last_ack &&
              sc->state() != tcp::State::closed) {
            (void)sc->shutdown();
          }
        }
        Packet p;
        while (cc->recv(p)) got += p.length();
        if (got >= size && cc->at_eof()) {
          done = true;
          break;
        }
        if (cc->error()) break;
      }
      if (done) {
        r.ms.push_back(static_cast<double>(now - t0) / kMs);
      } else {
        ++r.failed;
      }
      cc->close();
      if (sc != nullptr) sc->close();
      for (int k = 0; k < 4000 && (client.tcp().connections() != 0 || server.tcp().connections() != 0); ++k) {
        now += 1 * kMs;
        client.poll(now);
        server.poll(now);
        if (tcp::Connection* late = (*l)->accept()) late->abort();
      }
    }
    for (Core* k : {&client, &server}) {
      const tcp::TcpStats& s = k->tcp().stats();
      r.rto += s.rto_timeouts;
      r.retrans_segs += s.retrans_segs;
#ifndef TERN_LOSS_BASELINE
      r.retrans_bytes += s.retrans_bytes;
      r.tlp += s.tlp_probes;
      r.rack_lost += s.rack_marked_lost;
      r.undos += s.spurious_undos + s.spurious_rtos;
#endif
    }
    (*l)->close();
  }
  rte_mempool_free(pc);
  rte_mempool_free(ps);
  return r;
}

double pct(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

std::vector<double> parse_list(const char* s) {
  std::vector<double> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(std::atof(item.c_str()));
  return v;
}

}  // namespace
}  // namespace tern

int main(int argc, char** argv) {
  using namespace tern;
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--recovery") {
      o.recovery = v;
    } else if (k == "--loss") {
      o.losses = parse_list(v);
    } else if (k == "--delay-ms") {
      o.delay_ms = std::atof(v);
    } else if (k == "--small") {
      o.small = static_cast<uint32_t>(std::atoi(v));
    } else if (k == "--large") {
      o.large = static_cast<uint32_t>(std::atoi(v));
    } else if (k == "--seed") {
      o.seed = std::strtoull(v, nullptr, 10);
    } else {
      std::fprintf(stderr, "tern-loss-recovery: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  perf::start_eal("tern-loss-recovery", 512);
  for (double loss : o.losses) {
    for (auto [size, count] : {std::pair<uint32_t, uint32_t>{64u << 10, o.small}, {4u << 20, o.large}}) {
      if (count == 0) continue;
      const Outcome r = run(o, loss, size, count, o.seed + static_cast<uint64_t>(loss * 1e6) + size);
#ifdef TERN_LOSS_BASELINE
      const char* rec = "baseline";
#else
      const char* rec = o.recovery.c_str();
#endif
      std::printf(
          "{\"recovery\":\"%s\",\"loss\":%.4f,\"delay_ms\":%.2f,\"object_bytes\":%u,\"objects\":%u,"
          "\"failed\":%lu,"
          "\"median_ms\":%.1f,\"p90_ms\":%.1f,\"max_ms\":%.1f,\"rto\":%lu,\"retrans_segs\":%lu,"
          "\"retrans_bytes\":%lu,\"tlp_probes\":%lu,\"rack_lost\":%lu,\"undos\":%lu}\n",
          rec, loss, o.delay_ms, size, count, static_cast<unsigned long>(r.failed), pct(r.ms, 0.5),
          pct(r.ms, 0.9), pct(r.ms, 1.0), static_cast<unsigned long>(r.rto),
          static_cast<unsigned long>(r.retrans_segs), static_cast<unsigned long>(r.retrans_bytes),
          static_cast<unsigned long>(r.tlp), static_cast<unsigned long>(r.rack_lost),
          static_cast<unsigned long>(r.undos));
      std::fflush(stdout);
    }
  }
  rte_eal_cleanup();
  return 0;
}
