// libtern-posix against the kernel: each call's errno cases run on a kernel socket (loopback) and
// on a tern socket side by side, and must agree; then tern's data paths (echo over TCP and UDP,
// poll/select/epoll with edge and level triggers, SO_RCVTIMEO, MSG_TRUNC, FIONREAD, SO_ERROR after a
// refused non-blocking connect).
//
// tern's side: the posix runtime starts a Stack whose one port is end a of a PairWire
// (198.18.0.2); a peer Core on end b (198.18.0.1), polled from core 0's loop, runs a TCP echo on
// port 7, resets connections to other ports and echoes UDP on port 7. This file has its own main():
// the runtime starts EAL once for the whole process.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "core_pair.hpp"
#include "tern/api/net.hpp"
#include "tern/base/clock.hpp"
#include "tern/drivers/pair_wire.hpp"
#include "tern/drivers/port_ref.hpp"
#include "tern/posix/runtime.hpp"
#include "tern/posix/socket.h"
#include "tern/stack/core.hpp"

namespace tern::posixtest {
namespace {

const wire::MacAddr kMacA{{0x02, 0, 0, 0, 0, 0x0a}};
const wire::MacAddr kMacB{{0x02, 0, 0, 0, 0, 0x0b}};
const wire::Ipv4Addr kIpTern = wire::Ipv4Addr::from_octets(198, 18, 0, 2);
const wire::Ipv4Addr kIpPeer = wire::Ipv4Addr::from_octets(198, 18, 0, 1);

PortCaps caps(const wire::MacAddr& mac) {
  PortCaps c;
  c.mac = mac.b;
  c.mtu = 1500;
  return c;
}

// The peer host: a Core on end b of the wire, echoing TCP and UDP on port 7.
struct Peer {
  drivers::PairWire wire{caps(kMacA), caps(kMacB), 8192};
  rte_mempool* pool = nullptr;
  std::unique_ptr<Core> core;
  std::unique_ptr<Net> net;
  TcpListener echo;
  UdpSocket udp;
  std::vector<TcpConnection> conns;

  void start() {
    pool = rte_pktmbuf_pool_create("posix_peer", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    ASSERT_NE(pool, nullptr);
    CoreParams p;
    p.pool = pool;
    CoreInterface ci;
    ci.port = &wire.b();
    ci.params.name = "peer";
    ci.params.address = wire::Ipv4Prefix{kIpPeer, 24};
    p.interfaces.push_back(ci);
    core = std::make_unique<Core>(p);
    core->start(monotonic_ns());
    core->interface(0).neighbours().learn(kIpTern, kMacA, true, monotonic_ns());
    net = std::make_unique<Net>(*core);
    echo = *net->listen(7);
    udp = *net->udp_bind(7);
  }
  // One turn of the peer: accept, echo what arrived, echo datagrams.
  void poll(uint64_t now) {
    core->poll(now);
    while (auto c = echo.accept()) conns.push_back(*c);
    std::array<uint8_t, 65536> buf;
    for (auto& c : conns) {
      for (;;) {
        if (c.send_space() < 1) break;
        auto n = c.recv(std::span<uint8_t>(buf.data(), std::min<size_t>(buf.size(), c.send_space())));
        if (!n || *n == 0) break;
        (void)c.send(std::span<const uint8_t>(buf.data(), *n));
      }
      if (c.valid() && c.peer_closed() && c.readable() == 0) (void)c.close();
    }
    std::erase_if(conns, [](const TcpConnection& c) { return !c.valid(); });
    Endpoint from;
    for (;;) {
      auto n = udp.recv(std::span<uint8_t>(buf), &from);
      if (!n) break;
      (void)udp.send(std::span<const uint8_t>(buf.data(), std::min<size_t>(*n, buf.size())), from);
    }
  }
};

Peer* g_peer = nullptr;

class Env : public ::testing::Environment {
 public:
  void SetUp() override {
    g_peer = new Peer;
    posix::set_port_factory([](const config::PortConfig&, const PortSetup&, std::string&) {
      return drivers::ref(g_peer->wire.a());
    });
    config::StackConfig cfg;
    config::PortConfig port;
    port.name = "p0";
    port.devargs = "pair";
    port.address = wire::Ipv4Prefix{kIpTern, 24};
    cfg.ports.push_back(port);
    cfg.cores.idle = "adaptive";
    ASSERT_EQ(posix::init(cfg), 0) << std::strerror(errno);
    g_peer->start();
    Core& c0 = posix::stack()->core(0);
    c0.interface(0).neighbours().learn(kIpPeer, kMacB, true, monotonic_ns());
    c0.set_on_poll([](Core&, uint64_t now) { g_peer->poll(now); });
  }
};

sockaddr_in sin_of(wire::Ipv4Addr a, uint16_t port) {
  sockaddr_in s{};
  s.sin_family = AF_INET;
  s.sin_port = htons(port);
  s.sin_addr.s_addr = htonl(a.v);
  return s;
}
const wire::Ipv4Addr kLoop = wire::Ipv4Addr::from_octets(127, 0, 0, 1);

// A kernel TCP listener on loopback (the kernel completes handshakes without accept()).
struct KernelListener {
  int fd = -1;
  uint16_t port = 0;
  KernelListener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = sin_of(kLoop, 0);
    (void)::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    (void)::listen(fd, 16);
    socklen_t l = sizeof(a);
    (void)::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l);
    port = ntohs(a.sin_port);
  }
  ~KernelListener() { ::close(fd); }
};

// A loopback port nobody listens on.
uint16_t closed_kernel_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = sin_of(kLoop, 0);
  (void)::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t l = sizeof(a);
  (void)::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l);
  ::close(fd);
  return ntohs(a.sin_port);
}

struct Outcome {
  long rc;
  int err;
};
std::ostream& operator<<(std::ostream& o, const Outcome& r) {
  return o << "rc " << r.rc << " errno " << (r.rc < 0 ? std::strerror(r.err) : "-");
}

