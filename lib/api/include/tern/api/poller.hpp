/**
 * @file
 * Poller: epoll-like readiness for applications that run one event loop over many sockets.
 *
 * Register TCP connections, TCP listeners and UDP sockets (handles, tern/api/socket.hpp) with an
 * interest mask, a 64-bit user value and a trigger mode; after (or inside) Core::poll(), wait()
 * hands back typed events (PollEvent names the socket's handle). Costs do not depend on how many
 * sockets are registered: the socket points at its registration (an EventHook), events go on an
 * intrusive ready list, and close() on the socket drops its registration by itself, so a
 * connection that later reuses the slot never inherits it.
 *
 * Modes, as epoll's:
 * - Trigger::edge (EPOLLET): an event is reported once per occurrence (new data, new space...);
 *   drain a readable socket until recv() says would_block before expecting another.
 * - Trigger::level: a socket is reported at every wait() while its condition holds (data queued,
 *   send space at the low-water mark, connections waiting, an error); the re-check costs one test
 *   per socket reported at the previous wait().
 * At add() the current readiness is reported in both modes (as epoll_ctl(ADD) does). ev::error
 * is always reported, whatever the interest. A socket has at most one watcher: registering a
 * socket that a Poller or a coroutine already watches fails with exists.
 *
 * Everything is per core: one Poller per Core, used from that core's thread. Nothing blocks.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "tern/api/socket.hpp"
#include "tern/base/events.hpp"

namespace tern {

/** How a registration reports readiness (epoll's EPOLLET or its default). */
enum class Trigger : uint8_t { edge, level };

/** One ready socket. */
struct PollEvent {
  SocketRef socket;     ///< the handle (valid unless the socket was closed after the event)
  uint32_t events = 0;  ///< tern::ev bits (masked by the interest; ev::error always)
  uint64_t data = 0;    ///< what was given to add()
};

/** Work counters (tests count work, not time). */
struct PollerStats {
  uint64_t raised = 0;     ///< events the sockets reported
  uint64_t reported = 0;   ///< PollEvents handed out
  uint64_t rechecked = 0;  ///< level-triggered readiness tests
};

class Poller {
 public:
  Poller() = default;
  /** Drops every registration (the sockets forget it). */
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  /**
   * Watch @p s for @p interest (tern::ev bits; listeners: ev::accept; UDP: ev::readable).
   * Errors: bad_handle (closed), exists (already watched by a Poller or a coroutine).
   */
  Status add(const TcpConnection& s, uint32_t interest, uint64_t data = 0, Trigger t = Trigger::edge);
  Status add(const TcpListener& s, uint64_t data = 0, Trigger t = Trigger::edge);
  Status add(const UdpSocket& s, uint64_t data = 0, Trigger t = Trigger::edge);
  /** Change a registration's interest, user value and mode. Errors: bad_handle, not_found. */
  Status modify(const SocketRef& s, uint32_t interest, uint64_t data, Trigger t = Trigger::edge);
  /** Stop watching @p s (close() does this by itself). Errors: bad_handle, not_found. */
  Status remove(const SocketRef& s);
  /** Move up to out.size() ready events into @p out. @return how many. */
  size_t wait(std::span<PollEvent> out);
  /** Sockets registered. */
  size_t size() const noexcept { return live_; }
  /** Registration objects made so far (reused after close()/remove(): this does not grow with churn). */
  size_t allocated() const noexcept { return regs_.size(); }
  /** Events waiting for wait() (an upper bound: level-triggered ones are re-checked there). */
  bool ready() const noexcept { return ready_head_ != nullptr || recheck_head_ != nullptr; }
  const PollerStats& stats() const noexcept { return stats_; }

  /** The readiness @p s has now (tern::ev bits), as level-triggered mode tests it. */
  static uint32_t readiness(const SocketRef& s) noexcept;

 private:
  struct Reg : EventHook {
    Poller* poller = nullptr;
    SocketRef socket;
    uint64_t data = 0;
    uint32_t interest = 0;
    uint32_t pending = 0;
    Trigger trigger = Trigger::edge;
    uint8_t list = 0;  // 0: none, 1: ready, 2: recheck
    Reg* prev = nullptr;
    Reg* next = nullptr;
  };
  static void on_events(EventHook& h, uint32_t ev);
  static void on_closed(EventHook& h);
  Status attach(const SocketRef& s, uint32_t interest, uint64_t data, Trigger t);
  Reg* find(const SocketRef& s, Error* err) const noexcept;
  void raise(Reg& r, uint32_t ev);
  void link(Reg& r, uint8_t list);
  void unlink(Reg& r);
  void drop(Reg& r);

  std::vector<std::unique_ptr<Reg>> regs_;  // every registration ever made (reused through free_)
  std::vector<Reg*> free_;
  size_t live_ = 0;
  Reg* ready_head_ = nullptr;
  Reg* ready_tail_ = nullptr;
  Reg* recheck_head_ = nullptr;
  Reg* recheck_tail_ = nullptr;
  PollerStats stats_;
};

/**
 * Copy all of @p data into @p c, or as much as fits. @return bytes taken (0 when the buffer is
 * full). Errors: as TcpConnection::send().
 */
Result<size_t> write_some(TcpConnection& c, std::span<const uint8_t> data);

/** Copy received data into @p out until it is full or nothing is queued. @return bytes; 0 with *eof at the
 * end. */
Result<size_t> read_some(TcpConnection& c, std::span<uint8_t> out, bool* eof = nullptr);

}  // namespace tern
