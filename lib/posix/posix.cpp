/**
 * @file
 * libtern-posix: the BSD socket calls over tern's sockets (tern/posix/socket.h). Calls arrive
 * from the application (directly, or interposed by libtern-preload.so); a descriptor that is not
 * tern's goes to the kernel's call (RealCalls) untouched. For tern's descriptors the call works on
 * the socket's handle (tern/api), and any call that waits drives core 0 (Core::poll()) in the
 * calling thread until the socket is ready, the timeout passes, or a kernel descriptor in the same
 * poll/select/epoll set is ready.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <rte_lcore.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "tern/api/net.hpp"
#include "tern/api/poller.hpp"
#include "tern/base/clock.hpp"
#include "tern/base/log.hpp"
#include "tern/posix/runtime.hpp"
#include "tern/posix/socket.h"
#include "tern/stack/core.hpp"
#include "tern/tcp/tcp.hpp"
#include "tern/udp/udp.hpp"

namespace tern::posix {

// ---- the kernel's calls ----

namespace {

template <class F>
F next(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

RealCalls load_real() {
  RealCalls r{};
#define TERN_REAL(n) r.n = next<decltype(r.n)>(#n)
  TERN_REAL(socket);
  TERN_REAL(bind);
  TERN_REAL(listen);
  TERN_REAL(accept);
  TERN_REAL(accept4);
  TERN_REAL(connect);
  TERN_REAL(read);
  TERN_REAL(write);
  TERN_REAL(readv);
  TERN_REAL(writev);
  TERN_REAL(recv);
  TERN_REAL(send);
  TERN_REAL(recvfrom);
  TERN_REAL(sendto);
  TERN_REAL(recvmsg);
  TERN_REAL(sendmsg);
  TERN_REAL(recvmmsg);
  TERN_REAL(sendmmsg);
  TERN_REAL(sendfile);
  TERN_REAL(close);
  TERN_REAL(shutdown);
  TERN_REAL(getsockopt);
  TERN_REAL(setsockopt);
  TERN_REAL(getsockname);
  TERN_REAL(getpeername);
  TERN_REAL(fcntl);
  TERN_REAL(ioctl);
  TERN_REAL(poll);
  TERN_REAL(ppoll);
  TERN_REAL(select);
  TERN_REAL(epoll_create);
  TERN_REAL(epoll_create1);
  TERN_REAL(epoll_ctl);
  TERN_REAL(epoll_wait);
  TERN_REAL(epoll_pwait);
  TERN_REAL(epoll_pwait2);
  TERN_REAL(dup);
  TERN_REAL(dup2);
  TERN_REAL(dup3);
  TERN_REAL(fork);
  TERN_REAL(sigaction);
  TERN_REAL(pselect);
#undef TERN_REAL
  return r;
}

}  // namespace

const RealCalls& real() noexcept {
  static const RealCalls r = load_real();
  return r;
}

// ---- state ----

namespace {

constexpr int kMaxFd = 1 << 20;  // descriptor numbers tern can hold (the table is virtual memory)

struct EpollSet;

/** One tern socket (a descriptor number reserved from the kernel). */
struct Sock {
  int fd = -1;
  bool tcp = true;
  bool nonblock = false;
  // TCP
  TcpConnection conn;
  TcpListener lst;
  bool bound = false;
  Endpoint local{};
  bool connecting = false;    // a non-blocking connect is in progress
  bool ss_connected = false;  // connect() reported the connection (Linux's SS_CONNECTED)
  int so_error = 0;           // reported once by SO_ERROR (or the next call)
  bool err_reported = false;
  bool shut_rd = false;
  bool reuseaddr = false;
  bool reuseport = false;
  tcp::SocketOptions opt;
  uint64_t rcvtimeo_ns = 0, sndtimeo_ns = 0;
  // UDP
  UdpSocket udp;
  bool has_peer = false;
  Endpoint peer{};
  bool broadcast = false;
  // epoll membership (one set per socket)
  EpollSet* ep = nullptr;
  uint32_t ep_mask = 0;
  uint64_t ep_data = 0;
  bool ep_attached = false;
  bool ep_out_pending = false;  // UDP: EPOLLOUT not yet reported since ADD/MOD (edge, one-shot)
  // setsockopt calls to replay on a kernel socket when the destination turns out to be loopback
  struct RawOpt {
    int level, name;
    std::vector<uint8_t> val;
  };
  std::vector<RawOpt> raw;
  int ip_tos = 0;
};

/** The tern side of a kernel epoll instance (made when its first tern socket is added). */
struct EpollSet {
  int epfd = -1;
  Poller poller;
  size_t members = 0;
  // UDP members asking for EPOLLOUT: always writable, as on Linux (no event from the engine says so).
  std::vector<int> udp_out;
  uint64_t kernel_checked_ns = 0;  // the last look at the set's kernel descriptors
};

// While tern's sockets keep a wait busy, how often it looks at the kernel's descriptors.
constexpr uint64_t kKernelCheckNs = 20'000;

struct Runtime {
  std::unique_ptr<Stack> stack;
  std::unique_ptr<Net> net;
  Core* core = nullptr;
  pthread_t owner{};
  bool forked_child = false;
  bool failed = false;
  size_t open = 0;
  uint32_t idle = 0;  // consecutive empty drives
  uint32_t idle_polls = 200;
  uint64_t max_sleep_ns = 1'000'000;
  sigset_t pmd_signals{};  // what the ports' drivers raise per frame (SIGIO, net_tap's F_SETSIG one)
};

// A function-local static: the library's load-time constructor that registers the driver may run
// before this file's globals are initialised.
PortFactory& factory_slot() {
  static PortFactory f;
  return f;
}
std::once_flag g_table_once;
std::atomic<Sock*>* g_socks = nullptr;
std::atomic<EpollSet*>* g_epolls = nullptr;
Runtime* g_rt = nullptr;
std::mutex g_init_mu;
// True while tern's own code runs on this thread (start-up, a poll, shutdown): the sockets that
// code opens (net_tap's ioctl socket, for one) are the kernel's.
thread_local bool t_in_tern = false;

struct InTern {
  bool saved = t_in_tern;
  InTern() { t_in_tern = true; }
  ~InTern() { t_in_tern = saved; }
  InTern(const InTern&) = delete;
  InTern& operator=(const InTern&) = delete;
};

void make_tables() {
  std::call_once(g_table_once, [] {
    void* a = mmap(nullptr, sizeof(std::atomic<Sock*>) * kMaxFd, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void* b = mmap(nullptr, sizeof(std::atomic<EpollSet*>) * kMaxFd, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_socks = static_cast<std::atomic<Sock*>*>(a);
    g_epolls = static_cast<std::atomic<EpollSet*>*>(b);
  });
}

Sock* sock_of(int fd) noexcept {
  if (fd < 0 || fd >= kMaxFd || g_socks == nullptr) return nullptr;
  return g_socks[fd].load(std::memory_order_acquire);
}

EpollSet* epoll_of(int fd) noexcept {
  if (fd < 0 || fd >= kMaxFd || g_epolls == nullptr) return nullptr;
  return g_epolls[fd].load(std::memory_order_acquire);
}

int fail(int e) {
  errno = e;
  return -1;
}

int to_errno(Errc c) {
  switch (c) {
    case Errc::would_block:
      return EAGAIN;
    case Errc::connection_refused:
      return ECONNREFUSED;
    case Errc::connection_reset:
      return ECONNRESET;
    case Errc::timed_out:
      return ETIMEDOUT;
    case Errc::host_unreachable:
      return EHOSTUNREACH;
    case Errc::not_connected:
      return ENOTCONN;
    case Errc::closed:
      return EPIPE;
    case Errc::no_route:
      return ENETUNREACH;
    case Errc::exists:
      return EADDRINUSE;
    case Errc::no_memory:
      return ENOBUFS;
    case Errc::invalid_argument:
    case Errc::bad_value:
      return EINVAL;
    case Errc::bad_handle:
      return EBADF;
    case Errc::bad_length:
      return EMSGSIZE;
    case Errc::unsupported:
      return EOPNOTSUPP;
    default:
      return EIO;
  }
}

// A call tern cannot serve: log the first time for each kind, then fail with @p e.
int unsupported(const char* what, int e = EOPNOTSUPP) {
  static std::mutex mu;
  static std::vector<const char*> said;
  {
    std::lock_guard<std::mutex> g(mu);
    bool seen = false;
    for (const char* s : said) seen = seen || std::strcmp(s, what) == 0;
    if (!seen) {
      said.push_back(what);
      TERN_LOG_WARN("tern-posix: %s: not supported on tern sockets (%s)", what, std::strerror(e));
    }
  }
  return fail(e);
}

bool on_owner_thread() noexcept { return g_rt != nullptr && pthread_equal(pthread_self(), g_rt->owner); }

// The stack can be driven from here: started, not shut down, not a forked child, this thread's.
bool stack_usable() noexcept {
  const Runtime* rt = g_rt;
  return rt != nullptr && !rt->failed && !rt->forked_child && rt->core != nullptr && on_owner_thread();
}

// ---- addresses ----

bool is_loopback(wire::Ipv4Addr a) noexcept { return (a.v >> 24) == 127; }

int to_endpoint(const sockaddr* addr, socklen_t len, Endpoint& out) {
  if (addr == nullptr) return EFAULT;
  if (len < static_cast<socklen_t>(sizeof(sockaddr_in))) return EINVAL;
  if (addr->sa_family != AF_INET) return EAFNOSUPPORT;
  sockaddr_in sin;
  std::memcpy(&sin, addr, sizeof(sin));
  out.addr = wire::Ipv4Addr{ntohl(sin.sin_addr.s_addr)};
  out.port = ntohs(sin.sin_port);
  return 0;
}

void from_endpoint(const Endpoint& ep, sockaddr* addr, socklen_t* len) {
  if (addr == nullptr || len == nullptr) return;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(ep.port);
  sin.sin_addr.s_addr = htonl(ep.addr.v);
  std::memcpy(addr, &sin, std::min<size_t>(*len, sizeof(sin)));  // POSIX: truncated, *len says the full size
  *len = sizeof(sin);
}

// ---- driving the stack ----

void drive() {
  InTern guard;
  Runtime& rt = *g_rt;
  const uint32_t n = rt.core->poll(monotonic_ns());
  if (n != 0) {
    rt.idle = 0;
  } else {
    ++rt.idle;
  }
}

// How long the caller may sleep now (0: spin on), from how long the core has been idle: the
// adaptive idle policy (spin idle_polls empty polls, then sleep in growing steps up to 1 ms; the
// core's timers have 1 ms resolution, so no timer runs later than one step).
uint64_t idle_step() {
  Runtime& rt = *g_rt;
  if (rt.idle <= rt.idle_polls) return 0;
  const uint32_t over = std::min<uint32_t>(rt.idle - rt.idle_polls, 20);
  return std::min<uint64_t>(rt.max_sleep_ns, 10'000ull << std::min<uint32_t>(over / 2, 10));
}

void sleep_ns(uint64_t ns) {
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  nanosleep(&ts, nullptr);
}

// Deliveries on this thread (initial-exec TLS: safe in a handler, no allocation). Only the thread
// that handles a signal is interrupted, as on Linux; DPDK's own threads are created with every
// signal blocked (start()), so process-directed signals reach the application's threads.
__attribute__((tls_model("initial-exec"))) thread_local uint64_t t_signal_seq = 0;
// Of those, deliveries whose handler was installed without SA_RESTART: they end a blocking call
// with EINTR, as the kernel's (with SA_RESTART the call goes on).
__attribute__((tls_model("initial-exec"))) thread_local uint64_t t_intr_seq = 0;
// Whether this thread's last wait_until() ended because such a handler ran.
thread_local bool t_interrupted = false;

// What ends a blocking call's wait besides its event and its deadline: a handler without
// SA_RESTART (interruptible), any handler (any_signal: a socket with SO_RCVTIMEO/SO_SNDTIMEO is
// never restarted, signal(7)), or nothing (to_the_end).
enum class Wait : uint8_t { interruptible, any_signal, to_the_end };

Wait wait_for_timeout(uint64_t timeout_ns) {
  return timeout_ns != 0 ? Wait::any_signal : Wait::interruptible;
}

// Drive until @p ready() or the deadline (UINT64_MAX: none), or until a signal ends the wait as
// @p how says (t_interrupted). @return ready().
template <class F>
bool wait_until(F ready, uint64_t deadline, Wait how = Wait::interruptible) {
  t_interrupted = false;
  const uint64_t intr = t_intr_seq, any = t_signal_seq;
  for (;;) {
    drive();
    if (ready()) return true;
    if ((how == Wait::interruptible && t_intr_seq != intr) ||
        (how == Wait::any_signal && t_signal_seq != any)) {
      t_interrupted = true;
      return false;
    }
    const uint64_t now = monotonic_ns();
    if (now >= deadline) return false;
    if (uint64_t s = idle_step(); s != 0) sleep_ns(std::min(s, deadline - now));
  }
}

// errno for a blocking call whose wait ended without its event: EINTR, or @p timeout_errno.
int wait_errno(int timeout_errno) { return t_interrupted ? EINTR : timeout_errno; }

// Signals during a wait in poll()/select()/epoll_wait() end it with EINTR, as the kernel's. The
// drivers' per-frame signals (SIGIO; net_tap's real-time one) are held off in every look at the
// kernel: an EINTR they caused would reach the application as if its own signal had come. The
// application's handlers are installed through tern_sigaction() (the preload library interposes
// sigaction and signal), which runs them from a trampoline that counts deliveries: a handler that
// ran while tern polled in user space (not inside a system call, so nothing was interrupted) is
// seen by the wait all the same, at the cost of one load per turn.

// The application's handler of each signal in one word (the trampoline reads it at once): the
// function's address, with bit 63 (never set in a user-space address) for SA_SIGINFO.
constexpr uintptr_t kSigInfoBit = uintptr_t{1} << 63;
constexpr uintptr_t kRestartBit = uintptr_t{1} << 62;  // the handler has SA_RESTART
constexpr uintptr_t kFlagBits = kSigInfoBit | kRestartBit;
std::atomic<uintptr_t> g_handlers[NSIG];
std::atomic<bool> g_ours[NSIG];  // the kernel's action was the trampoline, installed by us

void trampoline(int sig, siginfo_t* si, void* uc) {
  ++t_signal_seq;
  if (sig <= 0 || sig >= NSIG) return;
  const uintptr_t w = g_handlers[sig].load(std::memory_order_acquire);
  if (!(w & kRestartBit)) ++t_intr_seq;
  const uintptr_t fn = w & ~kFlagBits;
  if (fn == 0) return;
  if (w & kSigInfoBit) {
    reinterpret_cast<void (*)(int, siginfo_t*, void*)>(fn)(sig, si, uc);
  } else {
    reinterpret_cast<void (*)(int)>(fn)(sig);
  }
}

uint64_t signal_seq() noexcept { return t_signal_seq; }

// The mask for tern's looks at the kernel: the thread's own plus the drivers' signals (asked for
// once per wait, on its first look).
class LookMask {
 public:
  /** @p base: the caller's mask for the wait (ppoll, pselect, epoll_pwait); null: the thread's. */
  explicit LookMask(const sigset_t* base = nullptr) : base_(base) {}
  const sigset_t* get() {
    if (!made_) {
      if (base_ != nullptr) {
        m_ = *base_;
      } else {
        pthread_sigmask(SIG_BLOCK, nullptr, &m_);
      }
      sigaddset(&m_, SIGIO);
      if (g_rt != nullptr) sigorset(&m_, &m_, &g_rt->pmd_signals);
      made_ = true;
    }
    return &m_;
  }

 private:
  const sigset_t* base_;
  sigset_t m_{};
  bool made_ = false;
};

// The signals the drivers' descriptors raise (O_ASYNC; F_GETSIG 0 means SIGIO): DPDK 22.11's
// net_tap asks for a real-time signal per received frame, not SIGIO. Looked up once, after the
// ports started.
sigset_t driver_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGIO);
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return set;
  while (dirent* e = readdir(d)) {
    const int fd = std::atoi(e->d_name);
    if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dirfd(d)) continue;
    const int fl = real().fcntl(fd, F_GETFL);
    if (fl < 0 || !(fl & O_ASYNC)) continue;
    const int sig = real().fcntl(fd, F_GETSIG);
    if (sig > 0) sigaddset(&set, sig);
  }
  closedir(d);
  return set;
}