// Run @p f on a fresh kernel socket and a fresh tern socket (type @p type); both must agree on the
// return value's sign and errno. @p f gets the fd, whether it is tern's, and the peer address to use.
void same(int type, const std::function<long(int fd, bool tern, sockaddr_in peer)>& f, const char* what,
          bool compare_rc = true) {
  KernelListener kl;
  const int k = ::socket(AF_INET, type, 0);
  ASSERT_GE(k, 0);
  errno = 0;
  const long krc = f(k, false, sin_of(kLoop, kl.port));
  const Outcome kern{krc, errno};
  ::close(k);
  const int t = tern_socket(AF_INET, type, 0);
  ASSERT_GE(t, 0);
  ASSERT_TRUE(tern_is_socket(t));
  errno = 0;
  const long trc = f(t, true, sin_of(kIpPeer, 7));
  const Outcome tern{trc, errno};
  tern_close(t);
  SCOPED_TRACE(what);
  EXPECT_EQ(kern.rc < 0, tern.rc < 0) << "kernel: " << kern << "; tern: " << tern;
  if (kern.rc < 0 && tern.rc < 0) {
    EXPECT_EQ(kern.err, tern.err) << "kernel: " << std::strerror(kern.err)
                                  << "; tern: " << std::strerror(tern.err);
  }
  if (compare_rc && kern.rc >= 0) {
    EXPECT_EQ(kern.rc, tern.rc);
  }
}

// The calls below are tern_X for both kinds: tern_X passes kernel descriptors to the kernel's X.
long do_bind(int fd, wire::Ipv4Addr a, uint16_t port) {
  sockaddr_in s = sin_of(a, port);
  return tern_bind(fd, reinterpret_cast<sockaddr*>(&s), sizeof(s));
}
long do_connect(int fd, sockaddr_in peer) {
  return tern_connect(fd, reinterpret_cast<sockaddr*>(&peer), sizeof(peer));
}
void set_nonblock(int fd) { tern_fcntl(fd, F_SETFL, tern_fcntl(fd, F_GETFL, 0) | O_NONBLOCK); }

TEST(PosixErrno, BindTwiceIsEinval) {
  same(
      SOCK_STREAM,
      [](int fd, bool tern, sockaddr_in) {
        if (do_bind(fd, tern ? kIpTern : kLoop, 0) != 0) return -2L;
        return do_bind(fd, tern ? kIpTern : kLoop, 0);
      },
      "bind twice");
}

TEST(PosixErrno, BindToAnAddressNotOursIsEaddrnotavail) {
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in) {
        return do_bind(fd, wire::Ipv4Addr::from_octets(198, 19, 255, 77), 5555);
      },
      "bind foreign address");
}

TEST(PosixErrno, BindWithAShortAddressIsEinvalAndAnotherFamilyEafnosupport) {
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in) {
        sockaddr_in s = sin_of(wire::Ipv4Addr{}, 0);
        return static_cast<long>(tern_bind(fd, reinterpret_cast<sockaddr*>(&s), 4));
      },
      "short sockaddr");
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in) {
        sockaddr_in6 s6{};
        s6.sin6_family = AF_INET6;
        return static_cast<long>(tern_bind(fd, reinterpret_cast<sockaddr*>(&s6), sizeof(s6)));
      },
      "AF_INET6 address on an AF_INET socket");
}

TEST(PosixErrno, ListenOnUdpIsEopnotsupp) {
  same(
      SOCK_DGRAM, [](int fd, bool, sockaddr_in) { return static_cast<long>(tern_listen(fd, 5)); },
      "listen UDP");
}

TEST(PosixErrno, AcceptWithoutListenIsEinvalAndOnAnEmptyQueueEagain) {
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in) { return static_cast<long>(tern_accept(fd, nullptr, nullptr)); },
      "accept unlistened");
  same(
      SOCK_STREAM,
      [](int fd, bool tern, sockaddr_in) {
        if (do_bind(fd, tern ? kIpTern : kLoop, 0) != 0 || tern_listen(fd, 4) != 0) return -2L;
        set_nonblock(fd);
        return static_cast<long>(tern_accept4(fd, nullptr, nullptr, SOCK_NONBLOCK));
      },
      "accept empty non-blocking");
}

TEST(PosixErrno, ConnectToAClosedPortIsEconnrefused) {
  const uint16_t closed = closed_kernel_port();
  same(
      SOCK_STREAM,
      [closed](int fd, bool tern, sockaddr_in) {
        sockaddr_in to = tern ? sin_of(kIpPeer, 9) : sin_of(kLoop, closed);
        return do_connect(fd, to);
      },
      "connect refused");
}

TEST(PosixErrno, NonBlockingConnectIsEinprogressThenWritableThenEisconn) {
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in peer) {
        set_nonblock(fd);
        long rc = do_connect(fd, peer);
        if (rc == 0 || errno != EINPROGRESS) return -2L;
        pollfd p{fd, POLLOUT, 0};
        if (tern_poll(&p, 1, 2000) != 1 || !(p.revents & POLLOUT)) return -3L;
        int soerr = -1;
        socklen_t l = sizeof(soerr);
        if (tern_getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l) != 0 || soerr != 0) return -4L;
        return do_connect(fd, peer);  // EISCONN
      },
      "non-blocking connect");
}

TEST(PosixErrno, NonBlockingConnectRefusedReportsTheErrorOnceInSoError) {
  const uint16_t closed = closed_kernel_port();
  same(
      SOCK_STREAM,
      [closed](int fd, bool tern, sockaddr_in) {
        set_nonblock(fd);
        sockaddr_in to = tern ? sin_of(kIpPeer, 9) : sin_of(kLoop, closed);
        if (do_connect(fd, to) == 0 || errno != EINPROGRESS) return -2L;
        pollfd p{fd, POLLOUT, 0};
        if (tern_poll(&p, 1, 2000) != 1) return -3L;
        if ((p.revents & (POLLOUT | POLLERR)) != (POLLOUT | POLLERR)) return -4L;
        int e1 = 0, e2 = 0;
        socklen_t l = sizeof(int);
        tern_getsockopt(fd, SOL_SOCKET, SO_ERROR, &e1, &l);
        tern_getsockopt(fd, SOL_SOCKET, SO_ERROR, &e2, &l);
        return e1 == ECONNREFUSED && e2 == 0 ? 0L : -5L;
      },
      "refused non-blocking connect");
}

TEST(PosixErrno, DataCallsOnAnUnconnectedSocketAreEnotconnOrEpipe) {
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in) {
        char b[4];
        return static_cast<long>(tern_recv(fd, b, sizeof(b), 0));
      },
      "recv unconnected");
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in) { return static_cast<long>(tern_send(fd, "x", 1, MSG_NOSIGNAL)); },
      "send unconnected");
  same(
      SOCK_STREAM, [](int fd, bool, sockaddr_in) { return static_cast<long>(tern_shutdown(fd, SHUT_WR)); },
      "shutdown unconnected");
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in) {
        sockaddr_in a{};
        socklen_t l = sizeof(a);
        return static_cast<long>(tern_getpeername(fd, reinterpret_cast<sockaddr*>(&a), &l));
      },
      "getpeername unconnected");
}

