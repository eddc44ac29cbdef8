#!/usr/bin/env bash
# integration-preload_apps: unmodified Debian binaries on tern through LD_PRELOAD=libtern-preload.so,
# over net_tap in a network namespace this test creates and removes; the kernel's tools are the
# peers in that namespace.
#
#   preload_apps.sh LIBTERN_PRELOAD [WORKDIR]
#
#  1. python3 echo server (socket, bind, listen, accept, recv, sendall): socat sends 4 MiB of random
#     bytes, the echo is byte-exact; a Python client does the same with shutdown(SHUT_WR)
#  2. socat TCP4-LISTEN ... PIPE (select() over a tern socket and a kernel pipe): 1 MiB echoed
#     byte-exact
#  3. redis-server: redis-cli PING/SET/GET answers; a short redis-benchmark (SET, GET, pipelined
#     and not) completes with no error
#  4. nginx (one worker, master process off, sendfile on): curl fetches a 2 MiB file byte-exact,
#     and index.html over keep-alive
#  5. every server still answers after its clients left, and exits on SIGTERM; an idle
#     redis-server uses under a quarter of a core (the adaptive idle policy sleeps)
#
# Needs root and /dev/net/tun (exit 77 = skipped otherwise). Addresses 198.18.0.0/24 only.
set -uo pipefail

PRELOAD=${1:?usage: $0 LIBTERN_PRELOAD [WORKDIR]}
PRELOAD=$(cd "$(dirname "$PRELOAD")" && pwd)/$(basename "$PRELOAD")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap_lib.sh"
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (network namespaces, net_tap)"; exit 77; fi
if [ ! -c /dev/net/tun ]; then echo "SKIP: /dev/net/tun is missing (net_tap needs it)"; exit 77; fi
for tool in ip socat redis-server redis-cli redis-benchmark nginx curl sha256sum; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
    { echo "FAIL: $tool not found (scripts/setup.sh installs it)"; exit 1; }
done
[ -f "$PRELOAD" ] || { echo "FAIL: $PRELOAD does not exist"; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

NS=tern-itest-pre-$$
IF=tpre$$
IF=${IF:0:15}
PEER=198.18.0.1
PEER_MAC=02:00:00:00:00:01
TERN=198.18.0.2
WORK=$(mktemp -d "${2:-/tmp}/tern-itest-pre.XXXXXX") || { echo "FAIL: cannot create a work directory"; exit 1; }
PID="" NAME=""
FAILED=0

dump() { echo "---- $NAME stderr ----"; tail -n 40 "$WORK/$NAME.stderr" 2>/dev/null; echo "---- $NAME stdout ----"; tail -n 20 "$WORK/$NAME.stdout" 2>/dev/null; }
cleanup() {
  local rc=$?
  stop_pid "$PID" 10
  ip netns del "$NS" 2>/dev/null
  if [ "$rc" -eq 0 ] && [ "$FAILED" -eq 0 ]; then rm -rf "$WORK"; else echo "(files kept in $WORK)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

cat >"$WORK/tern.yaml" <<YAML
ports:
  - name: tap0
    devargs: "net_tap0,iface=$IF"
    ip: $TERN/24
cores:
  idle: adaptive
YAML

# start NAME PORT COMMAND...: run COMMAND preloaded in the namespace, wait for its tap, configure
# the kernel side, wait until PORT accepts a connection (PORT 0: until tern answers ping; for
# servers that take one connection only).
start() {
  NAME=$1
  local port=$2
  shift 2
  ip netns add "$NS" || { echo "FAIL: cannot create namespace $NS"; exit 1; }
  ip netns exec "$NS" ip link set lo up
  # Started directly (not through a shell function), so $! is the server's own PID.
  ip netns exec "$NS" env TERN_CONFIG="$WORK/tern.yaml" LD_PRELOAD="$PRELOAD" "$@" \
    >"$WORK/$NAME.stdout" 2>"$WORK/$NAME.stderr" &
  PID=$!
  echo "  $NAME pid $PID: $*"
  for _ in $(seq 1 300); do
    kill -0 "$PID" 2>/dev/null || { wait "$PID"; echo "FAIL: $NAME exited early ($?)"; PID=""; dump; exit 1; }
    in_ns ip link show "$IF" >/dev/null 2>&1 && break
    sleep 0.05
  done
  in_ns ip link set "$IF" address "$PEER_MAC" && in_ns ip addr add "$PEER/24" dev "$IF" &&
    in_ns ip link set "$IF" up || { echo "FAIL: cannot configure $IF"; dump; exit 1; }
  for _ in $(seq 1 100); do
    if [ "$port" = 0 ]; then
      in_ns ping -c 1 -W 1 "$TERN" >/dev/null 2>&1 && return 0
    else
      in_ns socat -T 1 /dev/null "TCP4:$TERN:$port,connect-timeout=1" 2>/dev/null && return 0
    fi
    sleep 0.1
  done
  fail "$NAME does not accept connections on $TERN:$port"; dump; exit 1
}

stop() {  # stop: SIGTERM the server; it must exit (status 0 or the signal's)
  stop_pid "$PID" 10
  case "$STOP_RC" in
    0 | 143) ok "$NAME exited on SIGTERM" ;;
    *) fail "$NAME exited with status $STOP_RC"; dump ;;
  esac
  PID=""
  ip netns del "$NS" 2>/dev/null
}

