// tern-kernel-echo: the Linux-kernel side of tern's side-by-side benchmarks.
// The same services and load client as tern-echo (apps/echo) -- TCP and UDP
// echo (RFC 862) and TCP discard (RFC 863) servers, a client that verifies
// every echoed byte and prints the same JSON keys -- but on ordinary kernel
// sockets and one epoll loop, so both stacks see identical traffic.
// Single file on purpose: Linux sockets, epoll and the C++20 library only.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr const char* kProg = "tern-kernel-echo";
constexpr size_t kRecvBuf = 256 * 1024;  // one recv() at most
constexpr size_t kWindow = 256 * 1024;   // message bytes generated at a time for send()
constexpr int kBusyPollUs = 50;
constexpr int kMaxEvents = 256;
constexpr uint32_t kMaxMessage = 16 * 1024 * 1024;
constexpr uint32_t kMaxUdpMessage = 65507;
constexpr uint64_t kNsPerSec = 1'000'000'000;
constexpr uint64_t kConnectTimeoutNs = 5 * kNsPerSec;  // as tern-echo's client
constexpr uint64_t kUdpTimeoutNs = kNsPerSec;          // a datagram not echoed by then is lost
constexpr uint64_t kDrainNs = 2 * kNsPerSec;           // graceful close at the end, at most
constexpr uint64_t kMaxConsecutiveConnectFailures = 1000;
constexpr int kPumpBudget = 64;  // syscalls per socket per turn before the others get theirs
// Ask the peer-closed/error states to be read to the end, not just the short-read hint.
constexpr uint32_t kGreedy = EPOLLRDHUP | EPOLLHUP | EPOLLERR;

constexpr const char* kUsage =
    "tern-kernel-echo: the Linux-kernel counterpart of tern-echo, for side-by-side benchmarks.\n"
    "Single-threaded epoll on ordinary kernel sockets; prints one JSON line at the end.\n"
    "\n"
    "usage:\n"
    "  tern-kernel-echo server [--tcp-port P] [--udp-port P] [--discard-port P] [--busy-poll]\n"
    "                          [--duration S] [--exit-after-bytes B]\n"
    "  tern-kernel-echo client --connect IP:PORT --duration S [--connections N] [--message-size B]\n"
    "                          [--udp | --short | --bulk] [--busy-poll] [--no-nodelay]\n"
    "\n"
    "server:\n"
    "  --tcp-port P          TCP echo (RFC 862) port, 0 disables (default 7)\n"
    "  --udp-port P          UDP echo port, 0 disables (default 7)\n"
    "  --discard-port P      TCP discard (RFC 863) port, 0 disables (default 9)\n"
    "  --duration S          exit after S seconds (default: at SIGINT/SIGTERM)\n"
    "  --exit-after-bytes B  exit once B bytes have been echoed (TCP + UDP)\n"
    "client:\n"
    "  --connect IP:PORT     the echo server (the discard server with --bulk)\n"
    "  --duration S          seconds of load (required)\n"
    "  --connections N       concurrent connections, UDP sockets or --short slots (default 1)\n"
    "  --message-size B      bytes per message (default 64; 65536 with --bulk)\n"
    "  (no mode flag)        TCP request/response: send B bytes, wait for the verified echo, repeat\n"
    "  --udp                 UDP request/response; a datagram not echoed within 1 s is an error\n"
    "  --short               one TCP connection per message: connect, send, verify, reset (SO_LINGER 0)\n"
    "  --bulk                send B-byte chunks one way, as fast as possible (to a discard server)\n"
    "  --no-nodelay          leave Nagle on (TCP_NODELAY is set by default)\n"
    "both:\n"
    "  --busy-poll           SO_BUSY_POLL (50 us) on every socket, epoll_wait spinning with timeout 0\n"
    "\n"
    "Client exit status: 0 when transactions (--bulk: bytes) > 0 and nothing failed, else 4.\n"
    "Bad usage: exit 2.\n";

constexpr const char* kExamples =
    "examples:\n"
    "  tern-kernel-echo server --tcp-port 17007 --udp-port 17007 --discard-port 17009\n"
    "  tern-kernel-echo client --connect 127.0.0.1:17007 --duration 5 --connections 64\n"
    "  tern-kernel-echo client --connect 127.0.0.1:17009 --duration 5 --bulk --message-size 65536\n"
    "(tern-kernel-echo --help for all options)\n";

volatile sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * kNsPerSec + static_cast<uint64_t>(ts.tv_nsec);
}

[[noreturn]] void usage_error(const std::string& what) {
  std::fprintf(stderr, "%s: %s\n%s", kProg, what.c_str(), kExamples);
  std::exit(2);
}

// One stderr line per (what, errno): a storm of identical failures stays readable.
void warn_once(const std::string& what, int err) {
  static std::vector<std::pair<std::string, int>> seen;
  for (const auto& s : seen) {
    if (s.second == err && s.first == what) return;
  }
  seen.emplace_back(what, err);
  std::fprintf(stderr, "%s: %s: %s\n", kProg, what.c_str(), std::strerror(err));
}

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

void set_busy_poll(int fd) {
  int v = kBusyPollUs;
  if (setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &v, sizeof v) != 0) {
    static bool warned = false;
    if (!warned) {
      warned = true;
      std::fprintf(stderr, "%s: SO_BUSY_POLL refused (%s): spinning epoll_wait only\n", kProg,
                   std::strerror(errno));
    }
  }
}

void set_nodelay(int fd) {
  int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// The soft open-files limit raised to the hard one; returns the limit in force.
uint64_t raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return 1024;
  if (r.rlim_cur < r.rlim_max) {
    rlimit want = r;
    want.rlim_cur = r.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) r = want;
  }
  return r.rlim_cur == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(r.rlim_cur);
}

