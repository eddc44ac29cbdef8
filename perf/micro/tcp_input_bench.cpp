// The TCP input fast path: Tcp::input() (the entry Ipv4::deliver calls) on an
// ESTABLISHED connection, for (1) an in-order data segment and (2) a pure
// ACK that acknowledges new data. The fixture (tcp_peer.hpp) plays the peer;
// segments are built with timing paused, 64 per iteration, and the check
// after each batch (data accepted / everything acknowledged, no drop, still
// ESTABLISHED) aborts the run if the fast path was not taken.
//
// Only the Tcp::input() calls are timed (manual time, bench_timing.hpp): read
// per_item and items_per_second.
//
// Arguments: payload bytes, and csum_offload (0: Tcp verifies the checksum
// in software, as behind PairWire or a NIC without RX offload; 1: the NIC
// said good). Note: 64-byte segments arriving while the application has not
// read are copied into the tail mbuf of the receive queue (SegQueue coalesces
// appends of <= 256 bytes), which the 1448-byte case does not do.
#include <benchmark/benchmark.h>

#include <vector>

#include "bench_timing.hpp"
#include "tcp_peer.hpp"

namespace {

using tern::Packet;
using tern::perf::per_item;
using tern::perf::require;
using tern::perf::SectionTimer;
using tern::perf::TcpPeer;

constexpr int kBatch = 64;
constexpr uint64_t kMs = 1'000'000;

void BM_TcpInputData(benchmark::State& st) {
  TcpPeer peer;
  tern::tcp::Tcp& tcp = peer.tcp();
  tern::tcp::Connection& conn = peer.conn();
  const auto& meta = peer.meta(st.range(1) != 0);
  std::vector<uint8_t> payload(static_cast<size_t>(st.range(0)), 0x5a);
  std::vector<Packet> segs(kBatch);
  const uint64_t drops0 = peer.drops();
  SectionTimer clock;
  for (auto _ : st) {
    for (auto& s : segs) s = peer.data_segment(payload);
    const uint64_t now = peer.now();
    clock.start();
    for (auto& s : segs) benchmark::DoNotOptimize(tcp.input(s, meta, now));
    clock.stop();
    require(conn.readable() == kBatch * payload.size(), "the data segments were not all queued in order");
    require(peer.drops() == drops0, "the stack dropped a data segment");
    require(conn.state() == tern::tcp::State::established, "the connection left ESTABLISHED");
    Packet p;
    while (conn.recv(p)) p.reset();
    (void)peer.poll(tcp.params().delayed_ack_ns + kMs);  // the delayed ACK opens the window again
    clock.report(st);
  }
  per_item(st, kBatch, &clock);
}
BENCHMARK(BM_TcpInputData)
    ->ArgNames({"payload", "csum_offload"})
    ->Args({64, 0})
    ->Args({64, 1})
    ->Args({1448, 0})
    ->UseManualTime();

void BM_TcpInputAck(benchmark::State& st) {
  TcpPeer peer(/*nodelay=*/true);
  tern::tcp::Tcp& tcp = peer.tcp();
  tern::tcp::Connection& conn = peer.conn();
  const auto& meta = peer.meta(st.range(0) != 0);
  std::vector<uint8_t> msg(64, 0xa5);
  std::vector<Packet> acks(kBatch);
  const uint64_t drops0 = peer.drops();
  SectionTimer clock;
  for (auto _ : st) {
    // The stack sends kBatch 64-byte segments; the peer will acknowledge each one.
    for (auto& a : acks) {
      auto n = conn.send_copy(msg);
      require(n.ok() && *n == msg.size(), "send_copy refused the message");
      auto sent = peer.poll(1000);
      require(sent.size() == 1 && sent[0].len == msg.size(), "the stack did not send one 64-byte segment");
      a = peer.ack_segment(sent[0].end, sent[0].tsval);
    }
    const uint64_t now = peer.now();
    clock.start();
    for (auto& a : acks) benchmark::DoNotOptimize(tcp.input(a, meta, now));
    clock.stop();
    tern::tcp::TcpInfo info = conn.info();
    require(info.bytes_in_flight == 0 && info.send_queued == 0, "the ACKs did not acknowledge the data");
    require(peer.drops() == drops0, "the stack dropped an ACK");
    require(conn.state() == tern::tcp::State::established, "the connection left ESTABLISHED");
    require(peer.poll(1000).empty(), "the stack sent data after the ACKs");
    clock.report(st);
  }
  per_item(st, kBatch, &clock);
}
BENCHMARK(BM_TcpInputAck)->ArgName("csum_offload")->Arg(0)->Arg(1)->UseManualTime();

}  // namespace