echo_check() {  # echo_check WHAT BYTES CLIENT...: send BYTES random bytes through CLIENT, compare
  local what=$1 bytes=$2
  shift 2
  head -c "$bytes" /dev/urandom >"$WORK/in.bin"
  if in_ns "$@" <"$WORK/in.bin" >"$WORK/out.bin" 2>"$WORK/client.err" && cmp -s "$WORK/in.bin" "$WORK/out.bin"; then
    ok "$what: $bytes bytes echoed byte-exact"
  else
    fail "$what: echo differs ($(stat -c %s "$WORK/out.bin") of $bytes bytes back)"; cat "$WORK/client.err"
  fi
}

say "namespace $NS; tern on net_tap0,iface=$IF as $TERN/24, the kernel as $PEER/24"

# ------------------------------------------------------------------ 1. python3
say "1. python3 echo server"
cat >"$WORK/echo.py" <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7000))
s.listen(16)
while True:
    c, _ = s.accept()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)
    c.close()
PY
cat >"$WORK/client.py" <<'PY'
import socket, sys, hashlib
data = sys.stdin.buffer.read()
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
got = bytearray()
while True:
    d = s.recv(65536)
    if not d:
        break
    got += d
sys.stdout.buffer.write(got)
PY
start python3 7000 /usr/bin/python3 "$WORK/echo.py"
echo_check "socat -> python3" $((4 << 20)) socat -t 10 -T 20 - "TCP4:$TERN:7000"
echo_check "python3 client -> python3" $((1 << 20)) /usr/bin/python3 "$WORK/client.py" "$TERN" 7000
stop

# ------------------------------------------------------------------ 1b. a fortified C server
say "1b. a C echo server built with _FORTIFY_SOURCE (read, recv and poll become __read_chk ...)"
cat >"$WORK/fort.c" <<'C'
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char** argv) {
  (void)argv;
  int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7003)};
  if (bind(l, (struct sockaddr*)&a, sizeof(a)) || listen(l, 4)) return 1;
  int c = accept(l, 0, 0);
  char buf[4096];
  struct pollfd p[2] = {{.fd = c, .events = POLLIN}};
  for (int turn = 0;; ++turn) {
    if (poll(p, (nfds_t)argc, -1) < 0) return perror("poll"), 2; /* nfds not a constant: __poll_chk */
    size_t want = (size_t)argc * (sizeof(buf) - 1); /* not a constant: __read_chk, __recv_chk */
    ssize_t n = (turn & 1) ? read(c, buf, want) : recv(c, buf, want, 0);
    if (n < 0) perror("read/recv");
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(c, buf + off, (size_t)(n - off));
      if (w <= 0) return perror("write"), 3;
      off += w;
    }
  }
  close(c);
  close(l);
  return 0;
}
C
if cc -O2 -D_FORTIFY_SOURCE=2 -o "$WORK/fort" "$WORK/fort.c" 2>"$WORK/fort.cc.log"; then
  chk=$(nm -D "$WORK/fort" | awk '/_chk/ {print $2}' | sort | tr '\n' ' ')
  case "$chk" in
    *__read_chk*__recv_chk*) ok "the fortified build imports $chk" ;;
    *) fail "the fortified build does not import __read_chk and __recv_chk (imports: $chk)" ;;
  esac
  start fortified 7003 "$WORK/fort"
  # start() probed port 7003 with one connection, which the server took as its only client:
  # restart it for the real one.
  stop
  start fortified 0 "$WORK/fort"
  echo_check "socat -> fortified C server" $((1 << 20)) socat -t 10 -T 20 - "TCP4:$TERN:7003,retry=50,interval=0.1"
  dump
  stop
else
  fail "cc could not build the fortified server"; cat "$WORK/fort.cc.log"
fi

# ------------------------------------------------------------------ 2. socat
say "2. socat echo server (select() over a tern socket and a kernel pipe)"
start socat 0 socat TCP4-LISTEN:7001,reuseaddr PIPE
echo_check "socat client -> socat PIPE" $((1 << 20)) socat -t 10 -T 20 - "TCP4:$TERN:7001,retry=50,interval=0.1"
stop