void install_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;  // no SA_RESTART: epoll_wait returns EINTR
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);  // MSG_NOSIGNAL too, but a stray write must not kill the run
}

void cpu_times(double& user, double& sys) {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  user = static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6;
  sys = static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6;
}

// Sends as much of [p, p+n) as the socket takes now: the byte count, or -1 on a hard error (errno).
ssize_t send_some(int fd, const uint8_t* p, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = send(fd, p + done, n - done, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (would_block(errno)) break;
      return -1;
    }
    done += static_cast<size_t>(w);
  }
  return static_cast<ssize_t>(done);
}

// A one-line JSON object, numbers as tern's JsonWriter prints them (%.6g for doubles).
class Json {
 public:
  Json& str(const char* k, const std::string& v) {
    key(k);
    s_ += '"';
    s_ += v;
    s_ += '"';
    return *this;
  }
  Json& num(const char* k, uint64_t v) {
    key(k);
    s_ += std::to_string(v);
    return *this;
  }
  Json& dbl(const char* k, double v) {
    key(k);
    if (!std::isfinite(v)) {
      s_ += "null";
    } else {
      char b[32];
      std::snprintf(b, sizeof b, "%.6g", v);
      s_ += b;
    }
    return *this;
  }
  Json& boolean(const char* k, bool v) {
    key(k);
    s_ += v ? "true" : "false";
    return *this;
  }
  Json& raw(const char* k, const std::string& v) {
    key(k);
    s_ += v;
    return *this;
  }
  std::string done() const { return s_ + "}"; }

 private:
  void key(const char* k) {
    if (s_.size() > 1) s_ += ',';
    s_ += '"';
    s_ += k;
    s_ += "\":";
  }
  std::string s_ = "{";
};

// epoll, blocking (at most 100 ms, to look at deadlines) or spinning with --busy-poll.
struct Poller {
  int fd = -1;
  bool busy = false;
  epoll_event ev[kMaxEvents];

  bool add(int s, uint32_t events, uint64_t data) {
    epoll_event e{};
    e.events = events;
    e.data.u64 = data;
    return epoll_ctl(fd, EPOLL_CTL_ADD, s, &e) == 0;
  }
  // Waits up to @p max_ns (never when busy polling); the number of events, 0 on EINTR.
  int wait(uint64_t max_ns) {
    int timeout = 0;
    if (!busy) timeout = static_cast<int>((std::min<uint64_t>(max_ns, 100'000'000) + 999'999) / 1'000'000);
    int n = epoll_wait(fd, ev, kMaxEvents, timeout);
    return n < 0 ? 0 : n;
  }
};

// ---------------------------------------------------------------- numbers and arguments

bool parse_u64(const std::string& s, uint64_t& out) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  out = v;
  return true;
}

bool parse_seconds(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || *end != '\0' || !std::isfinite(v) || v <= 0 || v > 1e7) return false;
  out = v;
  return true;
}

// Walks "--opt V", "--opt=V" and "--flag" arguments.
class ArgWalker {
 public:
  ArgWalker(int argc, char** argv) : argc_(argc), argv_(argv) {}
  bool next() {
    if (i_ >= argc_) return false;
    opt_ = argv_[i_++];
    has_value_ = false;
    auto eq = opt_.find('=');
    if (opt_.rfind("--", 0) == 0 && eq != std::string::npos) {
      value_ = opt_.substr(eq + 1);
      opt_.resize(eq);
      has_value_ = true;
    }
    return true;
  }
  const std::string& opt() const { return opt_; }
  std::string value() {
    if (has_value_) return value_;
    if (i_ >= argc_) usage_error(opt_ + " needs a value");
    return argv_[i_++];
  }
  void flag() const {
    if (has_value_) usage_error(opt_ + " takes no value");
  }
  uint64_t number(uint64_t lo, uint64_t hi) {
    std::string v = value();
    uint64_t n = 0;
    if (!parse_u64(v, n) || n < lo || n > hi) {
      usage_error(opt_ + " '" + v + "': expected a whole number in " + std::to_string(lo) + ".." +
                  std::to_string(hi));
    }
    return n;
  }
  double seconds() {
    std::string v = value();
    double d = 0;
    if (!parse_seconds(v, d)) usage_error(opt_ + " '" + v + "': expected seconds > 0, e.g. 10 or 0.5");
    return d;
  }

 private:
  int argc_;
  char** argv_;
  int i_ = 2;  // after "prog mode"
  std::string opt_, value_;
  bool has_value_ = false;
};

// ---------------------------------------------------------------- server

struct ServerOptions {
  uint16_t tcp_port = 7;
  uint16_t udp_port = 7;
  uint16_t discard_port = 9;
  bool busy = false;
  double duration_s = 0;
  uint64_t exit_after_bytes = 0;
};

class Server {
 public:
  explicit Server(const ServerOptions& o) : o_(o), buf_(kRecvBuf) {}