// The deadline of a wait given a timespec (null: none).
uint64_t deadline_of(const timespec* t) {
  if (t == nullptr) return UINT64_MAX;
  if (t->tv_sec < 0 || t->tv_nsec < 0) return monotonic_ns();
  const uint64_t ns = static_cast<uint64_t>(t->tv_sec) * 1'000'000'000 + static_cast<uint64_t>(t->tv_nsec);
  return ns > UINT64_MAX / 2 ? UINT64_MAX : monotonic_ns() + ns;
}

uint64_t deadline_after(uint64_t timeout_ns) {
  return timeout_ns == 0 ? UINT64_MAX : monotonic_ns() + timeout_ns;
}

// ---- start-up ----

int start(const config::StackConfig& in) {
  std::lock_guard<std::mutex> g(g_init_mu);
  InTern guard;
  if (g_rt != nullptr) {
    if (g_rt->failed) return fail(EIO);
    return 0;
  }
  make_tables();
  // Published (g_rt) only once complete, failed or started: another thread never sees a runtime
  // whose core or owner is not set yet (it waits on g_init_mu in tern_posix_init instead).
  auto* rt = new Runtime;
  rt->owner = pthread_self();
  auto publish = [rt] { std::atomic_ref<Runtime*>(g_rt).store(rt, std::memory_order_release); };
  if (!factory_slot()) {
    TERN_LOG_ERROR("tern-posix: no port driver registered (link libtern-preload or call set_port_factory)");
    rt->failed = true;
    publish();
    return fail(EIO);
  }
  config::StackConfig cfg = in;
  // The calling thread is the only core (run to completion): one lcore.
  if (const size_t cut = cfg.lcores.find_first_of(",-"); cut != std::string::npos) {
    TERN_LOG_WARN("tern-posix: lcores '%s': the calling thread drives one core; using '%s'",
                  cfg.lcores.c_str(), cfg.lcores.substr(0, cut).c_str());
    cfg.lcores = cfg.lcores.substr(0, cut);
  }
  std::string err;
  {
    // DPDK's threads (interrupts, multi-process) start with every signal blocked: the
    // application's signals go to its own threads, as without tern.
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    rt->stack = Stack::create(cfg, {}, factory_slot(), err);
    pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  }
  if (!rt->stack) {
    TERN_LOG_ERROR("tern-posix: the stack did not start: %s", err.c_str());
    rt->failed = true;
    publish();
    return fail(EIO);
  }
  rt->core = &rt->stack->core(0);
  rt->pmd_signals = driver_signals();
  rt->core->start(monotonic_ns());
  rt->net = std::make_unique<Net>(*rt->core);
  rt->idle_polls = cfg.cores.idle == "busy" ? UINT32_MAX : cfg.cores.idle_polls;
  rt->max_sleep_ns = std::max<uint64_t>(cfg.cores.sleep_us, 1) * 1000;
  if (cfg.cores.idle == "adaptive" && rt->max_sleep_ns < 1'000'000) rt->max_sleep_ns = 1'000'000;
  publish();
  std::atexit([] { tern_posix_shutdown(2000); });
  TERN_LOG_INFO("tern-posix: stack started (%zu port(s)); this thread drives it", rt->stack->port_count());
  return 0;
}

int ensure_started() {
  if (g_rt != nullptr) {
    if (g_rt->failed) return fail(EIO);
    if (g_rt->forked_child)
      return unsupported("a tern socket in a forked child (the stack stays with the parent)", EAFNOSUPPORT);
    if (!on_owner_thread()) {
      // The stack moves to a thread that opens a socket while no tern socket is open (wrk's main
      // thread probes the address, then its worker thread does the work); sockets never move.
      // Under the start-up lock: two threads asking at once cannot both take it. (A thread that
      // is inside a tern call at that moment is not stopped: opening sockets from two threads at
      // once is unsupported, docs/posix.md.)
      std::lock_guard<std::mutex> g(g_init_mu);
      if (on_owner_thread()) return 0;
      if (g_rt->open != 0)
        return unsupported("tern sockets from a second thread (one thread drives the stack)");
      g_rt->owner = pthread_self();
      if (rte_lcore_id() == LCORE_ID_ANY) (void)rte_thread_register();  // an lcore id: mempool caches
      TERN_LOG_INFO("tern-posix: no tern socket was open: this thread drives the stack now");
    }
    return 0;
  }
  return tern_posix_init(nullptr);
}

// ---- the socket table ----

Sock* checked(int fd, int* err) {
  Sock* s = sock_of(fd);
  if (s == nullptr) return nullptr;
  if (!on_owner_thread()) {
    *err = unsupported("tern sockets from a second thread (one thread drives the stack)");
    return nullptr;
  }
  return s;
}

int reserve_fd(bool cloexec) { return ::open("/dev/null", O_RDONLY | (cloexec ? O_CLOEXEC : 0)); }

void install(Sock* s) {
  g_socks[s->fd].store(s, std::memory_order_release);
  ++g_rt->open;
}

void detach_epoll(Sock* s);

// Forget @p s (its handles are already closed) and free its descriptor number.
void uninstall(Sock* s, bool close_fd) {
  detach_epoll(s);
  g_socks[s->fd].store(nullptr, std::memory_order_release);
  --g_rt->open;
  if (close_fd) real().close(s->fd);
  delete s;
}

