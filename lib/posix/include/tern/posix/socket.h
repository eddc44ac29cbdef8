/**
 * @file
 * libtern-posix: tern's sockets behind the BSD socket calls, with errno semantics (C API).
 *
 * Each tern_X() behaves as the kernel's X() for AF_INET TCP and UDP sockets that tern serves, and
 * passes any other descriptor (files, pipes, AF_UNIX, eventfd, timerfd, kernel sockets) to the
 * kernel's X(), so an application can use these calls everywhere. libtern-preload.so interposes
 * the plain names with them (docs/posix.md lists every call and what is supported).
 *
 * The stack starts at the first tern_socket(AF_INET) (or tern_posix_init()) from the calling
 * thread, which then drives it: tern runs inside the calls that wait (blocking reads, accept,
 * connect, poll, select, epoll_wait) and inside calls that would answer EAGAIN. Calls on a tern
 * socket from another thread fail with EOPNOTSUPP (logged once). Descriptor numbers of tern
 * sockets are reserved from the kernel (an open descriptor of /dev/null), so they never collide
 * with the kernel's.
 */
#pragma once

#include <poll.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Declared by <sys/socket.h> under _GNU_SOURCE (and <time.h>); named here so C without it compiles. */
struct mmsghdr;
struct timespec;
struct sigaction;

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Start the stack from the tern YAML file @p config_path (NULL: the TERN_CONFIG environment
 * variable). Called by the first tern_socket(AF_INET) when not called before. @return 0, or -1
 * with errno set (EINVAL: no configuration, or it is invalid; EIO: the stack did not start), and
 * the reason logged.
 */
int tern_posix_init(const char* config_path);
/** Give connections up to @p timeout_ms to finish (FIN both ways), then stop the stack. Idempotent. */
void tern_posix_shutdown(int timeout_ms);
/** 1 when @p fd is a tern socket. */
int tern_is_socket(int fd);

int tern_socket(int domain, int type, int protocol);
int tern_bind(int fd, const struct sockaddr* addr, socklen_t len);
int tern_listen(int fd, int backlog);
int tern_accept(int fd, struct sockaddr* addr, socklen_t* len);
int tern_accept4(int fd, struct sockaddr* addr, socklen_t* len, int flags);
int tern_connect(int fd, const struct sockaddr* addr, socklen_t len);
ssize_t tern_read(int fd, void* buf, size_t n);
ssize_t tern_write(int fd, const void* buf, size_t n);
ssize_t tern_readv(int fd, const struct iovec* iov, int iovcnt);
ssize_t tern_writev(int fd, const struct iovec* iov, int iovcnt);
ssize_t tern_recv(int fd, void* buf, size_t n, int flags);
ssize_t tern_send(int fd, const void* buf, size_t n, int flags);
ssize_t tern_recvfrom(int fd, void* buf, size_t n, int flags, struct sockaddr* from, socklen_t* len);
ssize_t tern_sendto(int fd, const void* buf, size_t n, int flags, const struct sockaddr* to, socklen_t len);
ssize_t tern_recvmsg(int fd, struct msghdr* msg, int flags);
ssize_t tern_sendmsg(int fd, const struct msghdr* msg, int flags);
/** Several datagrams (or stream reads) in one call, as recvmmsg(2): MSG_WAITFORONE, @p timeout checked after
 * each. */
int tern_recvmmsg(int fd, struct mmsghdr* msgs, unsigned int n, int flags, struct timespec* timeout);
/** Several messages in one call, as sendmmsg(2). @return how many were sent; -1 when the first fails. */
int tern_sendmmsg(int fd, struct mmsghdr* msgs, unsigned int n, int flags);
ssize_t tern_sendfile(int out_fd, int in_fd, off_t* offset, size_t count);
int tern_close(int fd);
int tern_shutdown(int fd, int how);
int tern_getsockopt(int fd, int level, int name, void* val, socklen_t* len);
int tern_setsockopt(int fd, int level, int name, const void* val, socklen_t len);
int tern_getsockname(int fd, struct sockaddr* addr, socklen_t* len);
int tern_getpeername(int fd, struct sockaddr* addr, socklen_t* len);
int tern_fcntl(int fd, int cmd, long arg);
int tern_ioctl(int fd, unsigned long req, void* arg);
int tern_poll(struct pollfd* fds, nfds_t n, int timeout_ms);
/** ppoll(2): @p sigmask (null: the thread's) is the mask while tern looks at the kernel. */
int tern_ppoll(struct pollfd* fds, nfds_t n, const struct timespec* timeout, const sigset_t* sigmask);
int tern_select(int nfds, fd_set* r, fd_set* w, fd_set* e, struct timeval* timeout);
/** pselect(2), with @p sigmask as in tern_ppoll. */
int tern_pselect(int nfds, fd_set* r, fd_set* w, fd_set* e, const struct timespec* timeout,
                 const sigset_t* sigmask);
int tern_epoll_create(int size);
int tern_epoll_create1(int flags);
int tern_epoll_ctl(int epfd, int op, int fd, struct epoll_event* ev);
int tern_epoll_wait(int epfd, struct epoll_event* evs, int max, int timeout_ms);
/** epoll_pwait2(2) (epoll_pwait with a ns timeout), with @p sigmask as in tern_ppoll. */
int tern_epoll_pwait2(int epfd, struct epoll_event* evs, int max, const struct timespec* timeout,
                      const sigset_t* sigmask);
int tern_dup(int fd);
int tern_dup2(int fd, int fd2);
int tern_dup3(int fd, int fd2, int flags);
pid_t tern_fork(void);

/**
 * sigaction(2) that lets tern's waits see the handler run: a signal handled while tern polls in
 * user space (outside any system call) still ends a tern_poll/tern_select/tern_epoll_wait with
 * EINTR. The handler is called from a trampoline; @p old reports the application's handler.
 */
int tern_sigaction(int sig, const struct sigaction* act, struct sigaction* old);
/** signal(3) on top of tern_sigaction (glibc's BSD semantics: SA_RESTART). */
void (*tern_signal(int sig, void (*handler)(int)))(int);

#ifdef __cplusplus
}
#endif