  int run() {
    poll_.busy = o_.busy;
    poll_.fd = epoll_create1(EPOLL_CLOEXEC);
    if (poll_.fd < 0) {
      std::fprintf(stderr, "%s: epoll_create1: %s\n", kProg, std::strerror(errno));
      return 1;
    }
    if (o_.tcp_port != 0 && (tcp_fd_ = listen_tcp(o_.tcp_port, "TCP echo")) < 0) return 1;
    if (o_.discard_port != 0 && (discard_fd_ = listen_tcp(o_.discard_port, "TCP discard")) < 0) return 1;
    if (o_.udp_port != 0 && (udp_fd_ = bind_udp(o_.udp_port)) < 0) return 1;
    std::fprintf(stderr, "%s: ready: tcp echo on port %u, udp echo on port %u, tcp discard on port %u%s\n",
                 kProg, o_.tcp_port, o_.udp_port, o_.discard_port, o_.busy ? ", busy polling" : "");

    const uint64_t start = now_ns();
    const uint64_t deadline = o_.duration_s > 0 ? start + static_cast<uint64_t>(o_.duration_s * 1e9) : 0;
    while (!g_stop) {
      uint64_t now = now_ns();
      if (deadline != 0 && now >= deadline) break;
      if (o_.exit_after_bytes != 0 && echoed_ >= o_.exit_after_bytes) break;
      uint64_t wait = again_.empty() ? (deadline != 0 ? deadline - now : UINT64_MAX) : 0;
      int n = poll_.wait(wait);
      for (int i = 0; i < n; ++i) {
        int fd = static_cast<int>(poll_.ev[i].data.u64);
        uint32_t ev = poll_.ev[i].events;
        if (fd == tcp_fd_ || fd == discard_fd_) {
          accept_all(fd, fd == discard_fd_);
        } else if (fd == udp_fd_) {
          udp_echo();
        } else {
          pump(fd, ev);
        }
      }
      if (!again_.empty()) {
        std::vector<int> todo;
        todo.swap(again_);
        for (int fd : todo) pump(fd, 0);
      }
    }

    for (size_t fd = 0; fd < conns_.size(); ++fd) {
      if (conns_[fd]) close(static_cast<int>(fd));
    }
    for (int fd : {tcp_fd_, discard_fd_, udp_fd_, poll_.fd}) {
      if (fd >= 0) close(fd);
    }
    double user = 0, sys = 0;
    cpu_times(user, sys);
    Json j;
    j.str("mode", "server").num("accepted", accepted_).num("echoed_bytes", echoed_);
    j.num("udp_datagrams", udp_datagrams_).num("discarded_bytes", discarded_).num("errors", errors_);
    j.dbl("cpu_user_s", user).dbl("cpu_sys_s", sys);
    std::printf("%s\n", j.done().c_str());
    std::fflush(stdout);
    return 0;
  }

 private:
  struct Conn {
    bool discard = false;
    std::vector<uint8_t> pending;  // received, not yet taken by send(); no reading meanwhile
    size_t off = 0;
  };

  int listen_tcp(uint16_t port, const char* what) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 4096) != 0 ||
        !poll_.add(fd, EPOLLIN, static_cast<uint64_t>(fd))) {
      std::fprintf(stderr, "%s: cannot listen on %s port %u: %s\n", kProg, what, port, std::strerror(errno));
      return -1;
    }
    if (o_.busy) set_busy_poll(fd);
    return fd;
  }

  int bind_udp(uint16_t port) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        !poll_.add(fd, EPOLLIN, static_cast<uint64_t>(fd))) {
      std::fprintf(stderr, "%s: cannot bind UDP port %u: %s\n", kProg, port, std::strerror(errno));
      return -1;
    }
    if (o_.busy) set_busy_poll(fd);
    udp_buf_.resize(kUdpBatch * kUdpSlot);
    return fd;
  }

  void accept_all(int lfd, bool discard) {
    for (;;) {
      int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (!would_block(errno)) {
          ++errors_;
          warn_once("accept", errno);
        }
        return;
      }
      ++accepted_;
      if (!discard) set_nodelay(fd);
      if (o_.busy) set_busy_poll(fd);
      if (static_cast<size_t>(fd) >= conns_.size()) conns_.resize(static_cast<size_t>(fd) + 1);
      conns_[fd] = std::make_unique<Conn>();
      conns_[fd]->discard = discard;
      // Edge-triggered: the data already there when added is reported once too.
      if (!poll_.add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, static_cast<uint64_t>(fd))) {
        ++errors_;
        warn_once("epoll_ctl", errno);
        close_conn(fd);
      }
    }
  }

  void close_conn(int fd) {
    close(fd);
    conns_[fd].reset();
  }

  void fail(int fd, const char* what) {
    ++errors_;
    warn_once(what, errno);
    close_conn(fd);
  }

  void pump(int fd, uint32_t ev) {
    if (static_cast<size_t>(fd) >= conns_.size() || !conns_[fd]) return;
    if (conns_[fd]->discard) {
      discard(fd, ev);
    } else {
      echo(fd, *conns_[fd], ev);
    }
  }

  // Echo (RFC 862): what arrives goes straight back; what send() does not take waits for
  // EPOLLOUT and the connection is not read until it has gone.
  void echo(int fd, Conn& c, uint32_t ev) {
    const bool greedy = (ev & kGreedy) != 0;
    for (int budget = kPumpBudget; budget > 0; --budget) {
      if (c.off < c.pending.size()) {
        ssize_t w = send_some(fd, c.pending.data() + c.off, c.pending.size() - c.off);
        if (w < 0) return fail(fd, "tcp echo: send");
        c.off += static_cast<size_t>(w);
        echoed_ += static_cast<uint64_t>(w);
        if (c.off < c.pending.size()) return;  // EPOLLOUT resumes
        c.pending.clear();
        c.off = 0;
      }
      ssize_t r = recv(fd, buf_.data(), buf_.size(), 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (would_block(errno)) return;
        return fail(fd, "tcp echo: recv");
      }
      if (r == 0) return close_conn(fd);  // the client is done and has all its echo
      ssize_t w = send_some(fd, buf_.data(), static_cast<size_t>(r));
      if (w < 0) return fail(fd, "tcp echo: send");
      echoed_ += static_cast<uint64_t>(w);
      if (w < r) {
        c.pending.assign(buf_.data() + w, buf_.data() + r);
        c.off = 0;
        return;
      }
      // A short read emptied the socket: the next arrival is a new edge (as nginx does).
      if (static_cast<size_t>(r) < buf_.size() && !greedy) return;
    }
    again_.push_back(fd);  // more to do: after the other sockets had their turn
  }

  // Discard (RFC 863): read and drop.
  void discard(int fd, uint32_t ev) {
    const bool greedy = (ev & kGreedy) != 0;
    for (int budget = kPumpBudget; budget > 0; --budget) {
      ssize_t r = recv(fd, buf_.data(), buf_.size(), 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (would_block(errno)) return;
        return fail(fd, "tcp discard: recv");
      }
      if (r == 0) return close_conn(fd);
      discarded_ += static_cast<uint64_t>(r);
      if (static_cast<size_t>(r) < buf_.size() && !greedy) return;
    }
    again_.push_back(fd);
  }

  // UDP echo: up to kUdpBatch datagrams in per recvmmsg(), back to their senders in one sendmmsg().
  void udp_echo() {
    mmsghdr msgs[kUdpBatch];
    iovec iov[kUdpBatch];
    sockaddr_in from[kUdpBatch];
    for (int round = 0; round < kPumpBudget; ++round) {
      for (unsigned i = 0; i < kUdpBatch; ++i) {
        iov[i] = {udp_buf_.data() + i * kUdpSlot, kUdpSlot};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_name = &from[i];
        msgs[i].msg_hdr.msg_namelen = sizeof from[i];
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int n = recvmmsg(udp_fd_, msgs, kUdpBatch, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (!would_block(errno)) {
          ++errors_;
          warn_once("udp echo: recvmmsg", errno);
        }
        return;
      }
      unsigned m = 0;
      for (unsigned i = 0; i < static_cast<unsigned>(n); ++i) {
        // Never answer port 0 or another echo/chargen service: two echo servers would ping-pong.
        uint16_t port = ntohs(from[i].sin_port);
        if (port == 0 || port == 7 || port == 19) continue;
        ++udp_datagrams_;
        iov[i].iov_len = msgs[i].msg_len;
        if (m != i) msgs[m] = msgs[i];
        ++m;
      }
      unsigned done = 0;
      while (done < m) {
        int s = sendmmsg(udp_fd_, msgs + done, m - done, MSG_DONTWAIT);
        if (s < 0) {
          if (errno == EINTR) continue;
          ++errors_;  // this datagram is lost; try the rest
          warn_once("udp echo: sendmmsg", errno);
          ++done;
          continue;
        }
        for (unsigned j = done; j < done + static_cast<unsigned>(s); ++j) echoed_ += msgs[j].msg_len;
        done += static_cast<unsigned>(s);
      }
      if (static_cast<unsigned>(n) < kUdpBatch) return;  // level-triggered: the rest is reported again
    }
  }

  static constexpr unsigned kUdpBatch = 32;
  static constexpr size_t kUdpSlot = 65536;

  ServerOptions o_;
  Poller poll_;
  int tcp_fd_ = -1, discard_fd_ = -1, udp_fd_ = -1;
  std::vector<uint8_t> buf_;
  std::vector<uint8_t> udp_buf_;
  std::vector<std::unique_ptr<Conn>> conns_;  // by fd
  std::vector<int> again_;                    // sockets that ran out of budget with work left
  uint64_t accepted_ = 0, echoed_ = 0, udp_datagrams_ = 0, discarded_ = 0, errors_ = 0;
};

