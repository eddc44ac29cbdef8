#!/usr/bin/env bash
# `meson install` into a staging dir, then build docs/examples/embed_udp_echo.cpp
# and docs/examples/tcp_echo_poller.cpp against the installed headers and
# libtern.pc only (no source tree include paths), and run each on a net_pcap
# device fed an ARP request and a UDP echo request: the UDP example must answer
# both (ARP reply, UDP echo with the same payload), the TCP example the ARP
# request; both must report their port and leak no mbuf. Proves the install is
# usable by another project.
set -euo pipefail
build=$1
src=$2
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
DESTDIR="$stage" meson install -C "$build" --no-rebuild --quiet >/dev/null
prefix=$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c \
  'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
root="$stage$prefix"
pc=$(find "$root" -name libtern.pc | head -1)
[ -n "$pc" ] || { echo "libtern.pc was not installed"; exit 1; }
so=$(find "$root" -name 'libtern.so' | head -1)
[ -n "$so" ] || { echo "libtern.so was not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
cflags=$(pkg-config --cflags libtern | sed "s|-I$prefix|-I$root|g")
libs=$(pkg-config --libs libtern | sed "s|-L$prefix|-L$root|g")
echo "pkg-config libtern: $cflags $libs"
# The installed surface is what applications call (docs/embedding.md): the engine's headers (the
# TCB in tern/tcp/tcp.hpp, Core, the UDP engine, L2/L3) are internal and must not be installed, and
# every installed header must compile on its own (no include of an internal header).
incroot="$root/include"
[ -d "$incroot" ] || incroot=$(dirname "$(find "$root" -path '*/tern/api/net.hpp' | head -1)")/../..
for internal in tern/tcp/tcp.hpp tern/tcp/tcp_internal.hpp tern/stack/core.hpp tern/udp/udp.hpp \
                tern/l3/ipv4.hpp tern/l2/interface.hpp tern/stack/steering.hpp; do
  [ ! -e "$incroot/$internal" ] || { echo "internal header installed: $internal"; exit 1; }
done
nheaders=0
while IFS= read -r h; do
  rel=${h#"$incroot"/}
  case "$rel" in *.h) lang=c; comp=cc; std=-std=c11 ;; *) lang=c++; comp=c++; std=-std=c++20 ;; esac
  echo "#include <$rel>" | $comp $std -x $lang -fsyntax-only $cflags - ||
    { echo "installed header does not compile alone: $rel"; exit 1; }
  nheaders=$((nheaders + 1))
done < <(find "$incroot/tern" -type f \( -name '*.hpp' -o -name '*.h' \) | sort)
echo "installed surface: $nheaders headers, each compiles alone; no engine header installed"
c++ -std=c++20 -o "$stage/embed" "$src/docs/examples/embed_udp_echo.cpp" $cflags $libs
# The TCP/Poller example of docs/api.md must build against the installed headers too.
c++ -std=c++20 -o "$stage/tcp_echo_poller" "$src/docs/examples/tcp_echo_poller.cpp" $cflags $libs
# The coroutine examples of docs/api.md, and the C API of libtern-posix (pkg-config libtern-posix).
c++ -std=c++20 -o "$stage/coro_echo_server" "$src/docs/examples/coro_echo_server.cpp" $cflags $libs
c++ -std=c++20 -o "$stage/coro_rr_client" "$src/docs/examples/coro_rr_client.cpp" $cflags $libs
pcp=$(find "$root" -name libtern-posix.pc | head -1)
[ -n "$pcp" ] || { echo "libtern-posix.pc was not installed"; exit 1; }
pre=$(find "$root" -name 'libtern-preload.so' | head -1)
[ -n "$pre" ] || { echo "libtern-preload.so was not installed"; exit 1; }
pcflags=$(pkg-config --cflags libtern-posix | sed "s|-I$prefix|-I$root|g")
plibs=$(pkg-config --libs libtern-posix | sed "s|-L$prefix|-L$root|g")
cat >"$stage/posix_c.c" <<'C'
#include <stdio.h>
#include <tern/posix/socket.h>
int main(void) {  /* the C header compiles as C and links: no stack needed to ask about fd 0 */
  printf("fd 0 is %sa tern socket\n", tern_is_socket(0) ? "" : "not ");
  return tern_is_socket(0);
}
C
cc -o "$stage/posix_c" "$stage/posix_c.c" $pcflags $plibs
LD_LIBRARY_PATH="$(dirname "$pcp")/..:$(dirname "$so")" "$stage/posix_c"
libdir=$(dirname "$so")
# A peer (198.18.0.1) asks for 198.18.0.2's MAC, then sends a UDP echo request (broadcast
# frame, so the examples need not know their port's MAC).
/usr/bin/python3 - "$stage/in.pcap" <<'PY'
import sys
from scapy.all import ARP, IP, UDP, Ether, wrpcap
peer = "02:00:00:00:00:01"
wrpcap(sys.argv[1], [
    Ether(src=peer, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=peer, psrc="198.18.0.1", pdst="198.18.0.2"),
    Ether(src=peer, dst="ff:ff:ff:ff:ff:ff") / IP(src="198.18.0.1", dst="198.18.0.2") / UDP(sport=5555, dport=7)
    / b"hello from the install test",
])
PY
run() {  # run EXAMPLE NAME OUT_PCAP: prints its output, fails without a port or with a leak
  local out
  out=$(LD_LIBRARY_PATH="$libdir" "$stage/$1" "net_pcap_$1,rx_pcap=$stage/in.pcap,tx_pcap=$stage/$2" \
    198.18.0.2/24 1 2>&1)
  echo "$out" | tail -2
  echo "$out" | grep -q '"ports":\[{' || { echo "$1: its stats name no port: the stack never ran"; exit 1; }
  echo "$out" | grep -q "leaked mbufs: 0" || { echo "$1 did not shut down cleanly"; exit 1; }
}
check() {  # check OUT_PCAP WANT_UDP_ECHO
  /usr/bin/python3 - "$stage/$1" "$2" <<'PY'
import sys
from scapy.all import ARP, UDP, rdpcap
frames = rdpcap(sys.argv[1])
arp = [f for f in frames if ARP in f and f[ARP].op == 2 and f[ARP].psrc == "198.18.0.2"]
echo = [f for f in frames if UDP in f and f[UDP].sport == 7 and bytes(f[UDP].payload) == b"hello from the install test"]
ok = bool(arp) and (bool(echo) or sys.argv[2] == "0")
print("%s: %d frames, ARP reply %s, UDP echo %s" % (sys.argv[1].rsplit("/", 1)[-1], len(frames),
      "yes" if arp else "NO", "yes" if echo else ("NO" if sys.argv[2] == "1" else "not expected")))
sys.exit(0 if ok else 1)
PY
}
run embed out.pcap
check out.pcap 1 || { echo "the UDP example did not answer"; exit 1; }
run tcp_echo_poller out2.pcap
check out2.pcap 0 || { echo "the TCP Poller example did not answer ARP"; exit 1; }