// The destination is loopback: hand the descriptor to the kernel (a real socket dup2()ed onto the
// reserved number, with the options set so far), and drop tern's record. @return 0 or errno.
int to_kernel(Sock* s) {
  const int type = (s->tcp ? SOCK_STREAM : SOCK_DGRAM) | (s->nonblock ? SOCK_NONBLOCK : 0);
  const int k = real().socket(AF_INET, type, 0);
  if (k < 0) return errno;
  for (const auto& o : s->raw) {
    (void)real().setsockopt(k, o.level, o.name, o.val.data(), static_cast<socklen_t>(o.val.size()));
  }
  if (s->bound) {  // a TCP bind() (its handle comes with listen or connect): the kernel's socket too
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(s->local.port);
    a.sin_addr.s_addr = htonl(s->local.addr.v);
    int rc = real().bind(k, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    if (rc != 0 && errno == EADDRNOTAVAIL && a.sin_addr.s_addr != htonl(INADDR_ANY)) {
      a.sin_addr.s_addr = htonl(INADDR_ANY);  // tern's address, not the kernel's: keep the port
      rc = real().bind(k, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    }
    if (rc != 0) {
      const int e = errno;
      real().close(k);
      return e;
    }
  }
  const int fd = s->fd;
  const int flags = real().fcntl(fd, F_GETFD);
  if (real().dup3(k, fd, (flags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
    const int e = errno;
    real().close(k);
    return e;
  }
  real().close(k);
  // The epoll set it was in: the kernel's socket joins the kernel side with the same events.
  const int epfd = s->ep != nullptr ? s->ep->epfd : -1;
  epoll_event ee{};
  ee.events = s->ep_mask;
  ee.data.u64 = s->ep_data;
  uninstall(s, false);
  if (epfd >= 0 && real().epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ee) != 0) return errno;
  return 0;
}

// ---- epoll membership ----

uint32_t interest_of(uint32_t epoll_mask) {
  uint32_t i = 0;
  if (epoll_mask & EPOLLIN) i |= ev::readable | ev::accept | ev::peer_closed;
  if (epoll_mask & EPOLLOUT) i |= ev::writable | ev::connected;
  if (epoll_mask & EPOLLRDHUP) i |= ev::peer_closed;
  return i;
}

bool has_handle(const Sock* s) { return s->tcp ? (s->conn.valid() || s->lst.valid()) : s->udp.valid(); }

SocketRef ref_of(const Sock* s) {
  if (!s->tcp) return s->udp;
  if (s->lst.valid()) return s->lst;
  return s->conn;
}

int attach_epoll(Sock* s) {
  if (s->ep == nullptr || s->ep_attached || !has_handle(s)) return 0;
  const Trigger t = (s->ep_mask & EPOLLET) ? Trigger::edge : Trigger::level;
  Status st = std::visit(
      [&](const auto& h) -> Status {
        using H = std::decay_t<decltype(h)>;
        if constexpr (std::is_same_v<H, TcpConnection>) {
          return s->ep->poller.add(h, interest_of(s->ep_mask), static_cast<uint64_t>(s->fd), t);
        } else {
          return s->ep->poller.add(h, static_cast<uint64_t>(s->fd), t);
        }
      },
      ref_of(s));
  if (!st) return to_errno(st.error().code);
  s->ep_attached = true;
  return 0;
}

// Keep @p s in its set's UDP EPOLLOUT list exactly while it is a UDP member asking for EPOLLOUT.
void track_udp_out(Sock* s, bool member) {
  if (s->tcp || s->ep == nullptr) return;
  auto& v = s->ep->udp_out;
  std::erase(v, s->fd);
  if (member && (s->ep_mask & EPOLLOUT)) {
    v.push_back(s->fd);
    s->ep_out_pending = true;
  }
}

void detach_epoll(Sock* s) {
  if (s->ep == nullptr) return;
  track_udp_out(s, false);
  if (s->ep_attached && has_handle(s)) (void)s->ep->poller.remove(ref_of(s));
  s->ep_attached = false;
  --s->ep->members;
  s->ep = nullptr;
}

// Forget the tern side of epoll descriptor @p fd (closed, or replaced by dup2): its members leave.
// @return whether @p fd had one.
bool drop_epoll_set(int fd) {
  EpollSet* ep = epoll_of(fd);
  if (ep == nullptr) return false;
  g_epolls[fd].store(nullptr, std::memory_order_release);
  for (int i = 0; i < kMaxFd && ep->members > 0; ++i) {
    Sock* s = sock_of(i);
    if (s != nullptr && s->ep == ep) detach_epoll(s);
  }
  delete ep;
  return true;
}

// Readiness of @p s as poll() reports it.
short poll_bits(Sock* s) {
  short r = 0;
  if (!s->tcp) {
    if (!s->udp.valid()) return POLLOUT;  // unbound: writable (sendto binds)
    if (s->udp.queued() > 0) r |= POLLIN;
    if (s->udp.get()->has_error()) r |= POLLERR;
    return static_cast<short>(r | POLLOUT);
  }
  if (s->lst.valid()) return s->lst.pending() > 0 ? POLLIN : 0;
  if (!s->conn.valid())
    return s->connecting ? 0 : static_cast<short>(POLLOUT | POLLHUP);  // as Linux, unconnected
  const tcp::State st = s->conn.state();
  if (s->conn.error()) return POLLIN | POLLOUT | POLLERR | POLLHUP;
  if (st == tcp::State::syn_sent || st == tcp::State::syn_received) return 0;
  if (s->conn.readable() > 0 || s->conn.peer_closed() || s->shut_rd) r |= POLLIN;
  if (s->conn.peer_closed()) r |= POLLRDHUP;
  if ((st == tcp::State::established || st == tcp::State::close_wait) && s->conn.get()->writable_now())
    r |= POLLOUT;
  if (s->conn.peer_closed() && st != tcp::State::established && st != tcp::State::close_wait) r |= POLLHUP;
  return r;
}

// ---- TCP connection helpers ----

void apply_options(const Sock* s, TcpConnection& c) {
  (void)c.set_nodelay(s->opt.nodelay);
  (void)c.set_keepalive(s->opt.keepalive);
  if (s->opt.user_timeout_ns) (void)c.set_user_timeout(s->opt.user_timeout_ns);
  if (s->opt.notsent_lowat) (void)c.set_notsent_lowat(s->opt.notsent_lowat);
  if (s->opt.cork) (void)c.set_cork(true);
  if (s->opt.linger_ns) (void)c.set_linger(s->opt.linger_ns);
}

// The connection's error as an errno, once (then the stream reads as ended / writes as EPIPE).
int take_conn_error(Sock* s) {
  if (s->so_error != 0) return std::exchange(s->so_error, 0);
  if (s->err_reported) return 0;
  auto e = s->conn.error();
  if (!e) return 0;
  s->err_reported = true;
  return to_errno(e->code);
}

// Finish a non-blocking connect whose outcome is known (for SO_ERROR, the next call).
void settle_connect(Sock* s) {
  if (!s->connecting || !s->conn.valid()) return;
  const tcp::State st = s->conn.state();
  if (st == tcp::State::syn_sent || st == tcp::State::syn_received) return;
  s->connecting = false;
  if (auto e = s->conn.error()) {
    s->so_error = to_errno(e->code);
    s->err_reported = true;
  }
}

ssize_t tcp_recv(Sock* s, void* buf, size_t n, int flags) {
  if (s->lst.valid() || (!s->conn.valid() && !s->connecting)) return fail(ENOTCONN);
  if (flags & MSG_PEEK) return unsupported("recv(MSG_PEEK)");
  if (s->shut_rd) return 0;
  const bool nb = s->nonblock || (flags & MSG_DONTWAIT);
  std::span<uint8_t> out(static_cast<uint8_t*>(buf), n);
  size_t done = 0;
  auto attempt = [&]() -> int {  // 1 done, 0 again, -1 error (errno set)
    if (!s->conn.valid()) return fail(ENOTCONN);
    auto r = s->conn.recv(out.subspan(done));
    if (r) {
      done += *r;
      if (*r == 0 || !(flags & MSG_WAITALL) || done == n) return 1;
      return 0;
    }
    if (r.error().code == Errc::would_block) return 0;
    if (int e = take_conn_error(s); e != 0) return fail(e);
    return 1;  // error already reported: end of stream
  };
  if (n == 0) return 0;
  int rc = attempt();
  if (rc == 0) {
    if (nb) {  // never waits: partial data (MSG_WAITALL) is returned as Linux does
      if (done == 0) {
        drive();
        rc = attempt();
      }
      if (rc == 0 && done == 0) return fail(EAGAIN);
    } else {
      const uint64_t deadline = deadline_after(s->rcvtimeo_ns);
      wait_until([&] { return (rc = attempt()) != 0; }, deadline, wait_for_timeout(s->rcvtimeo_ns));
      if (rc == 0 && done == 0) return fail(wait_errno(EAGAIN));
    }
  }
  if (rc < 0 && done == 0) return -1;
  return static_cast<ssize_t>(done);
}

ssize_t tcp_send(Sock* s, const void* buf, size_t n, int flags) {
  settle_connect(s);
  if (s->lst.valid() || !s->conn.valid()) {
    // As Linux (sk_stream_wait_connect): a stream that is not connected and not connecting: EPIPE.
    if (!(flags & MSG_NOSIGNAL)) raise(SIGPIPE);
    return fail(EPIPE);
  }
  const bool nb = s->nonblock || (flags & MSG_DONTWAIT);
  const uint32_t sflags = (flags & MSG_MORE) ? tcp::send_flag::more : 0;
  std::span<const uint8_t> in(static_cast<const uint8_t*>(buf), n);
  size_t done = 0;
  int err = 0;
  auto push = [&]() -> bool {  // true: finished (all sent, or an error)
    while (done < n) {
      auto r = s->conn.send(in.subspan(done), sflags);
      if (r) {
        done += *r;
        continue;
      }
      if (r.error().code == Errc::would_block) return false;
      err = take_conn_error(s);
      if (err == 0) err = EPIPE;
      return true;
    }
    return true;
  };
  if (n == 0) return 0;
  const tcp::State st = s->conn.state();
  if (st == tcp::State::syn_sent || st == tcp::State::syn_received) {
    if (nb) return fail(EAGAIN);
    const bool up = wait_until(
        [&] {
          return s->conn.state() != tcp::State::syn_sent && s->conn.state() != tcp::State::syn_received;
        },
        deadline_after(s->sndtimeo_ns), wait_for_timeout(s->sndtimeo_ns));
    if (!up && t_interrupted) return fail(EINTR);
  }
  t_interrupted = false;
  if (!push() && !nb) {
    wait_until([&] { return push(); }, deadline_after(s->sndtimeo_ns), wait_for_timeout(s->sndtimeo_ns));
  }
  if (done > 0) return static_cast<ssize_t>(done);  // a signal after some data: the count, as Linux
  if (err == 0 && t_interrupted) return fail(EINTR);
  if (err != 0) {
    if (err == EPIPE && !(flags & MSG_NOSIGNAL)) raise(SIGPIPE);  // as the kernel: EPIPE comes with SIGPIPE
    return fail(err);
  }
  return fail(EAGAIN);
}

// ---- UDP helpers ----

int udp_autobind(Sock* s) {
  if (s->udp.valid()) return 0;
  auto u = g_rt->net->udp_bind(s->bound ? s->local.port : 0);
  if (!u) return to_errno(u.error().code);
  s->udp = *u;
  s->bound = true;
  s->local.port = u->port();
  return attach_epoll(s);
}

ssize_t udp_send(Sock* s, const void* buf, size_t n, int flags, const sockaddr* to, socklen_t tolen) {
  Endpoint dst;
  if (to != nullptr) {
    if (int e = to_endpoint(to, tolen, dst); e != 0) return fail(e);
    if (dst.addr.is_broadcast() && !s->broadcast) return fail(EACCES);
  } else {
    if (!s->has_peer) return fail(EDESTADDRREQ);
    dst = s->peer;
  }
  (void)flags;
  if (n > 65507) return fail(EMSGSIZE);
  if (int e = udp_autobind(s); e != 0) return fail(e);
  auto r = s->udp.send(std::span<const uint8_t>(static_cast<const uint8_t*>(buf), n), dst);
  if (!r) return fail(to_errno(r.error().code));
  return static_cast<ssize_t>(n);
}

// Receive one datagram into @p iov (one copy, from the mbufs into the caller's pieces).
ssize_t udp_recv(Sock* s, const iovec* iov, size_t niov, int flags, sockaddr* from, socklen_t* fromlen,
                 int* msg_flags) {
  if (flags & MSG_PEEK) return unsupported("recv(MSG_PEEK)");
  if (int e = udp_autobind(s); e != 0) return fail(e);
  const bool nb = s->nonblock || (flags & MSG_DONTWAIT);
  Packet p;
  Endpoint src;
  ssize_t len = -1;
  auto attempt = [&]() -> bool {
    for (;;) {
      if (auto e = s->udp.take_error()) {
        len = fail(to_errno(e->code));
        return true;
      }
      auto r = s->udp.recv(p, &src);
      if (!r) return false;
      if (s->has_peer && !(src == s->peer)) continue;  // a connected socket hears only its peer
      len = static_cast<ssize_t>(*r);
      return true;
    }
  };
  if (!attempt()) {
    if (nb) {
      drive();
      if (!attempt()) return fail(EAGAIN);
    } else if (!wait_until(attempt, deadline_after(s->rcvtimeo_ns), wait_for_timeout(s->rcvtimeo_ns))) {
      return fail(wait_errno(EAGAIN));
    }
  }
  if (len < 0) return -1;
  size_t take = 0;
  for (size_t i = 0; i < niov && take < static_cast<size_t>(len); ++i) {
    const size_t k = std::min(iov[i].iov_len, static_cast<size_t>(len) - take);
    if (k > 0 && p)
      p.copy_out(static_cast<uint32_t>(take), std::span<uint8_t>(static_cast<uint8_t*>(iov[i].iov_base), k));
    take += k;
  }
  if (msg_flags != nullptr && take < static_cast<size_t>(len)) *msg_flags |= MSG_TRUNC;
  from_endpoint(src, from, fromlen);
  return (flags & MSG_TRUNC) ? len : static_cast<ssize_t>(take);
}

// Gather @p iov into one contiguous buffer (thread-local scratch).
std::span<const uint8_t> gather(const iovec* iov, int iovcnt) {
  thread_local std::vector<uint8_t> scratch;
  scratch.clear();
  for (int i = 0; i < iovcnt; ++i) {
    const auto* b = static_cast<const uint8_t*>(iov[i].iov_base);
    scratch.insert(scratch.end(), b, b + iov[i].iov_len);
  }
  return scratch;
}

}  // namespace

void set_port_factory(PortFactory factory) { factory_slot() = std::move(factory); }

int init(const config::StackConfig& cfg) { return start(cfg); }

Stack* stack() noexcept { return g_rt != nullptr ? g_rt->stack.get() : nullptr; }

}  // namespace tern::posix

// ---- the C API ----

using namespace tern;         // NOLINT
using namespace tern::posix;  // NOLINT

extern "C" {

int tern_posix_init(const char* config_path) {
  const char* path = config_path != nullptr ? config_path : std::getenv("TERN_CONFIG");
  if (path == nullptr || *path == '\0') {
    TERN_LOG_ERROR("tern-posix: no configuration: set TERN_CONFIG to a tern YAML file (docs/posix.md)");
    return fail(EINVAL);
  }
  auto loaded = config::load_file(path);
  if (auto* e = std::get_if<config::ConfigError>(&loaded)) {
    TERN_LOG_ERROR("tern-posix: %s", e->message.c_str());
    return fail(EINVAL);
  }
  return start(std::get<config::StackConfig>(loaded));
}

void tern_posix_shutdown(int timeout_ms) {
  Runtime* rt = g_rt;
  if (rt == nullptr || rt->failed || rt->forked_child || rt->core == nullptr || !on_owner_thread()) return;
  // Close what the application left open (gracefully), then let the connections finish.
  for (int fd = 0; fd < kMaxFd && rt->open > 0; ++fd) {
    if (sock_of(fd) != nullptr) (void)tern_close(fd);
  }
  const uint64_t deadline = monotonic_ns() + static_cast<uint64_t>(std::max(timeout_ms, 0)) * 1'000'000;
  wait_until([&] { return rt->core->tcp().connections() == 0; }, deadline, Wait::to_the_end);
  InTern guard;
  rt->net.reset();
  rt->core = nullptr;
  (void)rt->stack->shutdown();
  rt->stack.reset();
  rt->failed = true;  // no restart in this process (EAL starts once)
}

int tern_is_socket(int fd) { return sock_of(fd) != nullptr ? 1 : 0; }

int tern_socket(int domain, int type, int protocol) {
  const int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  const bool stream = base == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP);
  const bool dgram = base == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP);
  if (domain != AF_INET || (!stream && !dgram) || t_in_tern) return real().socket(domain, type, protocol);
  if (ensure_started() != 0) return -1;
  const int fd = reserve_fd(type & SOCK_CLOEXEC);
  if (fd < 0) return -1;
  if (fd >= kMaxFd) {
    real().close(fd);
    return fail(EMFILE);
  }
  auto* s = new Sock;
  s->fd = fd;
  s->tcp = stream;
  s->nonblock = type & SOCK_NONBLOCK;
  s->opt = g_rt->core->tcp().params().socket;
  install(s);
  return fd;
}