// ---------------------------------------------------------------- client

enum class Mode { tcp, udp, short_conn, bulk };

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::tcp:
      return "tcp";
    case Mode::udp:
      return "udp";
    case Mode::short_conn:
      return "short";
    case Mode::bulk:
      return "bulk";
  }
  return "?";
}

struct ClientOptions {
  sockaddr_in server{};
  std::string server_text;
  uint32_t connections = 1;
  uint32_t message_size = 64;
  double duration_s = 0;
  Mode mode = Mode::tcp;
  bool busy = false;
  bool nodelay = true;
};

class Client {
 public:
  explicit Client(const ClientOptions& o)
      : o_(o), B_(o.message_size), slots_(o.connections), rbuf_(kRecvBuf) {
    // The byte at offset off of message (conn, txn) is uint8(conn*131 + txn*17 + off*7 + (off>>8)),
    // as tern-echo: the offset part is a table, the rest one byte added per message.
    offpat_.resize(B_);
    for (uint32_t off = 0; off < B_; ++off) offpat_[off] = static_cast<uint8_t>(off * 7u + (off >> 8));
    if (o_.mode == Mode::bulk) {
      chunk_.resize(B_);
      fill(chunk_.data(), 0, 0, 0, B_);
    } else {
      win_.resize(std::min<size_t>(B_, kWindow));
    }
  }

