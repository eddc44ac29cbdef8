/**
 * @file
 * libtern-preload.so: run unmodified programs on tern. LD_PRELOAD puts these definitions of the
 * socket calls in front of libc's; each hands its arguments to libtern-posix (tern_X), which
 * serves AF_INET TCP and UDP sockets on tern and passes every other descriptor to libc's call.
 *
 *   TERN_CONFIG=tern.yaml LD_PRELOAD=libtern-preload.so redis-server
 *
 * docs/posix.md lists the calls and what is supported.
 */
#include <signal.h>

#include <cstdarg>

#include "tern/posix/socket.h"

extern "C" {

// NOLINTBEGIN(readability-inconsistent-declaration-parameter-name)
__attribute__((visibility("default"))) int socket(int domain, int type, int protocol) {
  return tern_socket(domain, type, protocol);
}
__attribute__((visibility("default"))) int bind(int fd, const struct sockaddr* a, socklen_t l) {
  return tern_bind(fd, a, l);
}
__attribute__((visibility("default"))) int listen(int fd, int backlog) { return tern_listen(fd, backlog); }
__attribute__((visibility("default"))) int accept(int fd, struct sockaddr* a, socklen_t* l) {
  return tern_accept(fd, a, l);
}
__attribute__((visibility("default"))) int accept4(int fd, struct sockaddr* a, socklen_t* l, int flags) {
  return tern_accept4(fd, a, l, flags);
}
__attribute__((visibility("default"))) int connect(int fd, const struct sockaddr* a, socklen_t l) {
  return tern_connect(fd, a, l);
}
__attribute__((visibility("default"))) ssize_t read(int fd, void* b, size_t n) { return tern_read(fd, b, n); }
__attribute__((visibility("default"))) ssize_t write(int fd, const void* b, size_t n) {
  return tern_write(fd, b, n);
}
__attribute__((visibility("default"))) ssize_t readv(int fd, const struct iovec* v, int n) {
  return tern_readv(fd, v, n);
}
__attribute__((visibility("default"))) ssize_t writev(int fd, const struct iovec* v, int n) {
  return tern_writev(fd, v, n);
}
__attribute__((visibility("default"))) ssize_t recv(int fd, void* b, size_t n, int f) {
  return tern_recv(fd, b, n, f);
}
__attribute__((visibility("default"))) ssize_t send(int fd, const void* b, size_t n, int f) {
  return tern_send(fd, b, n, f);
}
__attribute__((visibility("default"))) ssize_t recvfrom(int fd, void* b, size_t n, int f, struct sockaddr* a,
                                                        socklen_t* l) {
  return tern_recvfrom(fd, b, n, f, a, l);
}
__attribute__((visibility("default"))) ssize_t sendto(int fd, const void* b, size_t n, int f,
                                                      const struct sockaddr* a, socklen_t l) {
  return tern_sendto(fd, b, n, f, a, l);
}
__attribute__((visibility("default"))) ssize_t recvmsg(int fd, struct msghdr* m, int f) {
  return tern_recvmsg(fd, m, f);
}
__attribute__((visibility("default"))) ssize_t sendmsg(int fd, const struct msghdr* m, int f) {
  return tern_sendmsg(fd, m, f);
}
__attribute__((visibility("default"))) int recvmmsg(int fd, struct mmsghdr* m, unsigned int n, int f,
                                                    struct timespec* t) {
  return tern_recvmmsg(fd, m, n, f, t);
}
__attribute__((visibility("default"))) int sendmmsg(int fd, struct mmsghdr* m, unsigned int n, int f) {
  return tern_sendmmsg(fd, m, n, f);
}
__attribute__((visibility("default"))) ssize_t sendfile(int out, int in, off_t* off, size_t n) {
  return tern_sendfile(out, in, off, n);
}
__attribute__((visibility("default"))) ssize_t sendfile64(int out, int in, off_t* off, size_t n) {
  return tern_sendfile(out, in, off, n);
}
__attribute__((visibility("default"))) int close(int fd) { return tern_close(fd); }
__attribute__((visibility("default"))) int shutdown(int fd, int how) { return tern_shutdown(fd, how); }
__attribute__((visibility("default"))) int getsockopt(int fd, int lv, int nm, void* v, socklen_t* l) {
  return tern_getsockopt(fd, lv, nm, v, l);
}
__attribute__((visibility("default"))) int setsockopt(int fd, int lv, int nm, const void* v, socklen_t l) {
  return tern_setsockopt(fd, lv, nm, v, l);
}
__attribute__((visibility("default"))) int getsockname(int fd, struct sockaddr* a, socklen_t* l) {
  return tern_getsockname(fd, a, l);
}
__attribute__((visibility("default"))) int getpeername(int fd, struct sockaddr* a, socklen_t* l) {
  return tern_getpeername(fd, a, l);
}
__attribute__((visibility("default"))) int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  long arg = va_arg(ap, long);  // every fcntl argument fits a long (int, pointer)
  va_end(ap);
  return tern_fcntl(fd, cmd, arg);
}
__attribute__((visibility("default"))) int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  long arg = va_arg(ap, long);
  va_end(ap);
  return tern_fcntl(fd, cmd, arg);
}
__attribute__((visibility("default"))) int ioctl(int fd, unsigned long req, ...) {
  va_list ap;
  va_start(ap, req);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return tern_ioctl(fd, req, arg);
}
__attribute__((visibility("default"))) int poll(struct pollfd* f, nfds_t n, int t) {
  return tern_poll(f, n, t);
}
__attribute__((visibility("default"))) int select(int n, fd_set* r, fd_set* w, fd_set* e, struct timeval* t) {
  return tern_select(n, r, w, e, t);
}
__attribute__((visibility("default"))) int pselect(int n, fd_set* r, fd_set* w, fd_set* e,
                                                   const struct timespec* t, const sigset_t* m) {
  return tern_pselect(n, r, w, e, t, m);
}
__attribute__((visibility("default"))) int epoll_create(int size) { return tern_epoll_create(size); }
__attribute__((visibility("default"))) int epoll_create1(int flags) { return tern_epoll_create1(flags); }
__attribute__((visibility("default"))) int epoll_ctl(int ep, int op, int fd, struct epoll_event* e) {
  return tern_epoll_ctl(ep, op, fd, e);
}
__attribute__((visibility("default"))) int epoll_wait(int ep, struct epoll_event* e, int n, int t) {
  return tern_epoll_wait(ep, e, n, t);
}
__attribute__((visibility("default"))) int epoll_pwait(int ep, struct epoll_event* e, int n, int t,
                                                       const sigset_t* m) {
  if (t < 0) return tern_epoll_pwait2(ep, e, n, nullptr, m);
  const struct timespec ts = {t / 1000, static_cast<long>(t % 1000) * 1000000};
  return tern_epoll_pwait2(ep, e, n, &ts, m);
}
__attribute__((visibility("default"))) int epoll_pwait2(int ep, struct epoll_event* e, int n,
                                                        const struct timespec* t, const sigset_t* m) {
  return tern_epoll_pwait2(ep, e, n, t, m);
}
// _FORTIFY_SOURCE builds call these; glibc's own versions would bypass the definitions above.
__attribute__((visibility("default"))) ssize_t __read_chk(int fd, void* b, size_t n, size_t) {
  return tern_read(fd, b, n);
}
__attribute__((visibility("default"))) ssize_t __recv_chk(int fd, void* b, size_t n, size_t, int f) {
  return tern_recv(fd, b, n, f);
}
__attribute__((visibility("default"))) ssize_t __recvfrom_chk(int fd, void* b, size_t n, size_t, int f,
                                                              struct sockaddr* a, socklen_t* l) {
  return tern_recvfrom(fd, b, n, f, a, l);
}
__attribute__((visibility("default"))) int __poll_chk(struct pollfd* f, nfds_t n, int t, size_t) {
  return tern_poll(f, n, t);
}
__attribute__((visibility("default"))) int ppoll(struct pollfd* f, nfds_t n, const struct timespec* t,
                                                 const sigset_t* m) {
  return tern_ppoll(f, n, t, m);
}
__attribute__((visibility("default"))) int __ppoll_chk(struct pollfd* f, nfds_t n, const struct timespec* t,
                                                       const sigset_t* m, size_t) {
  return tern_ppoll(f, n, t, m);
}
using Handler = void (*)(int);
__attribute__((visibility("default"))) int sigaction(int sig, const struct sigaction* act,
                                                     struct sigaction* old) {
  return tern_sigaction(sig, act, old);
}
__attribute__((visibility("default"))) Handler signal(int sig, Handler handler) {
  return tern_signal(sig, handler);
}
__attribute__((visibility("default"))) Handler bsd_signal(int sig, Handler handler) {
  return tern_signal(sig, handler);
}
__attribute__((visibility("default"))) int dup(int fd) { return tern_dup(fd); }
__attribute__((visibility("default"))) int dup2(int fd, int fd2) { return tern_dup2(fd, fd2); }
__attribute__((visibility("default"))) int dup3(int fd, int fd2, int flags) {
  return tern_dup3(fd, fd2, flags);
}
__attribute__((visibility("default"))) pid_t fork(void) { return tern_fork(); }
// NOLINTEND(readability-inconsistent-declaration-parameter-name)

}  // extern "C"