int tern_bind(int fd, const sockaddr* addr, socklen_t len) {
  int err = 0;
  Sock* s = checked(fd, &err);
  if (s == nullptr) return err != 0 ? -1 : real().bind(fd, addr, len);
  Endpoint ep;
  if (int e = to_endpoint(addr, len, ep); e != 0) return fail(e);
  if (s->bound || has_handle(s)) return fail(EINVAL);
  if (is_loopback(ep.addr)) {
    if (int e = to_kernel(s); e != 0) return fail(e);
    return real().bind(fd, addr, len);
  }
  if (!ep.addr.is_unspecified() && !g_rt->core->ipv4().is_local(ep.addr)) return fail(EADDRNOTAVAIL);
  s->local = ep;
  s->bound = true;
  if (!s->tcp) {
    if (int e = udp_autobind(s); e != 0) {
      s->bound = false;
      return fail(e);
    }
  }
  return 0;
}

int tern_listen(int fd, int backlog) {
  int err = 0;
  Sock* s = checked(fd, &err);
  if (s == nullptr) return err != 0 ? -1 : real().listen(fd, backlog);
  if (!s->tcp) return fail(EOPNOTSUPP);
  if (s->conn.valid()) return fail(EINVAL);
  if (s->lst.valid()) return 0;  // a second listen() changes the backlog only
  tcp::ListenOptions lo;
  lo.backlog = static_cast<uint32_t>(std::clamp(backlog <= 0 ? 128 : backlog, 1, 65535));
  lo.socket = s->opt;
  Result<TcpListener> l = make_error(Errc::exists, "");
  if (s->bound && s->local.port != 0) {
    l = g_rt->net->listen(s->local.port, lo);
  } else {
    for (uint32_t tries = 0; tries < 4096; ++tries) {  // bind(port 0) or none: an ephemeral port
      const auto port = static_cast<uint16_t>(49152 + (monotonic_ns() + tries * 7919) % 16384);
      l = g_rt->net->listen(port, lo);
      if (l || l.error().code != Errc::exists) break;
    }
  }
  if (!l) return fail(to_errno(l.error().code));
  s->lst = *l;
  s->bound = true;
  s->local.port = l->port();
  if (int e = attach_epoll(s); e != 0) return fail(e);
  return 0;
}

int tern_accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  int err = 0;
  Sock* s = checked(fd, &err);
  if (s == nullptr) return err != 0 ? -1 : real().accept4(fd, addr, len, flags);
  if (!s->tcp) return fail(EOPNOTSUPP);
  if (!s->lst.valid()) return fail(EINVAL);
  if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != 0) return fail(EINVAL);
  Result<TcpConnection> c = s->lst.accept();
  if (!c) {
    if (s->nonblock) {
      drive();
      c = s->lst.accept();
      if (!c) return fail(EAGAIN);
    } else {
      wait_until([&] { return (c = s->lst.accept()).ok(); }, deadline_after(s->rcvtimeo_ns),
                 wait_for_timeout(s->rcvtimeo_ns));
      if (!c) return fail(wait_errno(EAGAIN));
    }
  }
  const int nfd = reserve_fd(flags & SOCK_CLOEXEC);
  if (nfd < 0 || nfd >= kMaxFd) {
    (void)c->abort();
    if (nfd >= 0) real().close(nfd);
    return fail(EMFILE);
  }
  auto* n = new Sock;
  n->fd = nfd;
  n->tcp = true;
  n->nonblock = flags & SOCK_NONBLOCK;
  n->conn = *c;
  n->opt = s->opt;
  // Options set on the listener after listen() (nginx sets SO_KEEPALIVE and buffers then).
  apply_options(n, n->conn);
  (void)n->conn.set_recv_buffer(n->opt.recv_buffer);
  (void)n->conn.set_send_buffer(n->opt.send_buffer);
  (void)n->conn.set_congestion(n->opt.congestion);
  if (n->opt.max_segment != 0) (void)n->conn.set_max_segment(n->opt.max_segment);
  n->bound = true;
  n->local = c->local().value_or(Endpoint{});
  install(n);
  if (addr != nullptr && len != nullptr) from_endpoint(c->remote().value_or(Endpoint{}), addr, len);
  return nfd;
}

int tern_accept(int fd, sockaddr* addr, socklen_t* len) {
  if (sock_of(fd) == nullptr) return real().accept(fd, addr, len);
  return tern_accept4(fd, addr, len, 0);
}

int tern_connect(int fd, const sockaddr* addr, socklen_t len) {
  int err = 0;
  Sock* s = checked(fd, &err);
  if (s == nullptr) return err != 0 ? -1 : real().connect(fd, addr, len);
  if (!s->tcp && addr != nullptr && addr->sa_family == AF_UNSPEC) {  // UDP: dissolve the association
    s->has_peer = false;
    return 0;
  }
  Endpoint ep;
  if (int e = to_endpoint(addr, len, ep); e != 0) return fail(e);
  if (is_loopback(ep.addr) && !has_handle(s)) {
    if (int e = to_kernel(s); e != 0) return fail(e);
    return real().connect(fd, addr, len);
  }
  if (!s->tcp) {
    if (ep.addr.is_broadcast() && !s->broadcast) return fail(EACCES);
    s->peer = ep;
    s->has_peer = true;
    if (int e = udp_autobind(s); e != 0) return fail(e);
    return 0;
  }
  if (s->lst.valid()) return fail(EISCONN);
  if (s->conn.valid()) {
    // As Linux's inet_stream_connect(): the call after a non-blocking connect completed reports
    // its outcome (0 or the error) once; later calls answer EISCONN.
    if (s->ss_connected) return fail(EISCONN);
    settle_connect(s);
    if (s->connecting) return fail(EALREADY);
    s->ss_connected = true;
    if (s->so_error != 0) return fail(std::exchange(s->so_error, 0));
    if (auto e = s->conn.error(); e && !s->err_reported) {
      s->err_reported = true;
      return fail(to_errno(e->code));
    }
    return 0;
  }
  tcp::ConnectOptions co;
  co.socket = s->opt;
  if (s->bound) {
    co.local_port = s->local.port;
    co.local_addr = s->local.addr;
  }
  auto c = g_rt->net->connect(ep, co);
  if (!c) return fail(c.error().code == Errc::exists ? EADDRNOTAVAIL : to_errno(c.error().code));
  s->conn = *c;
  s->bound = true;
  s->local = c->local().value_or(Endpoint{});
  s->connecting = true;
  if (int e = attach_epoll(s); e != 0) return fail(e);
  if (s->nonblock) {
    drive();  // the SYN leaves now
    return fail(EINPROGRESS);
  }
  wait_until(
      [&] {
        const tcp::State st = s->conn.state();
        return st != tcp::State::syn_sent && st != tcp::State::syn_received;
      },
      deadline_after(s->sndtimeo_ns), wait_for_timeout(s->sndtimeo_ns));
  settle_connect(s);
  // SO_SNDTIMEO passed, or a signal (EINTR): the attempt goes on; the next connect() says EALREADY.
  if (s->connecting) return fail(wait_errno(ETIMEDOUT));
  s->ss_connected = true;
  if (s->so_error != 0) return fail(std::exchange(s->so_error, 0));
  return 0;
}