  int run() {
    poll_.busy = o_.busy;
    poll_.fd = epoll_create1(EPOLL_CLOEXEC);
    if (poll_.fd < 0) {
      std::fprintf(stderr, "%s: epoll_create1: %s\n", kProg, std::strerror(errno));
      return 4;
    }
    lat_.reserve(1 << 20);
    const char* what = o_.mode == Mode::udp          ? "UDP socket(s)"
                       : o_.mode == Mode::short_conn ? "short-connection slot(s)"
                       : o_.mode == Mode::bulk       ? "bulk TCP connection(s)"
                                                     : "TCP connection(s)";
    std::fprintf(stderr, "%s: client: %u %s to %s, %u-byte messages for %g s%s\n", kProg, o_.connections,
                 what, o_.server_text.c_str(), B_, o_.duration_s, o_.busy ? ", busy polling" : "");

    const uint64_t start = now_ns();
    deadline_ = start + static_cast<uint64_t>(o_.duration_s * 1e9);
    live_ = o_.connections;
    for (uint32_t i = 0; i < o_.connections; ++i) open_slot(i, start);

    uint64_t now = start, last_scan = start;
    for (;;) {
      now = now_ns();
      if (g_stop || now >= deadline_ || gave_up_ || (o_.mode != Mode::short_conn && live_ == 0)) break;
      if (now - last_scan >= 10'000'000) {
        last_scan = now;
        scan_timeouts(now);
      }
      if (!idle_.empty()) restart_idle(now);
      uint64_t wait = deadline_ - now;
      if (!again_.empty()) wait = 0;
      if (!idle_.empty()) wait = std::min<uint64_t>(wait, 1'000'000);
      int n = poll_.wait(wait);
      for (int e = 0; e < n; ++e) {
        uint64_t d = poll_.ev[e].data.u64;
        uint32_t i = static_cast<uint32_t>(d);
        if (slots_[i].gen != static_cast<uint32_t>(d >> 32)) continue;  // a socket closed since
        on_event(i, poll_.ev[e].events);
      }
      if (!again_.empty()) {
        std::vector<std::pair<uint32_t, uint32_t>> todo;
        todo.swap(again_);
        for (auto [i, gen] : todo) {
          if (slots_[i].gen == gen && slots_[i].st == St::up) bulk_send(i);
        }
      }
    }
    if (live_ == 0 && o_.mode != Mode::short_conn && now < deadline_ && !g_stop) {
      std::fprintf(stderr, "%s: no %s left, stopping early\n", kProg,
                   o_.mode == Mode::udp ? "socket" : "connection");
    }
    end_ns_ = std::min(now, deadline_);
    drain();
    close(poll_.fd);

    std::printf("%s\n", json().c_str());
    std::fflush(stdout);
    bool moved = o_.mode == Mode::bulk ? bytes_sent_ > 0 : txns_ > 0;
    bool ok = moved && errors_ == 0 && verify_errors_ == 0 && !gave_up_ &&
              (o_.mode == Mode::short_conn || connect_failures_ == 0);
    return ok ? 0 : 4;
  }

 private:
  enum class St : uint8_t { idle, connecting, up, draining, dead };
  struct Slot {
    int fd = -1;
    uint32_t gen = 0;  // bumped at every close: stale epoll events are recognised
    St st = St::idle;
    uint64_t txn = 0;
    uint32_t sent = 0, got = 0;  // bytes of the message taken by send() / echoed back
    uint64_t t0 = 0;             // transaction start; UDP: 0 = nothing outstanding
    uint64_t conn_t0 = 0;        // connect() start, for the connect timeout
    uint64_t retry_at = 0;       // --short: reconnect not before
  };

  void fill(uint8_t* dst, uint32_t conn, uint64_t txn, size_t from, size_t to) const {
    const uint8_t base = static_cast<uint8_t>(conn * 131u + txn * 17u);
    for (size_t off = from; off < to; ++off) dst[off - from] = static_cast<uint8_t>(base + offpat_[off]);
  }

  bool verify(const uint8_t* p, size_t n, uint32_t conn, uint64_t txn, size_t off) const {
    const uint8_t base = static_cast<uint8_t>(conn * 131u + txn * 17u);
    uint8_t diff = 0;
    for (size_t j = 0; j < n; ++j)
      diff |= static_cast<uint8_t>(p[j] ^ static_cast<uint8_t>(base + offpat_[off + j]));
    return diff == 0;
  }

  // The message bytes from @p off on (at most kWindow of them), generated once per window.
  const uint8_t* window(uint32_t conn, uint64_t txn, size_t off, size_t& len) {
    size_t ws = off / kWindow * kWindow;
    size_t we = std::min<size_t>(B_, ws + kWindow);
    if (!(win_valid_ && win_conn_ == conn && win_txn_ == txn && win_start_ == ws)) {
      fill(win_.data(), conn, txn, ws, we);
      win_valid_ = true;
      win_conn_ = conn;
      win_txn_ = txn;
      win_start_ = ws;
    }
    len = we - off;
    return win_.data() + (off - ws);
  }

  uint64_t key(uint32_t i) const { return (uint64_t{slots_[i].gen} << 32) | i; }

  void close_slot(uint32_t i) {
    Slot& k = slots_[i];
    if (k.fd >= 0) close(k.fd);
    k.fd = -1;
    ++k.gen;
  }

  // The slot's socket is gone: --short opens the next connection (after @p delay_ns), others stop.
  void retire(uint32_t i, uint64_t delay_ns) {
    close_slot(i);
    Slot& k = slots_[i];
    if (o_.mode == Mode::short_conn) {
      k.st = St::idle;
      k.retry_at = delay_ns == 0 ? 0 : now_ns() + delay_ns;
      idle_.push_back(i);
    } else {
      k.st = St::dead;
      --live_;
    }
  }

  void fail(uint32_t i, const char* what, int err) {
    ++errors_;
    warn_once(std::string(what) + " (" + o_.server_text + ")", err);
    retire(i, 0);
  }

  void connect_failed(uint32_t i, int err) {
    ++connect_failures_;
    warn_once("connect to " + o_.server_text, err);
    if (++consecutive_failures_ > kMaxConsecutiveConnectFailures && !gave_up_) {
      gave_up_ = true;
      std::fprintf(stderr, "%s: giving up: %llu connect failures in a row without a success\n", kProg,
                   static_cast<unsigned long long>(consecutive_failures_));
    }
    retire(i, 1'000'000);  // --short: a dead server is not hammered in a tight loop
  }

  void restart_idle(uint64_t now) {
    std::vector<uint32_t> todo;
    todo.swap(idle_);
    for (uint32_t i : todo) {
      if (slots_[i].retry_at > now) {
        idle_.push_back(i);
      } else if (!gave_up_) {
        open_slot(i, now);
      }
    }
  }