say "2b. fork() with a live tern socket is refused with a clear error"
start socat-fork 0 socat TCP4-LISTEN:7002,reuseaddr,fork PIPE
in_ns socat -T 3 /dev/null "TCP4:$TERN:7002,retry=50,interval=0.1" >/dev/null 2>&1
sleep 0.5
if grep -q "fork() refused" "$WORK/socat-fork.stderr"; then
  ok "fork() refused and logged: $(grep -m1 -o 'fork() refused.*' "$WORK/socat-fork.stderr")"
else
  fail "no 'fork() refused' line from socat with fork"; dump
fi
stop_pid "$PID" 5; PID=""; ip netns del "$NS" 2>/dev/null

# ------------------------------------------------------------------ 3. redis
say "3. redis-server"
start redis 6379 redis-server --port 6379 --bind 0.0.0.0 --save "" --appendonly no --protected-mode no \
  --daemonize no --dir "$WORK"
got=$(in_ns redis-cli -h "$TERN" ping 2>&1)
[ "$got" = PONG ] && ok "redis-cli PING: $got" || fail "redis-cli PING answered '$got'"
in_ns redis-cli -h "$TERN" set tern:key "$(head -c 3000 /dev/urandom | base64 -w0)" >/dev/null
val=$(in_ns redis-cli -h "$TERN" get tern:key | wc -c)
[ "$val" -ge 4000 ] && ok "redis-cli SET/GET of a 4 KiB value" || fail "redis-cli GET returned $val bytes"
for p in 1 16; do
  out=$(timeout 120 ip netns exec "$NS" redis-benchmark -h "$TERN" -n 20000 -c 20 -P "$p" -t set,get -q 2>&1 | tr '\r' '\n' | grep "requests per second")
  n=$(echo "$out" | grep -c "requests per second")
  if [ "$n" -eq 2 ]; then ok "redis-benchmark -P $p: $(echo "$out" | tr '\n' ' ')"; else fail "redis-benchmark -P $p: '$out'"; fi
done
# The adaptive idle policy: an idle preloaded server sleeps in the kernel instead of spinning.
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
c0=$(cpu); sleep 2; c1=$(cpu)
ticks=$((c1 - c0)); hz=$(getconf CLK_TCK)
if [ "$ticks" -lt $((hz / 2)) ]; then
  ok "idle redis-server used $ticks of $((2 * hz)) clock ticks in 2 s (no spinning core)"
else
  fail "idle redis-server used $ticks of $((2 * hz)) clock ticks in 2 s: it spins"
fi
dbsize=$(in_ns redis-cli -h "$TERN" dbsize)
[ "$dbsize" -ge 2 ] && ok "redis still answers after the benchmark (dbsize $dbsize)" || fail "dbsize '$dbsize'"
stop

# ------------------------------------------------------------------ 4. nginx
say "4. nginx (one worker, master process off, sendfile on)"
mkdir -p "$WORK/www" "$WORK/ngx"
head -c $((2 << 20)) /dev/urandom >"$WORK/www/big.bin"
echo "hello from nginx on tern" >"$WORK/www/index.html"
cat >"$WORK/nginx.conf" <<NGX
daemon off;
master_process off;
worker_processes 1;
pid $WORK/ngx/nginx.pid;
error_log stderr notice;
events { worker_connections 1024; use epoll; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 30;
  client_body_temp_path $WORK/ngx/body;
  proxy_temp_path $WORK/ngx/proxy;
  fastcgi_temp_path $WORK/ngx/fastcgi;
  uwsgi_temp_path $WORK/ngx/uwsgi;
  scgi_temp_path $WORK/ngx/scgi;
  server { listen 8080; root $WORK/www; }
}
NGX
start nginx 8080 "$NGINX" -c "$WORK/nginx.conf" -p "$WORK/ngx"
if in_ns curl -s -m 20 -o "$WORK/big.got" "http://$TERN:8080/big.bin" && cmp -s "$WORK/big.got" "$WORK/www/big.bin"; then
  ok "curl: 2 MiB file byte-exact ($(sha256sum <"$WORK/big.got" | cut -c1-16))"
else
  fail "curl: the 2 MiB file differs or failed"
fi
got=$(in_ns curl -s -m 10 "http://$TERN:8080/index.html" "http://$TERN:8080/index.html" | grep -c "hello from nginx on tern")
[ "$got" -eq 2 ] && ok "curl: two requests over one keep-alive connection" || fail "keep-alive: $got answers"
stop

if [ "$FAILED" -ne 0 ]; then echo "FAILED: $FAILED check(s)"; exit 1; fi
echo "all preload checks passed"