TEST(PosixErrno, RecvOnAnEmptyConnectionIsEagainAndSoRcvtimeoExpires) {
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in peer) {
        if (do_connect(fd, peer) != 0) return -2L;
        char b[8];
        if (tern_recv(fd, b, sizeof(b), MSG_DONTWAIT) != -1 || errno != EAGAIN) return -3L;
        timeval tv{0, 100'000};
        tern_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        const auto t0 = std::chrono::steady_clock::now();
        long rc = tern_recv(fd, b, sizeof(b), 0);
        const int e = errno;
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
                .count();
        if (ms < 90) return -4L;  // returned before the timeout (not a timing threshold: a lower bound)
        errno = e;
        return rc;
      },
      "SO_RCVTIMEO");
}

TEST(PosixErrno, OptionErrors) {
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in) {
        int v = 0;
        return static_cast<long>(tern_setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)));
      },
      "TCP_KEEPIDLE 0");
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in) {
        timeval tv{0, 2'000'000};
        return static_cast<long>(tern_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
      },
      "SO_RCVTIMEO with tv_usec out of range");
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in) {
        int v = 1;
        return static_cast<long>(tern_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, 2));
      },
      "TCP_NODELAY with a short option");
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in) {
        int v = 1;
        if (tern_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) != 0) return -2L;
        v = 0;
        socklen_t l = sizeof(v);
        if (tern_getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &l) != 0) return -3L;
        return static_cast<long>(v != 0);
      },
      "TCP_NODELAY round trip");
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in) {
        int v = 0;
        socklen_t l = sizeof(v);
        if (tern_getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l) != 0) return -2L;
        return static_cast<long>(v);
      },
      "SO_TYPE");
}

TEST(PosixErrno, FcntlAndIoctlNonBlockingFlags) {
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in) {
        const int before = tern_fcntl(fd, F_GETFL, 0);
        set_nonblock(fd);
        const int after = tern_fcntl(fd, F_GETFL, 0);
        int off = 0;
        tern_ioctl(fd, FIONBIO, &off);
        const int cleared = tern_fcntl(fd, F_GETFL, 0);
        return static_cast<long>(((before & O_NONBLOCK) ? 1 : 0) | ((after & O_NONBLOCK) ? 2 : 0) |
                                 ((cleared & O_NONBLOCK) ? 4 : 0) | ((after & O_ACCMODE) == O_RDWR ? 8 : 0));
      },
      "O_NONBLOCK through fcntl and FIONBIO");
}

TEST(PosixErrno, UdpWithoutADestinationIsEdestaddrreqAndTruncationFollowsRecvfrom) {
  same(
      SOCK_DGRAM, [](int fd, bool, sockaddr_in) { return static_cast<long>(tern_send(fd, "x", 1, 0)); },
      "UDP send without a destination");
  // A datagram to ourselves (kernel) or to the echo (tern); read with a short buffer.
  same(
      SOCK_DGRAM,
      [](int fd, bool tern, sockaddr_in) {
        if (do_bind(fd, tern ? kIpTern : kLoop, 0) != 0) return -2L;
        sockaddr_in me{};
        socklen_t l = sizeof(me);
        tern_getsockname(fd, reinterpret_cast<sockaddr*>(&me), &l);
        sockaddr_in to = tern ? sin_of(kIpPeer, 7) : me;
        std::array<char, 100> msg{};
        msg.fill('u');
        if (tern_sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 100)
          return -3L;
        pollfd p{fd, POLLIN, 0};
        if (tern_poll(&p, 1, 2000) != 1) return -4L;
        int avail = 0;
        tern_ioctl(fd, FIONREAD, &avail);
        char small[10];
        const long n = tern_recvfrom(fd, small, sizeof(small), MSG_TRUNC, nullptr, nullptr);
        return n * 1000 + avail;  // 100 (full length with MSG_TRUNC) and FIONREAD 100
      },
      "MSG_TRUNC and FIONREAD");
}

TEST(PosixErrno, EpollCtlErrors) {
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in peer) {
        if (do_connect(fd, peer) != 0) return -2L;
        const int ep = tern_epoll_create1(0);
        epoll_event e{};
        e.events = EPOLLIN;
        if (tern_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) != 0) return -3L;
        long r = 0;
        if (tern_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) == -1 && errno == EEXIST) r |= 1;
        if (tern_epoll_ctl(ep, EPOLL_CTL_DEL, fd, &e) == 0) r |= 2;
        if (tern_epoll_ctl(ep, EPOLL_CTL_DEL, fd, &e) == -1 && errno == ENOENT) r |= 4;
        if (tern_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e) == -1 && errno == ENOENT) r |= 8;
        int pipefd[2];
        if (pipe(pipefd) == 0) {  // not an epoll descriptor
          if (tern_epoll_ctl(pipefd[0], EPOLL_CTL_ADD, fd, &e) == -1 && errno == EINVAL) r |= 16;
          ::close(pipefd[0]);
          ::close(pipefd[1]);
        }
        tern_close(ep);
        return r;
      },
      "epoll_ctl EEXIST/ENOENT");
}

TEST(PosixErrno, CloseTwiceIsEbadfAndWritingAfterShutdownIsEpipe) {
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in peer) {
        if (do_connect(fd, peer) != 0) return -2L;
        if (tern_shutdown(fd, SHUT_WR) != 0) return -3L;
        return static_cast<long>(tern_send(fd, "x", 1, MSG_NOSIGNAL));
      },
      "send after SHUT_WR");
  const int t = tern_socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(tern_close(t), 0);
  EXPECT_EQ(tern_close(t), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_FALSE(tern_is_socket(t));
}

// Connect to the peer's echo, blocking.
int echo_conn() {
  const int fd = tern_socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in peer = sin_of(kIpPeer, 7);
  EXPECT_EQ(do_connect(fd, peer), 0) << std::strerror(errno);
  return fd;
}

