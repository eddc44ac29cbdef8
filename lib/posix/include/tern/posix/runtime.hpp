/**
 * @file
 * The C++ side of libtern-posix: how the stack behind the socket calls is started (which driver
 * opens the ports: lib/ never names one, so the binary registers a factory), and the kernel's own
 * calls that tern's calls fall back to.
 */
#pragma once

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <string>

#include "tern/config/config.hpp"
#include "tern/stack/stack.hpp"

namespace tern::posix {

/**
 * Register the factory that opens the configuration's ports (libtern-preload.so registers DPDK's
 * ethdev driver at load time). Call before the stack starts.
 */
void set_port_factory(PortFactory factory);

/**
 * Start the stack from @p cfg on the calling thread (which then drives it). Only core 0 is used:
 * the thread that calls is the core. @return 0 or -1 with errno set and the reason logged.
 */
int init(const config::StackConfig& cfg);

/** The running stack (null before init() or after shutdown). */
Stack* stack() noexcept;

/** The kernel's calls (the next definition after this library: libc's). */
struct RealCalls {
  int (*socket)(int, int, int);
  int (*bind)(int, const sockaddr*, socklen_t);
  int (*listen)(int, int);
  int (*accept)(int, sockaddr*, socklen_t*);
  int (*accept4)(int, sockaddr*, socklen_t*, int);
  int (*connect)(int, const sockaddr*, socklen_t);
  ssize_t (*read)(int, void*, size_t);
  ssize_t (*write)(int, const void*, size_t);
  ssize_t (*readv)(int, const iovec*, int);
  ssize_t (*writev)(int, const iovec*, int);
  ssize_t (*recv)(int, void*, size_t, int);
  ssize_t (*send)(int, const void*, size_t, int);
  ssize_t (*recvfrom)(int, void*, size_t, int, sockaddr*, socklen_t*);
  ssize_t (*sendto)(int, const void*, size_t, int, const sockaddr*, socklen_t);
  ssize_t (*recvmsg)(int, msghdr*, int);
  ssize_t (*sendmsg)(int, const msghdr*, int);
  int (*recvmmsg)(int, mmsghdr*, unsigned int, int, timespec*);
  int (*sendmmsg)(int, mmsghdr*, unsigned int, int);
  ssize_t (*sendfile)(int, int, off_t*, size_t);
  int (*close)(int);
  int (*shutdown)(int, int);
  int (*getsockopt)(int, int, int, void*, socklen_t*);
  int (*setsockopt)(int, int, int, const void*, socklen_t);
  int (*getsockname)(int, sockaddr*, socklen_t*);
  int (*getpeername)(int, sockaddr*, socklen_t*);
  int (*fcntl)(int, int, ...);
  int (*ioctl)(int, unsigned long, ...);
  int (*poll)(pollfd*, nfds_t, int);
  int (*ppoll)(pollfd*, nfds_t, const timespec*, const sigset_t*);
  int (*select)(int, fd_set*, fd_set*, fd_set*, timeval*);
  int (*pselect)(int, fd_set*, fd_set*, fd_set*, const timespec*, const sigset_t*);
  int (*epoll_create)(int);
  int (*epoll_create1)(int);
  int (*epoll_ctl)(int, int, int, epoll_event*);
  int (*epoll_wait)(int, epoll_event*, int, int);
  int (*epoll_pwait)(int, epoll_event*, int, int, const sigset_t*);
  int (*epoll_pwait2)(int, epoll_event*, int, const timespec*, const sigset_t*);
  int (*dup)(int);
  int (*dup2)(int, int);
  int (*dup3)(int, int, int);
  pid_t (*fork)();
  int (*sigaction)(int, const struct sigaction*, struct sigaction*);
};
const RealCalls& real() noexcept;

}  // namespace tern::posix
