/**
 * @file
 * TCP request/response between two tern Cores in one thread, joined by a
 * drivers::PairWire: the client (198.18.0.1) holds one connection (nodelay) to
 * the server (198.18.0.2), which runs a zero-copy TCP echo (each received
 * chain goes back out as it is, like tern-echo's serve_tcp_echo). A
 * transaction: the client sends one message, polls (request out), the server
 * is polled once (rx, l2, l3, tcp input, echo, tcp output, tx), the client
 * polls (echo in) and checks the echoed bytes. A fake clock advances 1 us per
 * poll, so runs are deterministic. Any failure aborts (tern::perf::fail).
 *
 * The server is polled only through serve_poll(), which is never inlined:
 * callgrind's --toggle-collect='serve_poll(*' counts the server side alone
 * (perf/callgrind.sh).
 */
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tern/drivers/pair_wire.hpp"
#include "tern/stack/core.hpp"
#include "tern/tcp/tcp.hpp"

/** One turn of the server core's loop; the only place the server core is polled. */
__attribute__((noinline)) uint32_t serve_poll(tern::Core& core, uint64_t now);

namespace tern::perf {

class TcpRr {
 public:
  static constexpr uint16_t kPort = 7;
  /** Build both cores (mbufs from @p pool) and open the connection; @p msg_size bytes per message. */
  TcpRr(rte_mempool* pool, size_t msg_size);
  ~TcpRr();
  TcpRr(const TcpRr&) = delete;
  TcpRr& operator=(const TcpRr&) = delete;

  /** Run @p n transactions. */
  void run(int n);
  uint64_t transactions() const noexcept { return done_; }
  const tcp::TcpStats& client_stats() const noexcept { return client_->tcp().stats(); }
  const tcp::TcpStats& server_stats() const noexcept { return server_->tcp().stats(); }
  /** Retransmitted segments on either side (a clean run has none). */
  uint64_t retransmits() const noexcept;

 private:
  void round();

  std::unique_ptr<drivers::PairWire> wire_;
  std::unique_ptr<Core> client_, server_;
  tcp::Listener* listener_ = nullptr;
  tcp::Connection* conn_ = nullptr;
  std::vector<uint8_t> msg_, got_;
  uint64_t now_ = 1000ull * 1'000'000'000;
  uint64_t done_ = 0;
};

}  // namespace tern::perf