TEST(PosixData, BlockingEchoIsByteExactWithReadvAndWritev) {
  const int fd = echo_conn();
  std::vector<uint8_t> out(300000), back(out.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(i * 7 + 3);
  iovec iov[2] = {{out.data(), 1000}, {out.data() + 1000, out.size() - 1000}};
  size_t sent = 0, got = 0;
  const ssize_t w = tern_writev(fd, iov, 2);
  ASSERT_GT(w, 0);
  sent = static_cast<size_t>(w);
  while (got < out.size()) {
    if (sent < out.size()) {
      const ssize_t k = tern_send(fd, out.data() + sent, out.size() - sent, MSG_DONTWAIT);
      if (k > 0) sent += static_cast<size_t>(k);
    }
    iovec r[2] = {{back.data() + got, 10}, {back.data() + got + 10, back.size() - got - 10}};
    const ssize_t n =
        got + 10 < back.size() ? tern_readv(fd, r, 2) : tern_read(fd, back.data() + got, back.size() - got);
    ASSERT_GT(n, 0) << std::strerror(errno);
    got += static_cast<size_t>(n);
  }
  EXPECT_EQ(back, out);
  ASSERT_EQ(tern_shutdown(fd, SHUT_WR), 0);
  char c;
  EXPECT_EQ(tern_read(fd, &c, 1), 0) << "the echo closes after our FIN";
  EXPECT_EQ(tern_close(fd), 0);
}

TEST(PosixData, EpollEdgeAndLevelTriggersAsTheKernel) {
  const int fd = echo_conn();
  set_nonblock(fd);
  const int ep = tern_epoll_create1(EPOLL_CLOEXEC);
  epoll_event e{};
  e.events = EPOLLIN | EPOLLET;
  e.data.u64 = 77;
  ASSERT_EQ(tern_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e), 0);
  std::array<epoll_event, 4> evs;
  EXPECT_EQ(tern_epoll_wait(ep, evs.data(), 4, 20), 0) << "nothing to read yet";
  ASSERT_EQ(tern_send(fd, "ping", 4, 0), 4);
  ASSERT_EQ(tern_epoll_wait(ep, evs.data(), 4, 2000), 1);
  EXPECT_EQ(evs[0].data.u64, 77u);
  EXPECT_TRUE(evs[0].events & EPOLLIN);
  EXPECT_EQ(tern_epoll_wait(ep, evs.data(), 4, 20), 0) << "edge: reported once";
  e.events = EPOLLIN;  // level
  ASSERT_EQ(tern_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e), 0);
  EXPECT_EQ(tern_epoll_wait(ep, evs.data(), 4, 20), 1) << "level: unread data is reported";
  EXPECT_EQ(tern_epoll_wait(ep, evs.data(), 4, 20), 1) << "level: again";
  char buf[16];
  EXPECT_EQ(tern_read(fd, buf, sizeof(buf)), 4);
  EXPECT_EQ(tern_epoll_wait(ep, evs.data(), 4, 20), 0) << "level: drained";
  // A kernel descriptor in the same set: a pipe.
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  epoll_event pe{};
  pe.events = EPOLLIN;
  pe.data.u64 = 99;
  ASSERT_EQ(tern_epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &pe), 0);
  ASSERT_EQ(::write(p[1], "k", 1), 1);
  ASSERT_EQ(tern_epoll_wait(ep, evs.data(), 4, 2000), 1);
  EXPECT_EQ(evs[0].data.u64, 99u) << "the kernel's event in the same epoll set";
  ::close(p[0]);
  ::close(p[1]);
  tern_close(ep);
  tern_close(fd);
}

TEST(PosixData, SelectAndPollMixTernAndKernelDescriptors) {
  const int fd = echo_conn();
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  ASSERT_EQ(tern_send(fd, "abc", 3, 0), 3);
  fd_set r;
  FD_ZERO(&r);
  FD_SET(fd, &r);
  FD_SET(p[0], &r);
  timeval tv{2, 0};
  ASSERT_EQ(tern_select(std::max(fd, p[0]) + 1, &r, nullptr, nullptr, &tv), 1);
  EXPECT_TRUE(FD_ISSET(fd, &r));
  EXPECT_FALSE(FD_ISSET(p[0], &r));
  char buf[8];
  EXPECT_EQ(tern_recv(fd, buf, sizeof(buf), 0), 3);
  ASSERT_EQ(::write(p[1], "z", 1), 1);
  pollfd pf[2] = {{fd, POLLIN, 0}, {p[0], POLLIN, 0}};
  ASSERT_EQ(tern_poll(pf, 2, 2000), 1);
  EXPECT_EQ(pf[0].revents, 0);
  EXPECT_TRUE(pf[1].revents & POLLIN);
  ::close(p[0]);
  ::close(p[1]);
  tern_close(fd);
}

TEST(PosixData, ASecondThreadIsRefusedWithEopnotsupp) {
  const int fd = echo_conn();
  int err = 0;
  long rc = 0;
  std::thread([&] {
    rc = tern_send(fd, "x", 1, 0);
    err = errno;
  }).join();
  EXPECT_EQ(rc, -1);
  EXPECT_EQ(err, EOPNOTSUPP);
  tern_close(fd);
}

// A kernel TCP pair on loopback: {connected client, accepted server}.
std::pair<int, int> kernel_pair() {
  KernelListener kl;
  const int c = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to = sin_of(kLoop, kl.port);
  EXPECT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0);
  return {c, ::accept(kl.fd, nullptr, nullptr)};
}

// Wait (driving the stack) until @p fd has something to read.
void await_readable(int fd) {
  pollfd pf{fd, POLLIN, 0};
  ASSERT_EQ(tern_poll(&pf, 1, 5000), 1);
}