ssize_t tern_recvfrom(int fd, void* buf, size_t n, int flags, sockaddr* from, socklen_t* fromlen) {
  int err = 0;
  Sock* s = checked(fd, &err);
  if (s == nullptr) return err != 0 ? -1 : real().recvfrom(fd, buf, n, flags, from, fromlen);
  if (s->tcp) {
    ssize_t r = tcp_recv(s, buf, n, flags);
    if (r >= 0 && from != nullptr && fromlen != nullptr) *fromlen = 0;  // as Linux for a connected stream
    return r;
  }
  const iovec one{buf, n};
  return udp_recv(s, &one, 1, flags, from, fromlen, nullptr);
}

ssize_t tern_recv(int fd, void* buf, size_t n, int flags) {
  if (sock_of(fd) == nullptr) return real().recv(fd, buf, n, flags);
  return tern_recvfrom(fd, buf, n, flags, nullptr, nullptr);
}

ssize_t tern_read(int fd, void* buf, size_t n) {
  if (sock_of(fd) == nullptr) return real().read(fd, buf, n);
  return tern_recvfrom(fd, buf, n, 0, nullptr, nullptr);
}

ssize_t tern_sendto(int fd, const void* buf, size_t n, int flags, const sockaddr* to, socklen_t len) {
  int err = 0;
  Sock* s = checked(fd, &err);
  if (s == nullptr) return err != 0 ? -1 : real().sendto(fd, buf, n, flags, to, len);
  if (s->tcp) {
    if (to != nullptr && s->conn.valid()) return fail(EISCONN);
    return tcp_send(s, buf, n, flags);
  }
  return udp_send(s, buf, n, flags, to, len);
}

ssize_t tern_send(int fd, const void* buf, size_t n, int flags) {
  if (sock_of(fd) == nullptr) return real().send(fd, buf, n, flags);
  return tern_sendto(fd, buf, n, flags, nullptr, 0);
}

ssize_t tern_write(int fd, const void* buf, size_t n) {
  if (sock_of(fd) == nullptr) return real().write(fd, buf, n);
  return tern_sendto(fd, buf, n, 0, nullptr, 0);
}

ssize_t tern_recvmsg(int fd, msghdr* msg, int flags) {
  int err = 0;
  Sock* s = checked(fd, &err);
  if (s == nullptr) return err != 0 ? -1 : real().recvmsg(fd, msg, flags);
  msg->msg_flags = 0;
  msg->msg_controllen = 0;
  if (s->tcp) {
    ssize_t total = 0;
    for (size_t i = 0; i < msg->msg_iovlen; ++i) {
      if (msg->msg_iov[i].iov_len == 0) continue;
      // Only the first piece may wait; later ones take what is there.
      const ssize_t r = tcp_recv(s, msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len,
                                 total > 0 ? (flags | MSG_DONTWAIT) & ~MSG_WAITALL : flags);
      if (r < 0) {
        if (total > 0) break;
        return -1;
      }
      total += r;
      if (static_cast<size_t>(r) < msg->msg_iov[i].iov_len) break;
    }
    msg->msg_namelen = 0;
    return total;
  }
  socklen_t nl = msg->msg_namelen;
  const ssize_t r = udp_recv(s, msg->msg_iov, msg->msg_iovlen, flags, static_cast<sockaddr*>(msg->msg_name),
                             msg->msg_name ? &nl : nullptr, &msg->msg_flags);
  if (r < 0) return -1;
  if (msg->msg_name != nullptr) msg->msg_namelen = nl;
  return r;
}

ssize_t tern_sendmsg(int fd, const msghdr* msg, int flags) {
  int err = 0;
  Sock* s = checked(fd, &err);
  if (s == nullptr) return err != 0 ? -1 : real().sendmsg(fd, msg, flags);
  if (msg->msg_controllen != 0) return unsupported("sendmsg with ancillary data");
  if (s->tcp) {
    ssize_t total = 0;
    for (size_t i = 0; i < msg->msg_iovlen; ++i) {
      if (msg->msg_iov[i].iov_len == 0) continue;
      bool later = false;  // a later non-empty piece follows: hold a partial segment for it
      for (size_t j = i + 1; j < msg->msg_iovlen && !later; ++j) later = msg->msg_iov[j].iov_len != 0;
      // A blocking socket writes everything, as Linux; only a non-blocking one stops short.
      const int f = flags | (later ? MSG_MORE : 0);
      const ssize_t r = tcp_send(s, msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len, f | MSG_NOSIGNAL);
      if (r < 0) {
        if (total > 0) break;
        if (errno == EPIPE && !(flags & MSG_NOSIGNAL)) raise(SIGPIPE);
        return -1;
      }
      total += r;
      if (static_cast<size_t>(r) < msg->msg_iov[i].iov_len) break;
    }
    return total;
  }
  // One piece goes straight to the engine (one copy into the mbufs); several are gathered first.
  auto data = msg->msg_iovlen == 1
                  ? std::span<const uint8_t>(static_cast<const uint8_t*>(msg->msg_iov[0].iov_base),
                                             msg->msg_iov[0].iov_len)
                  : gather(msg->msg_iov, static_cast<int>(msg->msg_iovlen));
  return udp_send(s, data.data(), data.size(), flags, static_cast<const sockaddr*>(msg->msg_name),
                  msg->msg_namelen);
}

int tern_recvmmsg(int fd, mmsghdr* msgs, unsigned int n, int flags, timespec* timeout) {
  if (sock_of(fd) == nullptr) return real().recvmmsg(fd, msgs, n, flags, timeout);
  if (n > UIO_MAXIOV) n = UIO_MAXIOV;  // as Linux
  const uint64_t deadline = timeout == nullptr
                                ? UINT64_MAX
                                : monotonic_ns() + static_cast<uint64_t>(timeout->tv_sec) * 1'000'000'000 +
                                      static_cast<uint64_t>(timeout->tv_nsec);
  int f = flags & ~MSG_WAITFORONE;
  unsigned int got = 0;
  while (got < n) {
    const ssize_t r = tern_recvmsg(fd, &msgs[got].msg_hdr, f);
    if (r < 0) return got > 0 ? static_cast<int>(got) : -1;
    msgs[got++].msg_len = static_cast<unsigned int>(r);
    if (flags & MSG_WAITFORONE) f |= MSG_DONTWAIT;  // the rest: what is there
    if (monotonic_ns() >= deadline) break;          // as Linux: checked after each message
  }
  return static_cast<int>(got);
}

int tern_sendmmsg(int fd, mmsghdr* msgs, unsigned int n, int flags) {
  if (sock_of(fd) == nullptr) return real().sendmmsg(fd, msgs, n, flags);
  if (n > UIO_MAXIOV) n = UIO_MAXIOV;
  unsigned int sent = 0;
  for (; sent < n; ++sent) {
    const ssize_t r = tern_sendmsg(fd, &msgs[sent].msg_hdr, flags);
    if (r < 0) return sent > 0 ? static_cast<int>(sent) : -1;
    msgs[sent].msg_len = static_cast<unsigned int>(r);
  }
  return static_cast<int>(sent);
}

ssize_t tern_readv(int fd, const iovec* iov, int iovcnt) {
  if (sock_of(fd) == nullptr) return real().readv(fd, iov, iovcnt);
  msghdr m{};
  m.msg_iov = const_cast<iovec*>(iov);
  m.msg_iovlen = static_cast<size_t>(iovcnt);
  return tern_recvmsg(fd, &m, 0);
}

ssize_t tern_writev(int fd, const iovec* iov, int iovcnt) {
  if (sock_of(fd) == nullptr) return real().writev(fd, iov, iovcnt);
  msghdr m{};
  m.msg_iov = const_cast<iovec*>(iov);
  m.msg_iovlen = static_cast<size_t>(iovcnt);
  return tern_sendmsg(fd, &m, 0);
}

ssize_t tern_sendfile(int out_fd, int in_fd, off_t* offset, size_t count) {
  int err = 0;
  Sock* s = checked(out_fd, &err);
  if (s == nullptr) return err != 0 ? -1 : real().sendfile(out_fd, in_fd, offset, count);
  if (!s->tcp) return unsupported("sendfile to a UDP socket", EINVAL);
  thread_local std::vector<uint8_t> buf(64 * 1024);
  size_t done = 0;
  off_t pos = offset != nullptr ? *offset : 0;
  while (done < count) {
    const size_t want = std::min(buf.size(), count - done);
    const ssize_t got =
        offset != nullptr ? pread(in_fd, buf.data(), want, pos) : real().read(in_fd, buf.data(), want);
    if (got < 0) {
      if (done > 0) break;
      return -1;
    }
    if (got == 0) break;
    const ssize_t sent = tcp_send(s, buf.data(), static_cast<size_t>(got), done > 0 ? MSG_DONTWAIT : 0);
    if (sent < 0) {
      if (done > 0) break;
      return -1;
    }
    done += static_cast<size_t>(sent);
    pos += sent;
    if (sent < got) {
      if (offset == nullptr) (void)lseek(in_fd, sent - got, SEEK_CUR);  // give back what did not fit
      break;
    }
  }
  if (offset != nullptr) *offset = pos;
  return static_cast<ssize_t>(done);
}

int tern_shutdown(int fd, int how) {
  int err = 0;
  Sock* s = checked(fd, &err);
  if (s == nullptr) return err != 0 ? -1 : real().shutdown(fd, how);
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return fail(EINVAL);
  if (!s->tcp) return s->has_peer ? 0 : fail(ENOTCONN);
  if (!s->conn.valid()) return fail(ENOTCONN);
  if (how == SHUT_RD || how == SHUT_RDWR) s->shut_rd = true;
  if (how == SHUT_WR || how == SHUT_RDWR) {
    if (Status st = s->conn.shutdown(); !st) return fail(to_errno(st.error().code));
    drive();  // the FIN leaves now
  }
  return 0;
}

int tern_close(int fd) {
  if (drop_epoll_set(fd)) return real().close(fd);
  int err = 0;
  Sock* s = checked(fd, &err);
  if (s == nullptr) return err != 0 ? -1 : real().close(fd);
  detach_epoll(s);
  if (s->conn.valid()) (void)s->conn.close();
  if (s->lst.valid()) (void)s->lst.close();
  if (s->udp.valid()) (void)s->udp.close();
  uninstall(s, true);
  drive();  // a FIN (or RST) leaves now
  return 0;
}

int tern_getsockname(int fd, sockaddr* addr, socklen_t* len) {
  int err = 0;
  Sock* s = checked(fd, &err);
  if (s == nullptr) return err != 0 ? -1 : real().getsockname(fd, addr, len);
  if (addr == nullptr || len == nullptr) return fail(EFAULT);
  Endpoint ep = s->local;
  if (s->conn.valid()) ep = s->conn.local().value_or(ep);
  if (s->udp.valid()) ep.port = s->udp.port();
  from_endpoint(ep, addr, len);
  return 0;
}

int tern_getpeername(int fd, sockaddr* addr, socklen_t* len) {
  int err = 0;
  Sock* s = checked(fd, &err);
  if (s == nullptr) return err != 0 ? -1 : real().getpeername(fd, addr, len);
  if (addr == nullptr || len == nullptr) return fail(EFAULT);
  if (!s->tcp) {
    if (!s->has_peer) return fail(ENOTCONN);
    from_endpoint(s->peer, addr, len);
    return 0;
  }
  settle_connect(s);
  if (!s->conn.valid() || s->connecting) return fail(ENOTCONN);
  const tcp::State st = s->conn.state();
  if (st == tcp::State::closed && s->conn.error()) return fail(ENOTCONN);
  from_endpoint(s->conn.remote().value_or(Endpoint{}), addr, len);
  return 0;
}

}  // extern "C"

