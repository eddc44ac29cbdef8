#!/usr/bin/env bash
# integration-tap_tcp_modern: issue 12's TCP against the Linux kernel's over net_tap in a network
# namespace this test creates and removes (net.ipv4.tcp_fastopen=3, net.ipv4.tcp_ecn=1 there).
#
#   tap_tcp_modern.sh TERN_ECHO [WORKDIR]
#
# tern-echo A (server, --fastopen 64 --ecn passive):
#  1. TFO kernel -> tern: 20 kernel connections send 1000 bytes with MSG_FASTOPEN and read the echo
#     byte-exact; the first asks for a cookie, the rest carry their data on the SYN
#  2. ECN kernel -> tern: 16 MiB each way over an ECN connection (sha256); a capture on the kernel
#     side shows tern's data frames marked ECT and none of its pure ACKs
#     after SIGTERM: exit 0, no mbuf leaked, tfo_accepted >= 15, tfo_cookies_sent >= 1,
#     ecn_negotiated >= 1
# tern-echo B (server, --loss 0.02: 2 % of what tern's port sends and receives is dropped):
#  3. 16 MiB each way from a kernel client, echoed by tern through the loss: the kernel's sha256
#     of the echo equals what it sent; tern repaired losses (retrans_segs, rack_marked_lost >= 1)
# tern-echo C (client, --connect --short --fastopen 1 --ecn on) against a kernel echo server whose
#   listener has TCP_FASTOPEN:
#  4. TFO and ECN tern -> kernel: short connections for 2 s, every echo verified by tern;
#     tfo_syn_data >= 1, tfo_data_acked >= 1 (the kernel took data from tern's SYNs),
#     ecn_negotiated >= 1; the kernel's TcpExtTCPFastOpenPassive counter moved
#
# Needs root and /dev/net/tun (exit 77 = skipped otherwise). Addresses 198.18.0.0/24 only.
set -uo pipefail

TERN_ECHO=${1:?usage: $0 TERN_ECHO [WORKDIR]}
HERE=$(cd "$(dirname "$0")" && pwd)
PEER_PY="$HERE/tap_tcp_peer.py"
MODERN_PY="$HERE/tap_tcp_modern.py"
. "$HERE/tap_lib.sh"
require_tap_env "$TERN_ECHO"
command -v tcpdump >/dev/null || { echo "FAIL: tcpdump not found (scripts/setup.sh installs it)"; exit 1; }

NS=tern-itest-ttm-$$
IF=tttm$$
IF=${IF:0:15}
PEER=198.18.0.1
PEER_MAC=02:00:00:00:00:01
TERN=198.18.0.2
SERVER_PORT=7008
SEED=${TERN_TEST_SEED:-$$}
WORK=$(mktemp -d "${2:-/tmp}/tern-itest-ttm.XXXXXX") || { echo "FAIL: cannot create a work directory"; exit 1; }
PID="" NAME="" SRV_PID="" DUMP_PID=""
FAILED=0