TEST(PosixData, NonBlockingMsgWaitallReturnsThePartialDataAsTheKernel) {
  auto [kc, ks] = kernel_pair();
  ASSERT_EQ(::send(ks, "abcd", 4, 0), 4);
  char buf[64];
  pollfd pf{kc, POLLIN, 0};
  ASSERT_EQ(::poll(&pf, 1, 5000), 1);
  EXPECT_EQ(::recv(kc, buf, sizeof(buf), MSG_WAITALL | MSG_DONTWAIT), 4) << "the kernel's answer";
  ::close(kc);
  ::close(ks);
  const int fd = echo_conn();
  ASSERT_EQ(tern_send(fd, "abcd", 4, 0), 4);
  await_readable(fd);
  // Before the fix this waited (without a deadline) for the other 60 bytes.
  EXPECT_EQ(tern_recv(fd, buf, sizeof(buf), MSG_WAITALL | MSG_DONTWAIT), 4);
  EXPECT_EQ(std::memcmp(buf, "abcd", 4), 0);
  EXPECT_EQ(tern_recv(fd, buf, sizeof(buf), MSG_WAITALL | MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
  tern_close(fd);
}

std::atomic<int> g_signals{0};
void on_usr1(int) { g_signals.fetch_add(1); }

TEST(PosixData, PollReturnsEintrWhenASignalInterruptsItsSleep) {
  struct sigaction sa {};
  sa.sa_handler = on_usr1;  // no SA_RESTART: poll is never restarted anyway
  struct sigaction old {};
  // Through tern_sigaction (what the preload library's sigaction is): a handler that runs while
  // tern polls in user space, outside any system call, still ends the wait.
  ASSERT_EQ(tern_sigaction(SIGUSR1, &sa, &old), 0);
  struct sigaction now {};
  ASSERT_EQ(tern_sigaction(SIGUSR1, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, &on_usr1) << "the application's handler is reported, not tern's trampoline";
  const int fd = echo_conn();  // idle: nothing will arrive
  std::atomic<bool> returned{false};
  const pthread_t self = pthread_self();
  // Signal until poll returns: a signal that lands while the stack is polling (not sleeping in
  // the kernel) runs its handler without interrupting anything, as it would between two syscalls.
  std::thread killer([&] {
    while (!returned.load()) {
      pthread_kill(self, SIGUSR1);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  pollfd pf{fd, POLLIN, 0};
  const int rc = tern_poll(&pf, 1, 10'000);
  const int err = errno;
  returned.store(true);
  killer.join();
  EXPECT_EQ(rc, -1) << "before the fix poll slept through its signals until the timeout";
  EXPECT_EQ(err, EINTR);
  EXPECT_GT(g_signals.load(), 0);
  tern_sigaction(SIGUSR1, &old, nullptr);
  tern_close(fd);
}

TEST(PosixData, BlockingWritevWritesEveryPieceThroughASmallSendBuffer) {
  const int fd = echo_conn();
  const int small = 4096;  // doubled as Linux does: 8 KiB
  ASSERT_EQ(tern_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
  std::vector<uint8_t> out(96 * 1024), back(out.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(i * 13 + 1);
  iovec iov[3] = {{out.data(), 32 * 1024}, {out.data() + 32 * 1024, 64 * 1024}, {nullptr, 0}};
  // Linux's blocking writev returns only when every piece is queued; before the fix the pieces
  // after the first were sent without waiting and the call came back short.
  const ssize_t w = tern_writev(fd, iov, 3);
  EXPECT_EQ(w, static_cast<ssize_t>(out.size()));
  ASSERT_GT(w, 0);
  back.resize(static_cast<size_t>(w));
  out.resize(back.size());
  size_t got = 0;
  while (got < back.size()) {
    const ssize_t n = tern_read(fd, back.data() + got, back.size() - got);
    ASSERT_GT(n, 0) << std::strerror(errno);
    got += static_cast<size_t>(n);
  }
  EXPECT_EQ(back, out);
  tern_close(fd);
}

TEST(PosixData, OptionsSetOnAListenerAfterListenReachAcceptedConnections) {
  const int l = tern_socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(do_bind(l, kIpTern, 7070), 0);
  ASSERT_EQ(tern_listen(l, 8), 0);
  // As nginx does: keepalive set after listen(); 1 s idle, 1 s between probes.
  const int one = 1;
  ASSERT_EQ(tern_setsockopt(l, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)), 0);
  ASSERT_EQ(tern_setsockopt(l, IPPROTO_TCP, TCP_KEEPIDLE, &one, sizeof(one)), 0);
  ASSERT_EQ(tern_setsockopt(l, IPPROTO_TCP, TCP_KEEPINTVL, &one, sizeof(one)), 0);
  auto c = g_peer->net->connect(Endpoint{kIpTern, 7070});
  ASSERT_TRUE(c);
  g_peer->conns.push_back(*c);
  const int a = tern_accept(l, nullptr, nullptr);
  ASSERT_GE(a, 0) << std::strerror(errno);
  int v = 0;
  socklen_t len = sizeof(v);
  ASSERT_EQ(tern_getsockopt(a, SOL_SOCKET, SO_KEEPALIVE, &v, &len), 0);
  EXPECT_EQ(v, 1);
  // The engine got it too: the idle connection sends keepalive probes (before the fix: none).
  const uint64_t before = posix::stack()->core(0).tcp().stats().keepalive_probes;
  pollfd pf{a, POLLIN, 0};
  for (int i = 0; i < 4 && posix::stack()->core(0).tcp().stats().keepalive_probes == before; ++i)
    (void)tern_poll(&pf, 1, 1000);
  EXPECT_GT(posix::stack()->core(0).tcp().stats().keepalive_probes, before);
  tern_close(a);
  tern_close(l);
}

TEST(PosixData, AnOptionToggledTenThousandTimesDoesNotGrowMemory) {
  const int fd = echo_conn();
  int v = 0;
  auto toggle = [&](int s) {
    for (int i = 0; i < 10'000; ++i) {
      v = i & 1;
      ASSERT_EQ(tern_setsockopt(s, IPPROTO_TCP, TCP_CORK, &v, sizeof(v)), 0);
    }
  };
  toggle(fd);  // warm-up (first allocations)
  const size_t before = mallinfo2().uordblks;
  toggle(fd);
  const size_t after = mallinfo2().uordblks;
  // Before the fix every call was remembered for a possible loopback hand-off (~700 KB here).
  EXPECT_LT(after, before + 16 * 1024) << "heap grew by " << after - before << " bytes";
  tern_close(fd);
  // Before connect() the options are remembered, one entry per option: the last value is the one
  // a loopback (kernel) socket gets.
  KernelListener kl;
  const int s = tern_socket(AF_INET, SOCK_STREAM, 0);
  const size_t b2 = mallinfo2().uordblks;
  toggle(s);
  EXPECT_LT(mallinfo2().uordblks, b2 + 16 * 1024);
  const int one = 1;
  ASSERT_EQ(tern_setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
  sockaddr_in to = sin_of(kLoop, kl.port);
  ASSERT_EQ(do_connect(s, to), 0) << std::strerror(errno);
  ASSERT_FALSE(tern_is_socket(s));
  int nd = 0;
  socklen_t len = sizeof(nd);
  ASSERT_EQ(::getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &nd, &len), 0);
  EXPECT_EQ(nd, 1) << "the kernel socket got the remembered option";
  tern_close(s);
}

TEST(PosixErrno, TcpCongestionWithoutAValueIsEfaultOrEinval) {
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in) {
        return static_cast<long>(tern_setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, nullptr, 5));
      },
      "TCP_CONGESTION with a null value");
  same(
      SOCK_STREAM,
      [](int fd, bool, sockaddr_in) {
        return static_cast<long>(tern_setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "cubic", 0));
      },
      "TCP_CONGESTION with length 0");
}

TEST(PosixErrno, UdpIsAlwaysWritableInEpollLevelAndOnceEdgeTriggered) {
  same(
      SOCK_DGRAM,
      [](int fd, bool tern, sockaddr_in) {
        if (do_bind(fd, tern ? kIpTern : kLoop, 0) != 0) return -2L;
        const int ep = tern_epoll_create1(0);
        epoll_event e{};
        e.events = EPOLLOUT;
        e.data.u64 = 5;
        if (tern_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) != 0) return -3L;
        std::array<epoll_event, 4> out{};
        long r = 0;
        for (int i = 0; i < 2; ++i) {  // level: every time
          const int n = tern_epoll_wait(ep, out.data(), 4, 100);
          r = r * 10 + n;
          if (n == 1 && out[0].events == EPOLLOUT && out[0].data.u64 == 5) r = r * 10 + 1;
        }
        e.events = EPOLLOUT | EPOLLET;
        if (tern_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e) != 0) return -4L;
        for (int i = 0; i < 2; ++i) r = r * 10 + tern_epoll_wait(ep, out.data(), 4, 20);  // edge: once
        tern_close(ep);
        return r;  // 111110
      },
      "EPOLLOUT on a UDP socket");
}

TEST(PosixData, UdpRecvmsgScattersOneDatagramIntoPieces) {
  const int fd = tern_socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to = sin_of(kIpPeer, 7);
  ASSERT_EQ(tern_connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0);
  std::array<uint8_t, 1000> msg;
  for (size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<uint8_t>(i * 3);
  iovec one{msg.data(), msg.size()};
  msghdr m{};
  m.msg_iov = &one;
  m.msg_iovlen = 1;
  ASSERT_EQ(tern_sendmsg(fd, &m, 0), 1000);
  await_readable(fd);
  std::array<uint8_t, 1000> back{};
  iovec pieces[3] = {{back.data(), 10}, {back.data() + 10, 500}, {back.data() + 510, 400}};
  sockaddr_in from{};
  msghdr r{};
  r.msg_name = &from;
  r.msg_namelen = sizeof(from);
  r.msg_iov = pieces;
  r.msg_iovlen = 3;
  EXPECT_EQ(tern_recvmsg(fd, &r, 0), 910);
  EXPECT_TRUE(r.msg_flags & MSG_TRUNC) << "90 bytes did not fit";
  EXPECT_EQ(std::memcmp(back.data(), msg.data(), 910), 0);
  EXPECT_EQ(ntohs(from.sin_port), 7);
  tern_close(fd);
}

TEST(PosixData, Dup2OverAnEpollDescriptorReleasesItsTernMembers) {
  const int fd = echo_conn();
  const int ep = tern_epoll_create1(0);
  epoll_event e{};
  e.events = EPOLLIN;
  ASSERT_EQ(tern_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e), 0);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  ASSERT_EQ(tern_dup2(p[0], ep), ep) << "the epoll descriptor's number now holds the pipe";
  // The socket left the replaced set: it can join another (before the fix: EEXIST, "two sets").
  const int ep2 = tern_epoll_create1(0);
  EXPECT_EQ(tern_epoll_ctl(ep2, EPOLL_CTL_ADD, fd, &e), 0) << std::strerror(errno);
  ASSERT_EQ(tern_send(fd, "x", 1, 0), 1);
  std::array<epoll_event, 2> out{};
  EXPECT_EQ(tern_epoll_wait(ep2, out.data(), 2, 2000), 1);
  tern_close(ep2);
  tern_close(ep);
  ::close(p[0]);
  ::close(p[1]);
  tern_close(fd);
}

TEST(PosixData, LoopbackHandOffKeepsEpollMembershipAndTheBoundPort) {
  KernelListener kl;
  const int fd = tern_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const uint16_t port = closed_kernel_port();
  sockaddr_in any = sin_of(wire::Ipv4Addr{}, port);
  ASSERT_EQ(tern_bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof(any)), 0);
  const int ep = tern_epoll_create1(0);
  epoll_event e{};
  e.events = EPOLLOUT;
  e.data.u64 = 42;
  ASSERT_EQ(tern_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e), 0);
  sockaddr_in to = sin_of(kLoop, kl.port);
  const int rc = do_connect(fd, to);
  ASSERT_TRUE(rc == 0 || errno == EINPROGRESS) << std::strerror(errno);
  ASSERT_FALSE(tern_is_socket(fd));
  std::array<epoll_event, 2> out{};
  // Before the fix the kernel's socket was in no epoll set: nothing was ever reported.
  ASSERT_EQ(tern_epoll_wait(ep, out.data(), 2, 2000), 1);
  EXPECT_EQ(out[0].data.u64, 42u);
  EXPECT_TRUE(out[0].events & EPOLLOUT);
  sockaddr_in me{};
  socklen_t l = sizeof(me);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&me), &l), 0);
  EXPECT_EQ(ntohs(me.sin_port), port) << "the bind() before connect() reached the kernel's socket";
  tern_close(ep);
  tern_close(fd);
}