// ---- options ----

namespace tern::posix {
namespace {

template <class T>
int put(void* val, socklen_t* len, T v) {
  if (val == nullptr || len == nullptr) return fail(EFAULT);
  std::memcpy(val, &v, std::min<size_t>(*len, sizeof(T)));
  *len = static_cast<socklen_t>(std::min<size_t>(*len, sizeof(T)));
  return 0;
}

int get_int(const void* val, socklen_t len, int& out) {
  if (val == nullptr) return EFAULT;
  if (len < static_cast<socklen_t>(sizeof(int))) return EINVAL;
  std::memcpy(&out, val, sizeof(int));
  return 0;
}

uint64_t from_timeval(const void* val, socklen_t len, int& err) {
  timeval tv{};
  if (val == nullptr || len < static_cast<socklen_t>(sizeof(tv))) {
    err = EINVAL;
    return 0;
  }
  std::memcpy(&tv, val, sizeof(tv));
  if (tv.tv_usec < 0 || tv.tv_usec >= 1'000'000 || tv.tv_sec < 0) {
    err = EDOM;
    return 0;
  }
  return static_cast<uint64_t>(tv.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(tv.tv_usec) * 1000;
}

timeval to_timeval(uint64_t ns) {
  return timeval{static_cast<time_t>(ns / 1'000'000'000),
                 static_cast<suseconds_t>(ns % 1'000'000'000 / 1000)};
}

// Apply the option state in s->opt to the live connection (after a setsockopt).
void refresh(Sock* s) {
  if (s->conn.valid()) apply_options(s, s->conn);
}

int set_socket_level(Sock* s, int name, const void* val, socklen_t len) {
  int v = 0;
  int e = 0;
  switch (name) {
    case SO_REUSEADDR:
      if ((e = get_int(val, len, v)) != 0) return fail(e);
      s->reuseaddr = v != 0;
      s->opt.reuse_time_wait = v != 0;
      return 0;
    case SO_REUSEPORT:
      if ((e = get_int(val, len, v)) != 0) return fail(e);
      s->reuseport = v != 0;
      return 0;
    case SO_KEEPALIVE:
      if ((e = get_int(val, len, v)) != 0) return fail(e);
      s->opt.keepalive.enabled = v != 0;
      refresh(s);
      return 0;
    case SO_BROADCAST:
      if ((e = get_int(val, len, v)) != 0) return fail(e);
      s->broadcast = v != 0;
      return 0;
    case SO_LINGER: {
      linger l{};
      if (val == nullptr || len < static_cast<socklen_t>(sizeof(l))) return fail(EINVAL);
      std::memcpy(&l, val, sizeof(l));
      if (l.l_onoff) {
        s->opt.linger_ns = static_cast<uint64_t>(std::max(l.l_linger, 0)) * 1'000'000'000;
      } else {
        s->opt.linger_ns.reset();
      }
      if (s->conn.valid()) (void)s->conn.set_linger(s->opt.linger_ns);
      return 0;
    }
    case SO_RCVBUF:
    case SO_SNDBUF: {
      if ((e = get_int(val, len, v)) != 0) return fail(e);
      // As Linux: the value is doubled (room for overhead), and clamped to what tern accepts.
      const auto bytes = static_cast<uint32_t>(std::clamp<int64_t>(int64_t{v} * 2, 4096, 64 << 20));
      (name == SO_RCVBUF ? s->opt.recv_buffer : s->opt.send_buffer) = bytes;
      if (s->conn.valid()) {
        (void)(name == SO_RCVBUF ? s->conn.set_recv_buffer(bytes) : s->conn.set_send_buffer(bytes));
      }
      return 0;
    }
    case SO_RCVTIMEO:
    case SO_SNDTIMEO: {
      const uint64_t ns = from_timeval(val, len, e);
      if (e != 0) return fail(e);
      (name == SO_RCVTIMEO ? s->rcvtimeo_ns : s->sndtimeo_ns) = ns;
      return 0;
    }
    case SO_RCVLOWAT:
    case SO_SNDLOWAT:
      if ((e = get_int(val, len, v)) != 0) return fail(e);
      if (name == SO_SNDLOWAT) return fail(ENOPROTOOPT);  // as Linux
      return v <= 1 ? 0 : unsupported("SO_RCVLOWAT above 1");
    default:
      return unsupported("this SOL_SOCKET option", ENOPROTOOPT);
  }
}

int set_tcp_level(Sock* s, int name, const void* val, socklen_t len) {
  if (!s->tcp) return fail(EOPNOTSUPP);
  int v = 0;
  int e = 0;
  if (name == TCP_CONGESTION) {
    if (len < 1) return fail(EINVAL);  // as Linux (do_tcp_setsockopt)
    if (val == nullptr) return fail(EFAULT);
    std::string algo(static_cast<const char*>(val), strnlen(static_cast<const char*>(val), len));
    if (algo == "cubic") {
      s->opt.congestion = tcp::CcAlgo::cubic;
    } else if (algo == "reno" || algo == "newreno") {
      s->opt.congestion = tcp::CcAlgo::newreno;
    } else {
      return fail(ENOENT);
    }
    if (s->conn.valid()) (void)s->conn.set_congestion(s->opt.congestion);
    return 0;
  }
  if ((e = get_int(val, len, v)) != 0) return fail(e);
  switch (name) {
    case TCP_NODELAY:
      s->opt.nodelay = v != 0;
      break;
    case TCP_KEEPIDLE:
    case TCP_KEEPINTVL:
      if (v < 1 || v > 32767) return fail(EINVAL);
      (name == TCP_KEEPIDLE ? s->opt.keepalive.idle_ns : s->opt.keepalive.interval_ns) =
          static_cast<uint64_t>(v) * 1'000'000'000;
      break;
    case TCP_KEEPCNT:
      if (v < 1 || v > 127) return fail(EINVAL);
      s->opt.keepalive.count = static_cast<uint32_t>(v);
      break;
    case TCP_USER_TIMEOUT:
      if (v < 0) return fail(EINVAL);
      s->opt.user_timeout_ns = static_cast<uint64_t>(v) * 1'000'000;
      break;
    case TCP_NOTSENT_LOWAT:
      s->opt.notsent_lowat = static_cast<uint32_t>(std::max(v, 0));
      break;
    case TCP_CORK:
      s->opt.cork = v != 0;
      if (s->conn.valid()) {
        (void)s->conn.set_cork(s->opt.cork);
        if (!s->opt.cork) drive();  // uncorking sends the held tail now
      }
      return 0;
    case TCP_MAXSEG:
      if (v != 0 && (v < 88 || v > 65535)) return fail(EINVAL);
      s->opt.max_segment = static_cast<uint16_t>(v);
      if (s->conn.valid()) (void)s->conn.set_max_segment(s->opt.max_segment);
      return 0;
    case TCP_QUICKACK:
    case TCP_DEFER_ACCEPT:
    case TCP_FASTOPEN:
      return 0;  // hints tern may ignore (docs/posix.md)
    default:
      return unsupported("this IPPROTO_TCP option", ENOPROTOOPT);
  }
  refresh(s);
  return 0;
}

int get_socket_level(Sock* s, int name, void* val, socklen_t* len) {
  switch (name) {
    case SO_ERROR: {
      settle_connect(s);
      int e = 0;
      if (s->tcp && s->conn.valid()) {
        e = take_conn_error(s);
      } else if (!s->tcp && s->udp.valid()) {
        if (auto ue = s->udp.take_error()) e = to_errno(ue->code);
      } else {
        e = std::exchange(s->so_error, 0);
      }
      return put(val, len, e);
    }
    case SO_TYPE:
      return put(val, len, s->tcp ? SOCK_STREAM : SOCK_DGRAM);
    case SO_DOMAIN:
      return put(val, len, AF_INET);
    case SO_PROTOCOL:
      return put(val, len, s->tcp ? int{IPPROTO_TCP} : int{IPPROTO_UDP});
    case SO_ACCEPTCONN:
      return put(val, len, s->lst.valid() ? 1 : 0);
    case SO_REUSEADDR:
      return put(val, len, s->reuseaddr ? 1 : 0);
    case SO_REUSEPORT:
      return put(val, len, s->reuseport ? 1 : 0);
    case SO_KEEPALIVE:
      return put(val, len, s->opt.keepalive.enabled ? 1 : 0);
    case SO_BROADCAST:
      return put(val, len, s->broadcast ? 1 : 0);
    case SO_LINGER: {
      linger l{};
      l.l_onoff = s->opt.linger_ns.has_value();
      l.l_linger = static_cast<int>(s->opt.linger_ns.value_or(0) / 1'000'000'000);
      return put(val, len, l);
    }
    case SO_RCVBUF:
      return put(val, len, static_cast<int>(s->opt.recv_buffer));
    case SO_SNDBUF:
      return put(val, len, static_cast<int>(s->opt.send_buffer));
    case SO_RCVTIMEO:
      return put(val, len, to_timeval(s->rcvtimeo_ns));
    case SO_SNDTIMEO:
      return put(val, len, to_timeval(s->sndtimeo_ns));
    case SO_RCVLOWAT:
    case SO_SNDLOWAT:
      return put(val, len, 1);
    default:
      return unsupported("this SOL_SOCKET option", ENOPROTOOPT);
  }
}

int get_tcp_level(Sock* s, int name, void* val, socklen_t* len) {
  if (!s->tcp) return fail(EOPNOTSUPP);
  switch (name) {
    case TCP_NODELAY:
      return put(val, len, s->opt.nodelay ? 1 : 0);
    case TCP_KEEPIDLE:
      return put(val, len, static_cast<int>(s->opt.keepalive.idle_ns / 1'000'000'000));
    case TCP_KEEPINTVL:
      return put(val, len, static_cast<int>(s->opt.keepalive.interval_ns / 1'000'000'000));
    case TCP_KEEPCNT:
      return put(val, len, static_cast<int>(s->opt.keepalive.count));
    case TCP_USER_TIMEOUT:
      return put(val, len, static_cast<int>(s->opt.user_timeout_ns / 1'000'000));
    case TCP_NOTSENT_LOWAT:
      return put(val, len, static_cast<int>(s->opt.notsent_lowat));
    case TCP_CORK:
      return put(val, len, s->opt.cork ? 1 : 0);
    case TCP_MAXSEG: {
      auto info = s->conn.info();
      return put(val, len,
                 info ? static_cast<int>(info->mss) : (s->opt.max_segment ? s->opt.max_segment : 536));
    }
    case TCP_CONGESTION: {
      const char* algo = s->opt.congestion == tcp::CcAlgo::cubic ? "cubic" : "reno";
      if (val == nullptr || len == nullptr) return fail(EFAULT);
      const size_t n = std::min<size_t>(*len, std::strlen(algo) + 1);
      std::memcpy(val, algo, n);
      *len = static_cast<socklen_t>(n);
      return 0;
    }
    case TCP_INFO: {
      tcp_info ti{};
      if (auto info = s->conn.info()) {
        ti.tcpi_state =
            static_cast<uint8_t>(info->state == tcp::State::established ? TCP_ESTABLISHED : TCP_CLOSE);
        ti.tcpi_snd_mss = info->mss;
        ti.tcpi_rcv_mss = info->mss;
        ti.tcpi_snd_cwnd = info->mss ? info->cwnd / info->mss : 0;
        ti.tcpi_snd_ssthresh = info->mss ? info->ssthresh / info->mss : 0;
        ti.tcpi_rtt = static_cast<uint32_t>(info->srtt_ns / 1000);
        ti.tcpi_rttvar = static_cast<uint32_t>(info->rttvar_ns / 1000);
        ti.tcpi_rto = static_cast<uint32_t>(info->rto_ns / 1000);
        ti.tcpi_total_retrans = info->retransmits;
        ti.tcpi_snd_wscale = info->snd_wscale;
        ti.tcpi_rcv_wscale = info->rcv_wscale;
        ti.tcpi_unacked = info->mss ? info->bytes_in_flight / info->mss : 0;
      }
      return put(val, len, ti);
    }
    default:
      return unsupported("this IPPROTO_TCP option", ENOPROTOOPT);
  }
}

// Remember a setsockopt for a kernel socket that may replace this one (loopback destinations).
// Only while the socket has no handle (it can still become the kernel's); one entry per option, so
// an application toggling an option (nginx's TCP_CORK per response) does not grow the list.
void remember(Sock* s, int level, int name, const void* val, socklen_t len) {
  if (val == nullptr || len > 256 || has_handle(s)) return;
  const auto* b = static_cast<const uint8_t*>(val);
  for (auto& o : s->raw) {
    if (o.level == level && o.name == name) {
      o.val.assign(b, b + len);
      return;
    }
  }
  s->raw.push_back(Sock::RawOpt{level, name, std::vector<uint8_t>(b, b + len)});
}

}  // namespace
}  // namespace tern::posix

extern "C" {

int tern_setsockopt(int fd, int level, int name, const void* val, socklen_t len) {
  int err = 0;
  Sock* s = checked(fd, &err);
  if (s == nullptr) return err != 0 ? -1 : real().setsockopt(fd, level, name, val, len);
  int rc;
  if (level == SOL_SOCKET) {
    rc = set_socket_level(s, name, val, len);
  } else if (level == IPPROTO_TCP) {
    rc = set_tcp_level(s, name, val, len);
  } else if (level == IPPROTO_IP && name == IP_TOS) {
    int v = 0;
    if (int e = get_int(val, len, v); e != 0) return fail(e);
    s->ip_tos = v;  // kept for getsockopt; tern sets the DS field itself (ECN, docs/posix.md)
    rc = 0;
  } else {
    rc = unsupported("this socket option level", ENOPROTOOPT);
  }
  if (rc == 0) remember(s, level, name, val, len);
  return rc;
}

int tern_getsockopt(int fd, int level, int name, void* val, socklen_t* len) {
  int err = 0;
  Sock* s = checked(fd, &err);
  if (s == nullptr) return err != 0 ? -1 : real().getsockopt(fd, level, name, val, len);
  if (level == SOL_SOCKET) return get_socket_level(s, name, val, len);
  if (level == IPPROTO_TCP) return get_tcp_level(s, name, val, len);
  if (level == IPPROTO_IP && name == IP_TOS) return put(val, len, s->ip_tos);
  return unsupported("this socket option level", ENOPROTOOPT);
}

int tern_fcntl(int fd, int cmd, long arg) {
  int err = 0;
  Sock* s = checked(fd, &err);
  if (s == nullptr) return err != 0 ? -1 : real().fcntl(fd, cmd, arg);
  switch (cmd) {
    case F_GETFL:
      return O_RDWR | (s->nonblock ? O_NONBLOCK : 0);
    case F_SETFL:
      s->nonblock = (arg & O_NONBLOCK) != 0;
      return 0;
    case F_GETFD:
    case F_SETFD:
      return real().fcntl(fd, cmd, arg);  // FD_CLOEXEC lives on the reserved descriptor
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
      return unsupported("duplicating a tern socket (F_DUPFD)");
    default:
      return unsupported("this fcntl command on a tern socket", EINVAL);
  }
}

int tern_ioctl(int fd, unsigned long req, void* arg) {
  int err = 0;
  Sock* s = checked(fd, &err);
  if (s == nullptr) return err != 0 ? -1 : real().ioctl(fd, req, arg);
  if (arg == nullptr) return fail(EFAULT);
  switch (req) {
    case FIONBIO: {
      int v = 0;
      std::memcpy(&v, arg, sizeof(v));
      s->nonblock = v != 0;
      return 0;
    }
    case FIONREAD: {
      int v = 0;
      if (s->tcp) {
        if (s->lst.valid()) return fail(EINVAL);
        v = static_cast<int>(s->conn.readable());
      } else if (s->udp.valid() && s->udp.queued() > 0) {
        v = static_cast<int>(s->udp.get()->front_length());
      }
      std::memcpy(arg, &v, sizeof(v));
      return 0;
    }
    default:
      return unsupported("this ioctl on a tern socket", ENOTTY);
  }
}

// ---- readiness: poll, select, epoll ----

int tern_poll(pollfd* fds, nfds_t n, int timeout_ms) {
  if (timeout_ms < 0) return tern_ppoll(fds, n, nullptr, nullptr);
  const timespec ts{timeout_ms / 1000, static_cast<long>(timeout_ms % 1000) * 1'000'000};
  return tern_ppoll(fds, n, &ts, nullptr);
}

int tern_ppoll(pollfd* fds, nfds_t n, const timespec* timeout, const sigset_t* sigmask) {
  bool any_tern = false;
  for (nfds_t i = 0; i < n && !any_tern; ++i) any_tern = sock_of(fds[i].fd) != nullptr;
  if (!any_tern) return real().ppoll(fds, n, timeout, sigmask);
  if (!on_owner_thread())
    return unsupported("tern sockets from a second thread (one thread drives the stack)");
  // The kernel descriptors go to ppoll() as they are; tern's are set aside (fd -1: ignored).
  thread_local std::vector<pollfd> kern;
  kern.assign(fds, fds + n);
  for (nfds_t i = 0; i < n; ++i) {
    if (sock_of(fds[i].fd) != nullptr) kern[i].fd = -1;
  }
  const uint64_t deadline = deadline_of(timeout);
  LookMask look(sigmask);
  const uint64_t signals = signal_seq();
  for (;;) {
    drive();
    int ready = 0;
    for (nfds_t i = 0; i < n; ++i) {
      Sock* s = sock_of(fds[i].fd);
      if (s == nullptr) continue;
      const short mask = static_cast<short>(fds[i].events | POLLERR | POLLHUP);
      fds[i].revents = static_cast<short>(poll_bits(s) & mask);
      if (fds[i].revents != 0) ++ready;
    }
    const uint64_t now = monotonic_ns();
    uint64_t step = ready > 0 || now >= deadline ? 0 : std::min(idle_step(), deadline - now);
    timespec ts{static_cast<time_t>(step / 1'000'000'000), static_cast<long>(step % 1'000'000'000)};
    const int k = real().ppoll(kern.data(), n, &ts, look.get());
    // The kernel's errors (EINTR from the application's own signals, EINVAL, ENOMEM) end the call
    // as they would without tern.
    if (k < 0 && ready == 0) return -1;
    if (k > 0) {
      for (nfds_t i = 0; i < n; ++i) {
        if (kern[i].fd >= 0) fds[i].revents = kern[i].revents;
      }
      ready += k;
    } else {
      for (nfds_t i = 0; i < n; ++i) {
        if (kern[i].fd >= 0) fds[i].revents = 0;
      }
    }
    if (ready > 0 || monotonic_ns() >= deadline) return ready;
    if (signal_seq() != signals) return fail(EINTR);  // a handler ran while tern polled
  }
}

int tern_select(int nfds, fd_set* r, fd_set* w, fd_set* e, timeval* timeout) {
  timespec ts{};
  if (timeout != nullptr) ts = timespec{timeout->tv_sec, static_cast<long>(timeout->tv_usec) * 1000};
  bool any_tern = false;
  for (int fd = 0; fd < nfds && !any_tern; ++fd) {
    const bool asked = (r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (e && FD_ISSET(fd, e));
    any_tern = asked && sock_of(fd) != nullptr;
  }
  if (!any_tern) return real().select(nfds, r, w, e, timeout);
  const int k = tern_pselect(nfds, r, w, e, timeout != nullptr ? &ts : nullptr, nullptr);
  if (timeout != nullptr && k == 0) *timeout = timeval{0, 0};
  return k;
}

int tern_pselect(int nfds, fd_set* r, fd_set* w, fd_set* e, const timespec* timeout,
                 const sigset_t* sigmask) {
  bool any_tern = false;
  for (int fd = 0; fd < nfds && !any_tern; ++fd) {
    const bool asked = (r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (e && FD_ISSET(fd, e));
    any_tern = asked && sock_of(fd) != nullptr;
  }
  if (!any_tern) return real().pselect(nfds, r, w, e, timeout, sigmask);
  std::vector<pollfd> pfds;
  for (int fd = 0; fd < nfds; ++fd) {
    short ev = 0;
    if (r && FD_ISSET(fd, r)) ev |= POLLIN;
    if (w && FD_ISSET(fd, w)) ev |= POLLOUT;
    if (e && FD_ISSET(fd, e)) ev |= POLLPRI;
    if (ev != 0) pfds.push_back(pollfd{fd, ev, 0});
  }
  const int k = tern_ppoll(pfds.data(), pfds.size(), timeout, sigmask);
  if (k < 0) return -1;
  if (r) FD_ZERO(r);
  if (w) FD_ZERO(w);
  if (e) FD_ZERO(e);
  int count = 0;
  for (const pollfd& p : pfds) {
    if (r && (p.revents & (POLLIN | POLLHUP | POLLERR)) && (p.events & POLLIN)) FD_SET(p.fd, r), ++count;
    if (w && (p.revents & (POLLOUT | POLLERR)) && (p.events & POLLOUT)) FD_SET(p.fd, w), ++count;
    if (e && (p.revents & POLLPRI)) FD_SET(p.fd, e), ++count;
  }
  return count;
}

int tern_epoll_create(int size) { return real().epoll_create(size); }
int tern_epoll_create1(int flags) { return real().epoll_create1(flags); }

int tern_epoll_ctl(int epfd, int op, int fd, epoll_event* event) {
  Sock* s = sock_of(fd);
  if (s == nullptr) return real().epoll_ctl(epfd, op, fd, event);
  if (!on_owner_thread())
    return unsupported("tern sockets from a second thread (one thread drives the stack)");
  if (sock_of(epfd) != nullptr) return fail(EINVAL);
  if (op != EPOLL_CTL_DEL && event == nullptr) return fail(EFAULT);
  EpollSet* ep = epoll_of(epfd);
  if (ep == nullptr) {
    // Check that epfd is an epoll descriptor (what the kernel's epoll_ctl would check), once per set.
    char link[64];
    char path[32];
    std::snprintf(path, sizeof(path), "/proc/self/fd/%d", epfd);
    const ssize_t k = readlink(path, link, sizeof(link) - 1);
    if (k < 0) return fail(EBADF);
    link[k] = '\0';
    if (std::strcmp(link, "anon_inode:[eventpoll]") != 0) return fail(EINVAL);
    ep = new EpollSet;
    ep->epfd = epfd;
    g_epolls[epfd].store(ep, std::memory_order_release);
  }
  switch (op) {
    case EPOLL_CTL_ADD:
      if (s->ep == ep) return fail(EEXIST);
      if (s->ep != nullptr) return unsupported("one tern socket in two epoll sets", EEXIST);
      if (event->events & EPOLLEXCLUSIVE) event->events &= ~EPOLLEXCLUSIVE;  // one thread: nothing to share
      s->ep = ep;
      s->ep_mask = event->events;
      s->ep_data = event->data.u64;
      ++ep->members;
      if (int e = attach_epoll(s); e != 0) {
        detach_epoll(s);
        return fail(e);
      }
      track_udp_out(s, true);
      return 0;
    case EPOLL_CTL_MOD:
      if (s->ep != ep) return fail(ENOENT);
      s->ep_mask = event->events;
      s->ep_data = event->data.u64;
      if (s->ep_attached) {
        const Trigger t = (s->ep_mask & EPOLLET) ? Trigger::edge : Trigger::level;
        const uint32_t interest =
            s->lst.valid() ? ev::accept : (!s->tcp ? ev::readable : interest_of(s->ep_mask));
        (void)ep->poller.modify(ref_of(s), interest, static_cast<uint64_t>(fd), t);
      }
      track_udp_out(s, true);
      return 0;
    case EPOLL_CTL_DEL:
      if (s->ep != ep) return fail(ENOENT);
      detach_epoll(s);
      return 0;
    default:
      return fail(EINVAL);
  }
}

}  // extern "C"

namespace tern::posix {
namespace {

// tern events -> epoll bits for @p s registered with @p mask.
uint32_t epoll_bits(Sock* s, uint32_t tev) {
  uint32_t e = 0;
  if (tev & (ev::readable | ev::accept)) e |= EPOLLIN;
  if (tev & (ev::writable | ev::connected)) e |= EPOLLOUT;
  if (tev & ev::peer_closed) e |= EPOLLIN | EPOLLRDHUP;
  if (tev & ev::error) e |= EPOLLERR | EPOLLHUP | EPOLLIN | EPOLLOUT;
  if (s->tcp && s->conn.valid() && s->conn.peer_closed()) {
    const tcp::State st = s->conn.state();
    if (st != tcp::State::established && st != tcp::State::close_wait) e |= EPOLLHUP;
  }
  return e & (s->ep_mask | EPOLLERR | EPOLLHUP);
}

// epoll_pwait2 (ns timeout) where the C library and the kernel have it (glibc 2.35, Linux 5.11),
// else epoll_pwait with the timeout rounded up to milliseconds.
int kernel_epoll_wait(int epfd, epoll_event* evs, int max, const timespec& ts, const sigset_t* mask) {
  static bool no_pwait2 = real().epoll_pwait2 == nullptr;
  if (!no_pwait2) {
    const int k = real().epoll_pwait2(epfd, evs, max, &ts, mask);
    if (k >= 0 || errno != ENOSYS) return k;
    no_pwait2 = true;
  }
  const int64_t ms = ts.tv_sec * 1000 + (ts.tv_nsec + 999'999) / 1'000'000;
  return real().epoll_pwait(epfd, evs, max, static_cast<int>(std::min<int64_t>(ms, INT32_MAX)), mask);
}

// Report EPOLLOUT for the set's UDP members that ask for it (merged into an entry already in @p out
// for the same socket): level-triggered every time, edge-triggered or one-shot once per ADD/MOD.
int add_udp_writable(EpollSet* ep, epoll_event* out, int k, int max) {
  for (const int fd : ep->udp_out) {
    Sock* s = sock_of(fd);
    if (s == nullptr || s->ep != ep) continue;
    const bool edge = (s->ep_mask & (EPOLLET | EPOLLONESHOT)) != 0;
    if (edge && !s->ep_out_pending) continue;
    int at = -1;
    for (int i = 0; i < k && at < 0; ++i) {
      if (out[i].data.u64 == s->ep_data) at = i;
    }
    if (at < 0) {
      if (k >= max) break;
      at = k++;
      out[at].events = 0;
      out[at].data.u64 = s->ep_data;
    }
    out[at].events |= EPOLLOUT;
    s->ep_out_pending = false;
  }
  return k;
}

// Move ready tern events of @p ep into @p out. @return how many.
int take_tern_events(EpollSet* ep, epoll_event* out, int max) {
  thread_local std::vector<PollEvent> evs;
  evs.resize(static_cast<size_t>(max));
  const size_t n = ep->poller.wait(std::span<PollEvent>(evs.data(), evs.size()));
  int k = 0;
  for (size_t i = 0; i < n; ++i) {
    Sock* s = sock_of(static_cast<int>(evs[i].data));
    if (s == nullptr || s->ep != ep) continue;
    const uint32_t bits = epoll_bits(s, evs[i].events);
    if (bits == 0) continue;
    out[k].events = bits;
    out[k].data.u64 = s->ep_data;
    ++k;
    if (s->ep_mask & EPOLLONESHOT) {
      (void)ep->poller.modify(ref_of(s), 0, evs[i].data, Trigger::edge);  // disarmed until EPOLL_CTL_MOD
    }
  }
  return k;
}

// Whether a UDP member's EPOLLOUT is due (level: always; edge/one-shot: once per ADD/MOD).
bool udp_writable_due(const EpollSet* ep) {
  for (const int fd : ep->udp_out) {
    const Sock* s = sock_of(fd);
    if (s != nullptr && s->ep == ep && (!(s->ep_mask & (EPOLLET | EPOLLONESHOT)) || s->ep_out_pending))
      return true;
  }
  return false;
}

}  // namespace
}  // namespace tern::posix

extern "C" {

int tern_epoll_wait(int epfd, epoll_event* evs, int max, int timeout_ms) {
  if (timeout_ms < 0) return tern_epoll_pwait2(epfd, evs, max, nullptr, nullptr);
  const timespec ts{timeout_ms / 1000, static_cast<long>(timeout_ms % 1000) * 1'000'000};
  return tern_epoll_pwait2(epfd, evs, max, &ts, nullptr);
}

int tern_epoll_pwait2(int epfd, epoll_event* evs, int max, const timespec* timeout, const sigset_t* sigmask) {
  EpollSet* ep = epoll_of(epfd);
  // After shutdown or in a forked child the set holds kernel descriptors only: the kernel's call.
  if (ep == nullptr || !stack_usable()) {
    if (timeout == nullptr) return real().epoll_pwait(epfd, evs, max, -1, sigmask);
    return kernel_epoll_wait(epfd, evs, max, *timeout, sigmask);
  }
  if (max <= 0) return fail(EINVAL);
  const uint64_t deadline = deadline_of(timeout);
  LookMask look(sigmask);  // as in tern_ppoll
  const uint64_t signals = signal_seq();
  for (;;) {
    drive();
    int n = take_tern_events(ep, evs, max);
    const bool udp_due = !ep->udp_out.empty() && udp_writable_due(ep);
    const uint64_t now = monotonic_ns();
    uint64_t step = n > 0 || udp_due || now >= deadline ? 0 : std::min(idle_step(), deadline - now);
    // The kernel's members: a sleep there for the idle step (a kernel event ends it at once), or,
    // while tern is busy, a look without waiting at most every kKernelCheckNs (a system call per
    // loop would cost more than the rest of a request).
    if (n < max && (step != 0 || now - ep->kernel_checked_ns >= kKernelCheckNs || now >= deadline)) {
      ep->kernel_checked_ns = now;
      timespec ts{static_cast<time_t>(step / 1'000'000'000), static_cast<long>(step % 1'000'000'000)};
      const int k = kernel_epoll_wait(epfd, evs + n, max - n, ts, look.get());
      if (k > 0) n += k;
      if (k < 0 && errno == EINTR && n == 0) return -1;
    }
    // UDP sockets are always writable: after the kernel's members, so they cannot crowd them out.
    if (udp_due) n = add_udp_writable(ep, evs, n, max);
    if (n > 0 || monotonic_ns() >= deadline) return n;
    if (signal_seq() != signals) return fail(EINTR);  // a handler ran while tern polled
  }
}

int tern_dup(int fd) {
  if (sock_of(fd) == nullptr) return real().dup(fd);
  return unsupported("duplicating a tern socket (dup)");
}

int tern_dup3(int fd, int fd2, int flags) {
  if (sock_of(fd) != nullptr) return unsupported("duplicating a tern socket (dup2/dup3)");
  if (fd != fd2 && sock_of(fd2) != nullptr) (void)tern_close(fd2);  // the kernel's file replaces it
  if (fd != fd2) (void)drop_epoll_set(fd2);                         // an epoll set there goes too
  return real().dup3(fd, fd2, flags);
}

int tern_dup2(int fd, int fd2) {
  if (sock_of(fd) != nullptr) return unsupported("duplicating a tern socket (dup2/dup3)");
  if (fd != fd2 && sock_of(fd2) != nullptr) (void)tern_close(fd2);
  if (fd != fd2) (void)drop_epoll_set(fd2);
  return real().dup2(fd, fd2);
}

int tern_sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  // tern's own code (DPDK's handlers), invalid or uncatchable signals: as they are.
  if (t_in_tern || sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP)
    return real().sigaction(sig, act, old);
  struct sigaction want {};
  if (act != nullptr) want = *act;  // before *old is written: act and old may be the same struct
  struct sigaction cur {};
  if (real().sigaction(sig, nullptr, &cur) != 0) return -1;
  const uintptr_t app = g_handlers[sig].load(std::memory_order_acquire);
  if (old != nullptr) {
    *old = cur;
    if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == &trampoline) {  // report the application's
      if (app & kSigInfoBit) {
        old->sa_sigaction = reinterpret_cast<void (*)(int, siginfo_t*, void*)>(app & ~kFlagBits);
      } else {
        old->sa_flags &= ~SA_SIGINFO;
        old->sa_handler = reinterpret_cast<void (*)(int)>(app & ~kFlagBits);
      }
    } else if (g_ours[sig].load(std::memory_order_relaxed) && !(app & kSigInfoBit)) {
      old->sa_flags &= ~SA_SIGINFO;  // SA_RESETHAND put SIG_DFL back; the SA_SIGINFO was tern's
    }
  }
  if (act == nullptr) return 0;
  // SIG_DFL and SIG_IGN are the handler word, whatever the flags say (as the kernel reads it).
  if (want.sa_handler == SIG_DFL || want.sa_handler == SIG_IGN) {
    g_ours[sig].store(false, std::memory_order_relaxed);
    g_handlers[sig].store(0, std::memory_order_release);
    return real().sigaction(sig, &want, nullptr);
  }
  const bool info = want.sa_flags & SA_SIGINFO;
  const uintptr_t fn =
      info ? reinterpret_cast<uintptr_t>(want.sa_sigaction) : reinterpret_cast<uintptr_t>(want.sa_handler);
  g_handlers[sig].store(fn | (info ? kSigInfoBit : 0) | ((want.sa_flags & SA_RESTART) ? kRestartBit : 0),
                        std::memory_order_release);
  g_ours[sig].store(true, std::memory_order_relaxed);
  struct sigaction mine = want;
  mine.sa_flags |= SA_SIGINFO;
  mine.sa_sigaction = &trampoline;
  return real().sigaction(sig, &mine, nullptr);
}

sighandler_t tern_signal(int sig, sighandler_t handler) {
  // glibc's signal(): BSD semantics (SA_RESTART, the signal blocked while its handler runs).
  struct sigaction act {
  }, old{};
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  act.sa_flags = SA_RESTART;
  if (tern_sigaction(sig, &act, &old) != 0) return SIG_ERR;
  return (old.sa_flags & SA_SIGINFO)
             ? reinterpret_cast<sighandler_t>(reinterpret_cast<void*>(old.sa_sigaction))
             : old.sa_handler;
}

pid_t tern_fork(void) {
  Runtime* rt = g_rt;
  if (rt != nullptr && !rt->failed && rt->open > 0) {
    TERN_LOG_WARN("tern-posix: fork() refused: %zu tern socket(s) are open and cannot be shared with a child",
                  rt->open);
    return fail(ENOTSUP);
  }
  const pid_t pid = real().fork();
  if (pid == 0 && rt != nullptr) rt->forked_child = true;  // the stack (ports, memory) stays with the parent
  return pid;
}

}  // extern "C"
