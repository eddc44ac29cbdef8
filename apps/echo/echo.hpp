// tern-echo's services: the TCP and UDP echo servers (RFC 862) and the
// client/load generator. Each runs on one Core from its poll loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tern/stack/core.hpp"
#include "tern/stack/stack.hpp"
#include "tern/tcp/tcp.hpp"
#include "tern/wire/addr.hpp"

namespace tern::apps {

/** Serve UDP echo on @p port of @p core (zero copy). */
void serve_udp_echo(Core& core, uint16_t port);

/**
 * Serve TCP echo on @p port of @p core: every received mbuf is sent back as
 * it is (zero copy). A connection whose send buffer is full stops being read
 * until it drains. Counters are the stack's (cores[i].tcp in its JSON).
 * @p fastopen > 0 turns on TCP Fast Open (RFC 7413) with that many pending connections at most.
 */
void serve_tcp_echo(Core& core, uint16_t port, uint32_t backlog,
                    const std::optional<tcp::KeepaliveOptions>& keepalive = {}, uint32_t fastopen = 0);

/**
 * Serve TCP discard (RFC 863) on @p port of @p core: read and drop everything
 * (the sink of the bulk-throughput benchmark).
 */
void serve_tcp_discard(Core& core, uint16_t port, uint32_t backlog);

/** What the client/load mode does. */
struct ClientOptions {
  wire::Ipv4Addr server;
  uint16_t port = 7;
  uint32_t connections = 1;
  uint32_t message_size = 64;
  double duration_s = 10;
  bool udp = false;
  /** Short connections: connect, one message, its echo, reset; then again. One transaction each. */
  bool short_conn = false;
  /** Bulk: send message_size-byte chunks one way (to a discard server) as fast as the stack takes them. */
  bool bulk = false;
  double connect_timeout_s = 5;
  bool nodelay = true;
  std::optional<tcp::KeepaliveOptions> keepalive;
  /** Connect with TCP Fast Open (RFC 7413): the first message rides on the SYN once a cookie is cached. */
  bool fastopen = false;
};

class Client;

/**
 * Start the load on every core of @p stack (the connections split evenly; each core's share opens
 * from that core, so connect() picks ports the steering brings back to it). The last core to finish
 * sets @p stop. Call client_json() after the stack stopped.
 */
std::vector<std::shared_ptr<Client>> start_clients(Stack& stack, const ClientOptions& o,
                                                   std::atomic<bool>& stop);
/**
 * The one-line JSON result over every core's client: transactions/s, latency percentiles (µs),
 * errors, bytes verified, and a per-core breakdown.
 */
std::string client_json(const std::vector<std::shared_ptr<Client>>& clients);
/** True when every core's transactions verified and nothing failed. */
bool client_ok(const std::vector<std::shared_ptr<Client>>& clients);

}  // namespace tern::apps