TEST(PosixData, SendmmsgAndRecvmmsgMoveSeveralDatagrams) {
  const int fd = tern_socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to = sin_of(kIpPeer, 7);
  ASSERT_EQ(tern_connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0);
  std::array<std::array<char, 8>, 3> out{{{"one"}, {"two"}, {"three"}}};
  std::array<iovec, 3> oi{};
  std::array<mmsghdr, 3> om{};
  for (size_t i = 0; i < 3; ++i) {
    oi[i] = {out[i].data(), std::strlen(out[i].data())};
    om[i].msg_hdr.msg_iov = &oi[i];
    om[i].msg_hdr.msg_iovlen = 1;
  }
  ASSERT_EQ(tern_sendmmsg(fd, om.data(), 3, 0), 3);
  EXPECT_EQ(om[2].msg_len, 5u);
  std::array<std::array<char, 16>, 4> in{};
  std::array<iovec, 4> ii{};
  std::array<mmsghdr, 4> im{};
  for (size_t i = 0; i < 4; ++i) {
    ii[i] = {in[i].data(), in[i].size()};
    im[i].msg_hdr.msg_iov = &ii[i];
    im[i].msg_hdr.msg_iovlen = 1;
  }
  int got = 0;
  for (int t = 0; t < 50 && got < 3; ++t) {
    await_readable(fd);
    const int r = tern_recvmmsg(fd, im.data() + got, 4 - static_cast<unsigned>(got), MSG_WAITFORONE, nullptr);
    ASSERT_GT(r, 0) << std::strerror(errno);
    got += r;
  }
  ASSERT_EQ(got, 3);
  EXPECT_EQ(std::string(in[0].data(), im[0].msg_len), "one");
  EXPECT_EQ(std::string(in[2].data(), im[2].msg_len), "three");
  EXPECT_EQ(tern_recvmmsg(fd, im.data(), 4, MSG_DONTWAIT, nullptr), -1);
  EXPECT_EQ(errno, EAGAIN);
  tern_close(fd);
}