dump_tern() {
  echo "---- tern-echo $1 stderr ----"; cat "$WORK/$1.stderr" 2>/dev/null
  echo "---- tern-echo $1 stdout ----"; cat "$WORK/$1.stdout" 2>/dev/null
}
cleanup() {
  local rc=$?
  stop_pid "$DUMP_PID"
  stop_pid "$SRV_PID"
  stop_tern
  ip netns del "$NS" 2>/dev/null
  if [ "$rc" -eq 0 ]; then rm -rf "$WORK"; else echo "(files kept in $WORK)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

wait_tap() {  # wait_tap WANT_READY: until net_tap made $IF in the namespace (and the server is ready)
  for _ in $(seq 1 300); do
    if ! kill -0 "$PID" 2>/dev/null; then
      wait "$PID"; echo "FAIL: tern-echo $NAME exited early with status $?"; PID=""; dump_tern "$NAME"; exit 1
    fi
    if in_ns ip link show "$IF" >/dev/null 2>&1 &&
       { [ "$1" -eq 0 ] || grep -q "tern-echo: ready" "$WORK/$NAME.stderr"; }; then
      return 0
    fi
    sleep 0.05
  done
  echo "FAIL: no interface $IF (or no 'ready') from tern-echo $NAME within 30 s"; dump_tern "$NAME"; exit 1
}

peer_up() {
  in_ns ip link set "$IF" address "$PEER_MAC" && in_ns ip addr add "$PEER/24" dev "$IF" &&
    in_ns ip link set "$IF" up || { echo "FAIL: cannot configure $IF"; dump_tern "$NAME"; exit 1; }
}

start_tern() {  # start_tern NAME WANT_READY [tern-echo options]
  NAME=$1
  local ready=$2
  shift 2
  ip netns exec "$NS" "$TERN_ECHO" --dev "net_tap0,iface=$IF" --ip "$TERN/24" --gateway "$PEER" \
    --udp-port 0 "$@" >"$WORK/$NAME.stdout" 2>"$WORK/$NAME.stderr" &
  PID=$!
  echo "  tern-echo $NAME pid $PID: $*"
  wait_tap "$ready"
  peer_up
  for _ in 1 2 3; do in_ns ping -c 1 -W 2 "$TERN" >/dev/null 2>&1 && return 0; done
  fail "tern-echo $NAME does not answer ping"
}

stop_and_check() {  # stop_and_check NAME>=N ...: SIGTERM, exit status 0, counters
  stop_tern
  if [ "$TERN_RC" = "0" ]; then ok "tern-echo $NAME exited with status 0"; else fail "tern-echo $NAME exited with status $TERN_RC"; fi
  "$PY" "$MODERN_PY" counters "$WORK/$NAME.stdout" "$@" || fail "tern-echo $NAME counters"
}

say "namespace $NS; tern on net_tap0,iface=$IF as $TERN/24, the kernel as $PEER/24 (seed $SEED)"
ip netns add "$NS" || { echo "FAIL: cannot create namespace $NS"; exit 1; }
in_ns ip link set lo up
in_ns sysctl -qw net.ipv4.tcp_fastopen=3 || { echo "FAIL: cannot set net.ipv4.tcp_fastopen in $NS"; exit 1; }
in_ns sysctl -qw net.ipv4.tcp_ecn=1 || { echo "FAIL: cannot set net.ipv4.tcp_ecn in $NS"; exit 1; }

# ---------------------------------------------------------------- A: TFO and ECN, kernel -> tern
say "tern-echo A: server with Fast Open (64 pending) and ECN (passive)"
start_tern server 1 --tcp-port 7 --fastopen 64 --ecn passive --idle adaptive
say "1. TFO kernel -> tern: 20 connections, 1000 bytes each on the SYN once the kernel has a cookie"
in_ns "$PY" "$MODERN_PY" tfo_client "$TERN" 7 20 1000 || fail "Fast Open echo (kernel client)"
say "2. ECN kernel -> tern: 16 MiB each way, tern's data frames marked ECT on the wire"
# Started directly (not through the in_ns function), so $! is tcpdump's own PID and stop_pid reaches it.
ip netns exec "$NS" tcpdump -i "$IF" -U -s 96 -c 4000 -w "$WORK/ecn.pcap" "tcp and src host $TERN" >/dev/null 2>&1 &
DUMP_PID=$!
sleep 0.5
in_ns "$PY" "$PEER_PY" stream "$TERN" 7 $((16 << 20)) "$SEED" || fail "16 MiB ECN stream"
stop_pid "$DUMP_PID"; DUMP_PID=""
"$PY" "$MODERN_PY" ecn_marks "$WORK/ecn.pcap" "$TERN" 100 || fail "ECT marks on tern's frames"
stop_and_check tfo_accepted\>=15 tfo_cookies_sent\>=1 ecn_negotiated\>=1

# ---------------------------------------------------------------- B: loss on tern's port
say "tern-echo B: server with 2 % loss injected on its port (both directions)"
start_tern lossy 1 --tcp-port 7 --loss 0.02 --idle adaptive
say "3. 16 MiB each way through the loss, verified by the kernel (sha256)"
in_ns "$PY" "$PEER_PY" stream "$TERN" 7 $((16 << 20)) "$SEED" || fail "16 MiB stream under 2 % loss"
stop_and_check retrans_segs\>=1 rack_marked_lost\>=1

# ---------------------------------------------------------------- C: TFO and ECN, tern -> kernel
say "4. tern client -> kernel Fast Open echo server: short connections, data on tern's SYNs, ECN on"
ip netns exec "$NS" "$PY" "$MODERN_PY" tfo_server "$SERVER_PORT" "$WORK/tfo_server.json" &
SRV_PID=$!
sleep 0.5
before=$(in_ns nstat -az TcpExtTCPFastOpenPassive 2>/dev/null | awk '/TcpExtTCPFastOpenPassive/ {print $2}')
start_tern client 0 --tcp-port 0 --connect "$PEER:$SERVER_PORT" --short --fastopen 1 --ecn on \
  --message-size 512 --duration 3 --idle adaptive
for _ in $(seq 1 200); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
stop_and_check tfo_cookie_requests\>=1 tfo_syn_data\>=1 tfo_data_acked\>=1 ecn_negotiated\>=1
after=$(in_ns nstat -az TcpExtTCPFastOpenPassive 2>/dev/null | awk '/TcpExtTCPFastOpenPassive/ {print $2}')
if [ -n "$after" ] && [ "${after:-0}" -gt "${before:-0}" ]; then
  ok "kernel TcpExtTCPFastOpenPassive ${before:-0} -> $after (it took data from tern's SYNs)"
else
  fail "kernel TcpExtTCPFastOpenPassive did not move (${before:-?} -> ${after:-?})"
fi
stop_pid "$SRV_PID"; SRV_PID=""

if [ "$FAILED" -ne 0 ]; then
  for n in server lossy client; do [ -e "$WORK/$n.stderr" ] && dump_tern "$n"; done
  echo "== $FAILED check(s) failed"
  exit 1
fi
echo "tap_tcp_modern: all checks passed"
exit 0