  void open_slot(uint32_t i, uint64_t now) {
    Slot& k = slots_[i];
    const bool udp = o_.mode == Mode::udp;
    k.conn_t0 = now;
    k.t0 = udp ? 0 : now;  // --short: the transaction is the whole connection
    k.sent = k.got = 0;
    int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return connect_failed(i, errno);
    k.fd = fd;
    ++k.gen;
    if (o_.busy) set_busy_poll(fd);
    if (!udp && o_.nodelay) set_nodelay(fd);
    int r = connect(fd, reinterpret_cast<const sockaddr*>(&o_.server), sizeof o_.server);
    if (r != 0 && errno != EINPROGRESS && errno != EINTR) return connect_failed(i, errno);
    // UDP: level-triggered, one datagram per event; TCP: edge-triggered, read/written to EAGAIN.
    uint32_t events = udp ? EPOLLIN : EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    if (!poll_.add(fd, events, key(i))) return fail(i, "epoll_ctl", errno);
    if (r == 0) {
      on_connected(i, now);
    } else {
      k.st = St::connecting;
    }
  }

  void on_connected(uint32_t i, uint64_t now) {
    Slot& k = slots_[i];
    k.st = St::up;
    consecutive_failures_ = 0;
    if (o_.mode == Mode::udp) return udp_send(i, now);
    if (first_up_ == 0) first_up_ = now;
    if (o_.mode == Mode::bulk) return bulk_send(i);
    if (o_.mode == Mode::tcp) k.t0 = now;
    send_message(i);
  }