std::atomic<int> g_usr2{0};
void on_usr2(int) { g_usr2.fetch_add(1); }

TEST(PosixSignals, SigDflAndSigIgnAreTheHandlerWordWhateverTheFlags) {
  struct sigaction sa {
  }, q{};
  sa.sa_flags = SA_SIGINFO;
  sa.sa_handler = SIG_IGN;  // a union with sa_sigaction: SA_SIGINFO does not make it a function
  ASSERT_EQ(tern_sigaction(SIGUSR2, &sa, nullptr), 0);
  ASSERT_EQ(sigaction(SIGUSR2, nullptr, &q), 0);  // the kernel's view (libc's own sigaction)
  EXPECT_EQ(q.sa_handler, SIG_IGN) << "before the fix: tern's trampoline, which then called address 1";
  raise(SIGUSR2);  // ignored: the process goes on
  sa.sa_handler = SIG_DFL;
  ASSERT_EQ(tern_sigaction(SIGUSR2, &sa, nullptr), 0);
  ASSERT_EQ(sigaction(SIGUSR2, nullptr, &q), 0);
  EXPECT_EQ(q.sa_handler, SIG_DFL);
}

TEST(PosixSignals, SameStructForNewAndOldInstallsTheNewHandlerAndResetHandIsReported) {
  struct sigaction sa {};
  sa.sa_handler = on_usr2;
  sa.sa_flags = SA_RESETHAND;
  // act and old the same struct: the kernel reads act first (before the fix the old one stayed).
  ASSERT_EQ(tern_sigaction(SIGUSR2, &sa, &sa), 0);
  EXPECT_EQ(sa.sa_handler, SIG_DFL) << "old: the previous action";
  const int before = g_usr2.load();
  raise(SIGUSR2);
  EXPECT_EQ(g_usr2.load(), before + 1) << "the new handler ran";
  struct sigaction q {};
  ASSERT_EQ(tern_sigaction(SIGUSR2, nullptr, &q), 0);
  EXPECT_EQ(q.sa_handler, SIG_DFL) << "SA_RESETHAND put the default back";
  EXPECT_FALSE(q.sa_flags & SA_SIGINFO) << "the SA_SIGINFO tern added is not reported";
  sa = {};
  sa.sa_handler = SIG_IGN;
  ASSERT_EQ(tern_sigaction(SIGUSR2, &sa, nullptr), 0);
}

TEST(PosixSignals, ASignalHandledOnAnotherThreadDoesNotEndTheDriversWait) {
  struct sigaction sa {
  }, old{};
  sa.sa_handler = on_usr2;
  ASSERT_EQ(tern_sigaction(SIGUSR2, &sa, &old), 0);
  const int fd = echo_conn();
  std::atomic<bool> done{false};
  std::thread other([&] {
    while (!done.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  const pthread_t tid = other.native_handle();
  std::thread killer([&] {
    for (int i = 0; i < 40 && !done.load(); ++i) {
      pthread_kill(tid, SIGUSR2);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  const int before = g_usr2.load();
  pollfd pf{fd, POLLIN, 0};
  const int rc = tern_poll(&pf, 1, 300);  // as on Linux: only the thread that handled it is interrupted
  done.store(true);
  killer.join();
  other.join();
  EXPECT_EQ(rc, 0) << "before the fix one process-wide count ended this wait: " << std::strerror(errno);
  EXPECT_GT(g_usr2.load(), before);
  tern_sigaction(SIGUSR2, &old, nullptr);
  tern_close(fd);
}

TEST(PosixSignals, PpollAppliesTheCallersMaskOnKernelDescriptors) {
  struct sigaction sa {
  }, old{};
  sa.sa_handler = on_usr2;
  ASSERT_EQ(tern_sigaction(SIGUSR2, &sa, &old), 0);
  sigset_t blocked, saved, open;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &blocked, &saved);  // blocked, except inside the wait
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  const pthread_t self = pthread_self();
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    pthread_kill(self, SIGUSR2);
  });
  pthread_sigmask(SIG_BLOCK, nullptr, &open);
  sigdelset(&open, SIGUSR2);
  pollfd pf{p[0], POLLIN, 0};
  const timespec ts{5, 0};
  // The pattern of sshd and others: the signal can only arrive inside ppoll. Before the fix the
  // preload library dropped the mask and this slept for its whole timeout.
  const int rc = tern_ppoll(&pf, 1, &ts, &open);
  const int err = errno;
  killer.join();
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  EXPECT_EQ(rc, -1);
  EXPECT_EQ(err, EINTR);
  ::close(p[0]);
  ::close(p[1]);
  tern_sigaction(SIGUSR2, &old, nullptr);
}

TEST(PosixData, AlwaysWritableUdpMembersDoNotCrowdOutTheKernelsMembers) {
  const int u = tern_socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_EQ(do_bind(u, kIpTern, 0), 0);
  const int ep = tern_epoll_create1(0);
  epoll_event e{};
  e.events = EPOLLOUT;  // level: reported on every call
  e.data.u64 = 1;
  ASSERT_EQ(tern_epoll_ctl(ep, EPOLL_CTL_ADD, u, &e), 0);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  e.events = EPOLLIN;
  e.data.u64 = 2;
  ASSERT_EQ(tern_epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e), 0);
  ASSERT_EQ(::write(p[1], "k", 1), 1);
  bool pipe_seen = false;
  for (int i = 0; i < 50 && !pipe_seen; ++i) {
    epoll_event out{};
    ASSERT_EQ(tern_epoll_wait(ep, &out, 1, 100), 1);  // room for one event per call
    pipe_seen = out.data.u64 == 2;
    std::this_thread::sleep_for(std::chrono::microseconds(30));
  }
  EXPECT_TRUE(pipe_seen) << "before the fix the UDP socket filled every call";
  tern_close(ep);
  tern_close(u);
  ::close(p[0]);
  ::close(p[1]);
}

TEST(PosixData, LoopbackHandOffAfterABindToTernsAddressKeepsThePort) {
  KernelListener kl;
  const int fd = tern_socket(AF_INET, SOCK_STREAM, 0);
  const uint16_t port = closed_kernel_port();
  ASSERT_EQ(do_bind(fd, kIpTern, port), 0);
  sockaddr_in to = sin_of(kLoop, kl.port);
  // The kernel does not own 198.18.0.2: the replayed bind keeps the port on INADDR_ANY (before:
  // EADDRNOTAVAIL from connect).
  ASSERT_EQ(do_connect(fd, to), 0) << std::strerror(errno);
  sockaddr_in me{};
  socklen_t l = sizeof(me);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&me), &l), 0);
  EXPECT_EQ(ntohs(me.sin_port), port);
  tern_close(fd);
}