# The coroutine examples on net_tap in a namespace, against the kernel (root and /dev/net/tun only).
if [ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ]; then
  NS=tern-inst-$$
  IF=tinst$$
  IF=${IF:0:15}
  PIDS=()
  finish() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$stage"
  }
  trap finish EXIT
  # tap_up NAME PID LOG...: wait (while PID lives) for the example's tap in $NS, then give the
  # kernel side its MAC and 198.18.0.1/24; on failure print the logs and exit.
  tap_up() {
    local name=$1 pid=$2
    shift 2
    for _ in $(seq 1 300); do
      ip netns exec "$NS" ip link show "$IF" >/dev/null 2>&1 && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    ip netns exec "$NS" ip link show "$IF" >/dev/null 2>&1 || { echo "$name: no $IF appeared"; cat "$@"; exit 1; }
    ip netns exec "$NS" ip link set "$IF" address 02:00:00:00:00:01
    ip netns exec "$NS" ip addr add 198.18.0.1/24 dev "$IF"
  }
  ip netns add "$NS"
  ip netns exec "$NS" ip link set lo up
  # Started directly (not through a function), so $! is the example's own PID.
  ip netns exec "$NS" env LD_LIBRARY_PATH="$libdir" "$stage/coro_echo_server" "net_tap0,iface=$IF" 198.18.0.2/24 7 30 \
    >"$stage/coro_srv.out" 2>"$stage/coro_srv.err" &
  PIDS+=($!)
  tap_up coro_echo_server "${PIDS[0]}" "$stage/coro_srv.err"
  ip netns exec "$NS" ip link set "$IF" up
  head -c 2000000 /dev/urandom >"$stage/in.bin"
  ip netns exec "$NS" socat -t 5 -T 15 - "TCP4:198.18.0.2:7,retry=50,interval=0.1" <"$stage/in.bin" >"$stage/out.bin"
  cmp -s "$stage/in.bin" "$stage/out.bin" || { echo "coro_echo_server: the echo differs"; cat "$stage/coro_srv.err"; exit 1; }
  echo "coro_echo_server: 2000000 bytes echoed byte-exact"
  kill -TERM "${PIDS[0]}"; rc=0; wait "${PIDS[0]}" || rc=$?
  grep -q "leaked mbufs: 0" "$stage/coro_srv.out" || { echo "coro_echo_server did not shut down cleanly ($rc)"; cat "$stage/coro_srv.out" "$stage/coro_srv.err"; exit 1; }
  PIDS=()
  ip netns del "$NS"
  # The client: against a kernel echo server (socat, PIPE) in the namespace. A fresh namespace and
  # interface name: the server's tap may still be going away.
  NS=tern-instc-$$
  IF=tinsc$$
  IF=${IF:0:15}
  ip netns add "$NS"
  ip netns exec "$NS" ip link set lo up
  ip netns exec "$NS" env LD_LIBRARY_PATH="$libdir" "$stage/coro_rr_client" "net_tap0,iface=$IF" 198.18.0.2/24 \
    198.18.0.1 7 200 3000 >"$stage/coro_cli.out" 2>"$stage/coro_cli.err" &
  cli=$!
  tap_up coro_rr_client "$cli" "$stage/coro_cli.out" "$stage/coro_cli.err"
  # The kernel's echo server listens before the link comes up (the client connects at once).
  ip netns exec "$NS" socat TCP4-LISTEN:7,bind=198.18.0.1,reuseaddr PIPE &
  PIDS+=($!)
  for _ in $(seq 1 100); do ip netns exec "$NS" ss -Hltn 'sport = :7' | grep -q LISTEN && break; sleep 0.05; done
  ip netns exec "$NS" ip link set "$IF" up
  rc=0; wait "$cli" || rc=$?
  cat "$stage/coro_cli.out"
  [ "$rc" -eq 0 ] && grep -q "leaked mbufs: 0" "$stage/coro_cli.out" ||
    { echo "coro_rr_client failed ($rc)"; cat "$stage/coro_cli.err"; exit 1; }
  echo "coro_rr_client: 200 request/responses of 3000 bytes verified"
else
  echo "coroutine examples built; not run (needs root and /dev/net/tun)"
fi
echo "install + embed OK"