  void on_event(uint32_t i, uint32_t ev) {
    Slot& k = slots_[i];
    if (k.st == St::connecting) {
      int err = 0;
      socklen_t len = sizeof err;
      if (getsockopt(k.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err == 0 && (ev & (EPOLLERR | EPOLLHUP))) err = ECONNRESET;
      if (err != 0) return connect_failed(i, err);
      if (!(ev & EPOLLOUT)) return;
      const uint32_t gen = k.gen;
      on_connected(i, now_ns());
      if (k.gen != gen || k.st != St::up) return;
    }
    if (k.st != St::up) return;
    switch (o_.mode) {
      case Mode::udp:
        return udp_read(i);
      case Mode::bulk:
        if (ev & EPOLLOUT) bulk_send(i);
        if (k.st == St::up && (ev & (EPOLLIN | kGreedy))) bulk_read(i);
        return;
      case Mode::tcp:
      case Mode::short_conn: {
        const uint32_t gen = k.gen;
        if ((ev & EPOLLOUT) && k.sent < B_) send_message(i);
        if (k.gen == gen && k.st == St::up && (ev & (EPOLLIN | kGreedy))) read_echo(i, ev);
        return;
      }
    }
  }

  void send_message(uint32_t i) {
    Slot& k = slots_[i];
    while (k.sent < B_) {
      size_t len = 0;
      const uint8_t* p = window(i, k.txn, k.sent, len);
      ssize_t w = send_some(k.fd, p, len);
      if (w < 0) return fail(i, "send", errno);
      k.sent += static_cast<uint32_t>(w);
      bytes_sent_ += static_cast<uint64_t>(w);
      if (static_cast<size_t>(w) < len) return;  // EPOLLOUT resumes
    }
  }

  void read_echo(uint32_t i, uint32_t ev) {
    Slot& k = slots_[i];
    for (;;) {
      size_t want = std::min<size_t>(rbuf_.size(), B_ - k.got);
      ssize_t r = recv(k.fd, rbuf_.data(), want, 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (would_block(errno)) return;
        return fail(i, "recv", errno);
      }
      if (r == 0) return fail(i, "the server closed the connection", ECONNRESET);
      const size_t n = static_cast<size_t>(r);
      if (k.got + n > k.sent || !verify(rbuf_.data(), n, i, k.txn, k.got)) {
        ++verify_errors_;
        std::fprintf(stderr, "%s: connection %u: echo of transaction %llu differs from what was sent\n",
                     kProg, i, static_cast<unsigned long long>(k.txn));
        return retire(i, 0);
      }
      k.got += static_cast<uint32_t>(n);
      bytes_verified_ += n;
      if (k.got == B_) {
        const uint64_t t = now_ns();
        lat_.push_back(static_cast<uint32_t>(std::min<uint64_t>(t - k.t0, UINT32_MAX)));
        ++txns_;
        ++k.txn;
        if (o_.mode == Mode::short_conn) {
          // Reset (SO_LINGER 0), as tern-echo --short does: the client's ports never sit in
          // TIME_WAIT, so the rate is not capped by the ephemeral range.
          const linger lg{1, 0};
          (void)setsockopt(k.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
          return retire(i, 0);  // close(), and the next connection
        }
        k.sent = k.got = 0;
        k.t0 = t;
        send_message(i);
        // The socket is empty: the next echo is a new edge, unless the peer closed or failed.
        if (!(ev & kGreedy) || k.st != St::up) return;
      } else if (n < want && !(ev & kGreedy)) {
        return;  // short read: nothing more queued, the rest of the echo is a new edge
      }
    }
  }

  void bulk_send(uint32_t i) {
    Slot& k = slots_[i];
    for (int budget = kPumpBudget; budget > 0; --budget) {
      ssize_t w = send(k.fd, chunk_.data() + k.sent, B_ - k.sent, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (would_block(errno)) return;  // EPOLLOUT resumes
        return fail(i, "send", errno);
      }
      bytes_sent_ += static_cast<uint64_t>(w);
      k.sent += static_cast<uint32_t>(w);
      if (k.sent == B_) {
        k.sent = 0;
        ++txns_;
      }
    }
    again_.emplace_back(i, k.gen);  // still writable: continue after the other sockets
  }

  // A discard server sends nothing; anything is read and dropped, its end of the connection is an error.
  void bulk_read(uint32_t i) {
    Slot& k = slots_[i];
    for (;;) {
      ssize_t r = recv(k.fd, rbuf_.data(), rbuf_.size(), 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (would_block(errno)) return;
        return fail(i, "recv", errno);
      }
      if (r == 0) return fail(i, "the server closed the connection", ECONNRESET);
    }
  }

  void udp_send(uint32_t i, uint64_t now) {
    Slot& k = slots_[i];
    k.t0 = now;
    if (first_up_ == 0) first_up_ = now;
    size_t len = 0;
    const uint8_t* p = window(i, k.txn, 0, len);
    ssize_t w;
    do {
      w = send(k.fd, p, len, 0);
    } while (w < 0 && errno == EINTR);
    // Not sent: the 1 s timeout counts it as lost and sends the next one.
    if (w < 0) {
      warn_once("udp send to " + o_.server_text, errno);
    } else {
      bytes_sent_ += static_cast<uint64_t>(w);
    }
  }

  void udp_read(uint32_t i) {
    Slot& k = slots_[i];
    ssize_t r;
    do {
      r = recv(k.fd, rbuf_.data(), rbuf_.size(), MSG_TRUNC);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
      // ECONNREFUSED: ICMP port unreachable came back; the datagram times out as lost.
      if (!would_block(errno)) warn_once("udp echo from " + o_.server_text, errno);
      return;
    }
    const size_t n = static_cast<size_t>(r);
    if (k.t0 == 0 || n != B_ || !verify(rbuf_.data(), n, i, k.txn, 0)) {
      ++verify_errors_;  // a late echo of a timed-out datagram, or a corrupt one
      return;
    }
    const uint64_t t = now_ns();
    lat_.push_back(static_cast<uint32_t>(std::min<uint64_t>(t - k.t0, UINT32_MAX)));
    ++txns_;
    ++k.txn;
    bytes_verified_ += n;
    udp_send(i, t);
  }

  void scan_timeouts(uint64_t now) {
    for (uint32_t i = 0; i < o_.connections; ++i) {
      Slot& k = slots_[i];
      if (k.st == St::connecting && now - k.conn_t0 > kConnectTimeoutNs) {
        connect_failed(i, ETIMEDOUT);
      } else if (o_.mode == Mode::udp && k.st == St::up && k.t0 != 0 && now - k.t0 > kUdpTimeoutNs) {
        ++errors_;  // lost, or its echo was: resent as the next transaction
        ++k.txn;
        udp_send(i, now);
      }
    }
  }

  // The end: pending connects are dropped, TCP connections half-closed (FIN) and read until the
  // server's FIN (at most kDrainNs), UDP sockets closed.
  void drain() {
    uint32_t draining = 0;
    for (uint32_t i = 0; i < o_.connections; ++i) {
      Slot& k = slots_[i];
      if (k.st == St::connecting || (k.st == St::up && o_.mode == Mode::udp)) {
        close_slot(i);
        k.st = St::dead;
      } else if (k.st == St::up) {
        if (shutdown(k.fd, SHUT_WR) == 0) {
          k.st = St::draining;
          ++draining;
        } else {
          close_slot(i);
          k.st = St::dead;
        }
      } else {
        k.st = St::dead;
      }
    }
    const uint64_t until = now_ns() + kDrainNs;
    for (uint64_t now = now_ns(); draining > 0 && now < until && !g_stop; now = now_ns()) {
      int n = poll_.wait(until - now);
      for (int e = 0; e < n; ++e) {
        uint64_t d = poll_.ev[e].data.u64;
        uint32_t i = static_cast<uint32_t>(d);
        Slot& k = slots_[i];
        if (k.gen != static_cast<uint32_t>(d >> 32) || k.st != St::draining) continue;
        for (;;) {
          ssize_t r = recv(k.fd, rbuf_.data(), rbuf_.size(), 0);
          if (r < 0 && errno == EINTR) continue;
          if (r < 0 && would_block(errno)) break;
          if (r > 0) continue;  // the rest of an echo: dropped
          close_slot(i);        // the server's FIN (or a reset: the run is over, not counted)
          k.st = St::dead;
          --draining;
          break;
        }
      }
    }
    if (draining > 0) {
      std::fprintf(stderr, "%s: %u connection(s) not closed by the server within %.0f s\n", kProg, draining,
                   static_cast<double>(kDrainNs) / 1e9);
    }
    for (uint32_t i = 0; i < o_.connections; ++i) {
      if (slots_[i].fd >= 0) close_slot(i);
    }
  }

  std::string json() const {
    std::vector<uint32_t> l = lat_;
    std::sort(l.begin(), l.end());
    auto pct = [&](double q) -> double {
      if (l.empty()) return 0;
      size_t i = std::min(l.size() - 1, static_cast<size_t>(q * static_cast<double>(l.size())));
      return l[i] / 1000.0;
    };
    double secs = first_up_ != 0 && end_ns_ > first_up_ ? static_cast<double>(end_ns_ - first_up_) / 1e9 : 0;
    double user = 0, sys = 0;
    cpu_times(user, sys);
    Json lat;
    lat.dbl("p50", pct(0.50)).dbl("p90", pct(0.90)).dbl("p99", pct(0.99)).dbl("p999", pct(0.999));
    lat.dbl("max", l.empty() ? 0.0 : l.back() / 1000.0);
    Json j;
    j.str("mode", mode_name(o_.mode)).str("server", o_.server_text);
    j.num("connections", o_.connections).num("message_size", B_).boolean("busy_poll", o_.busy);
    j.dbl("seconds", secs).num("transactions", txns_);
    j.dbl("tps", secs > 0 ? static_cast<double>(txns_) / secs : 0.0);
    j.raw("latency_us", lat.done());
    j.num("errors", errors_).num("verify_errors", verify_errors_).num("connect_failures", connect_failures_);
    j.num("bytes_verified", bytes_verified_).num("bytes_sent", bytes_sent_);
    j.dbl("gbps", secs > 0 ? static_cast<double>(bytes_sent_) * 8 / secs / 1e9 : 0.0);
    j.dbl("cpu_user_s", user).dbl("cpu_sys_s", sys);
    return j.done();
  }

  ClientOptions o_;
  const uint32_t B_;
  Poller poll_;
  std::vector<Slot> slots_;
  std::vector<uint8_t> rbuf_;
  std::vector<uint8_t> offpat_;  // uint8(off*7 + (off>>8)) for every message offset
  std::vector<uint8_t> chunk_;   // --bulk: what every send() sends
  std::vector<uint8_t> win_;     // a window of the message being sent
  bool win_valid_ = false;
  uint32_t win_conn_ = 0;
  uint64_t win_txn_ = 0;
  size_t win_start_ = 0;
  std::vector<uint32_t> idle_;                        // --short: slots waiting to reconnect
  std::vector<std::pair<uint32_t, uint32_t>> again_;  // --bulk: (slot, gen) still writable
  std::vector<uint32_t> lat_;                         // ns per transaction
  uint64_t deadline_ = 0, first_up_ = 0, end_ns_ = 0;
  uint32_t live_ = 0;
  uint64_t txns_ = 0, errors_ = 0, verify_errors_ = 0, connect_failures_ = 0;
  uint64_t bytes_verified_ = 0, bytes_sent_ = 0, consecutive_failures_ = 0;
  bool gave_up_ = false;
};

// ---------------------------------------------------------------- main

int server_main(int argc, char** argv) {
  ServerOptions o;
  ArgWalker a(argc, argv);
  while (a.next()) {
    const std::string& opt = a.opt();
    if (opt == "--tcp-port") {
      o.tcp_port = static_cast<uint16_t>(a.number(0, 65535));
    } else if (opt == "--udp-port") {
      o.udp_port = static_cast<uint16_t>(a.number(0, 65535));
    } else if (opt == "--discard-port") {
      o.discard_port = static_cast<uint16_t>(a.number(0, 65535));
    } else if (opt == "--busy-poll") {
      a.flag();
      o.busy = true;
    } else if (opt == "--duration") {
      o.duration_s = a.seconds();
    } else if (opt == "--exit-after-bytes") {
      o.exit_after_bytes = a.number(1, UINT64_MAX);
    } else {
      usage_error("server: unknown option '" + opt + "'");
    }
  }
  if (o.tcp_port == 0 && o.udp_port == 0 && o.discard_port == 0) {
    usage_error("server: every service is disabled (--tcp-port, --udp-port and --discard-port are 0)");
  }
  raise_fd_limit();
  install_signals();
  return Server(o).run();
}

int client_main(int argc, char** argv) {
  ClientOptions o;
  ArgWalker a(argc, argv);
  std::string connect;
  bool size_given = false;
  int modes = 0;
  while (a.next()) {
    const std::string& opt = a.opt();
    if (opt == "--connect") {
      connect = a.value();
    } else if (opt == "--duration") {
      o.duration_s = a.seconds();
    } else if (opt == "--connections") {
      o.connections = static_cast<uint32_t>(a.number(1, 1'000'000));
    } else if (opt == "--message-size") {
      o.message_size = static_cast<uint32_t>(a.number(1, kMaxMessage));
      size_given = true;
    } else if (opt == "--udp" || opt == "--short" || opt == "--bulk") {
      a.flag();
      ++modes;
      o.mode = opt == "--udp" ? Mode::udp : opt == "--short" ? Mode::short_conn : Mode::bulk;
    } else if (opt == "--busy-poll") {
      a.flag();
      o.busy = true;
    } else if (opt == "--nodelay" || opt == "--no-nodelay") {
      a.flag();
      o.nodelay = opt == "--nodelay";
    } else {
      usage_error("client: unknown option '" + opt + "'");
    }
  }
  if (connect.empty()) usage_error("client: --connect IP:PORT is required, e.g. --connect 127.0.0.1:7");
  auto colon = connect.rfind(':');
  uint64_t port = 0;
  std::string host = colon == std::string::npos ? "" : connect.substr(0, colon);
  o.server.sin_family = AF_INET;
  if (colon == std::string::npos || inet_pton(AF_INET, host.c_str(), &o.server.sin_addr) != 1 ||
      !parse_u64(connect.substr(colon + 1), port) || port == 0 || port > 65535) {
    usage_error("client: --connect '" + connect + "': expected IPv4:PORT, e.g. 127.0.0.1:7");
  }
  o.server.sin_port = htons(static_cast<uint16_t>(port));
  o.server_text = host + ":" + std::to_string(port);
  if (o.duration_s <= 0) usage_error("client: --duration SECONDS is required (how long to run the load)");
  if (modes > 1) usage_error("client: --udp, --short and --bulk exclude each other");
  if (o.mode == Mode::bulk && !size_given) o.message_size = 65536;
  if (o.mode == Mode::udp && o.message_size > kMaxUdpMessage) {
    usage_error("client: --udp --message-size " + std::to_string(o.message_size) +
                ": a datagram holds at most " + std::to_string(kMaxUdpMessage) + " bytes");
  }
  uint64_t limit = raise_fd_limit();
  if (uint64_t{o.connections} + 16 > limit) {
    usage_error("client: --connections " + std::to_string(o.connections) +
                " needs more open files than the " + std::to_string(limit) + " allowed (ulimit -n)");
  }
  install_signals();
  return Client(o).run();
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "--help" || mode == "-h" || mode == "help") {
    std::printf("%s\n%s", kUsage, kExamples);
    return 0;
  }
  for (int i = 2; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--help" || s == "-h") {
      std::printf("%s\n%s", kUsage, kExamples);
      return 0;
    }
  }
  if (mode == "server") return server_main(argc, argv);
  if (mode == "client") return client_main(argc, argv);
  usage_error(mode.empty() ? "expected 'server' or 'client' first" : "unknown mode '" + mode + "'");
}