std::atomic<int> g_usr1b{0};
void on_usr1b(int) { g_usr1b.fetch_add(1); }

// A blocking recv on an idle connection, signalled every 5 ms from another thread. @return its
// result and errno.
std::pair<ssize_t, int> interrupted_recv(int flags, uint64_t rcvtimeo_ms) {
  struct sigaction sa {
  }, old{};
  sa.sa_handler = on_usr1b;
  sa.sa_flags = flags;
  EXPECT_EQ(tern_sigaction(SIGUSR1, &sa, &old), 0);
  const int fd = echo_conn();
  if (rcvtimeo_ms != 0) {
    timeval tv{static_cast<time_t>(rcvtimeo_ms / 1000), static_cast<suseconds_t>(rcvtimeo_ms % 1000 * 1000)};
    EXPECT_EQ(tern_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
  }
  std::atomic<bool> returned{false};
  const pthread_t self = pthread_self();
  std::thread killer([&] {
    for (int i = 0; i < 100 && !returned.load(); ++i) {
      pthread_kill(self, SIGUSR1);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  char buf[16];
  const ssize_t r = tern_recv(fd, buf, sizeof(buf), 0);
  const int err = errno;
  returned.store(true);
  killer.join();
  tern_sigaction(SIGUSR1, &old, nullptr);
  tern_close(fd);
  return {r, err};
}

TEST(PosixSignals, ABlockingRecvEndsWithEintrUnlessTheHandlerHasSaRestart) {
  auto [r, err] = interrupted_recv(0, 0);
  EXPECT_EQ(r, -1);
  EXPECT_EQ(err, EINTR) << "before: blocking calls never returned EINTR";
  // SA_RESTART: the call goes on, here to its SO_RCVTIMEO... which makes it never restarted
  // (signal(7)): so without a timeout it would wait for data; with one, EINTR again.
  auto [r2, err2] = interrupted_recv(SA_RESTART, 2000);
  EXPECT_EQ(r2, -1);
  EXPECT_EQ(err2, EINTR) << "a socket with SO_RCVTIMEO is never restarted";
}

TEST(PosixSignals, SaRestartKeepsABlockingAcceptWaiting) {
  struct sigaction sa {
  }, old{};
  sa.sa_handler = on_usr1b;
  sa.sa_flags = SA_RESTART;
  ASSERT_EQ(tern_sigaction(SIGUSR1, &sa, &old), 0);
  const int l = tern_socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(do_bind(l, kIpTern, 7071), 0);
  ASSERT_EQ(tern_listen(l, 4), 0);
  std::atomic<bool> returned{false};
  const pthread_t self = pthread_self();
  const int before = g_usr1b.load();
  std::thread killer([&] {
    for (int i = 0; i < 10 && !returned.load(); ++i) {
      pthread_kill(self, SIGUSR1);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  // The peer connects only once the signals were handled: from core 0's loop (this thread).
  Core& c0 = posix::stack()->core(0);
  bool connected = false;
  c0.set_on_poll([&](Core&, uint64_t now) {
    g_peer->poll(now);
    if (g_usr1b.load() >= before + 5 && !connected) {
      if (auto c = g_peer->net->connect(Endpoint{kIpTern, 7071})) g_peer->conns.push_back(*c);
      connected = true;
    }
  });
  const int a = tern_accept(l, nullptr, nullptr);  // no SO_RCVTIMEO: restarted after each handler
  const int err = errno;
  returned.store(true);
  killer.join();
  c0.set_on_poll([](Core&, uint64_t now) { g_peer->poll(now); });
  EXPECT_GE(a, 0) << std::strerror(err);
  EXPECT_GE(g_usr1b.load(), before + 5);
  if (a >= 0) tern_close(a);
  tern_close(l);
  tern_sigaction(SIGUSR1, &old, nullptr);
}

TEST(PosixData, LoopbackDestinationsGoToTheKernel) {
  KernelListener kl;
  const int fd = tern_socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_TRUE(tern_is_socket(fd));
  sockaddr_in to = sin_of(kLoop, kl.port);
  ASSERT_EQ(do_connect(fd, to), 0) << std::strerror(errno);
  EXPECT_FALSE(tern_is_socket(fd)) << "the descriptor became the kernel's socket";
  EXPECT_EQ(tern_send(fd, "hi", 2, 0), 2);
  tern_close(fd);
}

// Last in the file (gtest runs tests in this order): it shuts the runtime down for the process.
TEST(PosixZShutdown, AfterShutdownEpollAndPollAreTheKernels) {
  const int fd = echo_conn();
  const int ep = tern_epoll_create1(0);
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.u64 = 1;
  ASSERT_EQ(tern_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e), 0);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  e.data.u64 = 2;
  ASSERT_EQ(tern_epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e), 0);
  tern_posix_shutdown(200);  // closes fd (the application's atexit may run after this)
  EXPECT_FALSE(tern_is_socket(fd));
  ASSERT_EQ(::write(p[1], "k", 1), 1);
  std::array<epoll_event, 2> out{};
  // Before the fix epoll_wait drove the stack that was gone (a crash).
  ASSERT_EQ(tern_epoll_wait(ep, out.data(), 2, 1000), 1);
  EXPECT_EQ(out[0].data.u64, 2u);
  pollfd pf{p[0], POLLIN, 0};
  EXPECT_EQ(tern_poll(&pf, 1, 1000), 1);
  EXPECT_EQ(tern_socket(AF_INET, SOCK_STREAM, 0), -1) << "no restart in this process";
  tern_close(ep);
  ::close(p[0]);
  ::close(p[1]);
}

}  // namespace
}  // namespace tern::posixtest

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new tern::posixtest::Env);
  std::signal(SIGPIPE, SIG_IGN);
  return RUN_ALL_TESTS();
}
