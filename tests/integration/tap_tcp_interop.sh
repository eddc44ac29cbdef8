#!/usr/bin/env bash
# integration-tap_tcp_interop: tern's TCP against the Linux kernel's, both directions, on a
# DPDK net_tap device inside a network namespace this test creates and removes.
#
#   tap_tcp_interop.sh TERN_ECHO [WORKDIR]
#
# Its files (each tern-echo's stdout/stderr, tcpdump captures) go to a new directory under
# WORKDIR (default /tmp), removed when the test passes and kept when it fails.
# Helpers: tap_tcp_peer.py (kernel sockets; scapy for the SYN burst) under /usr/bin/python3.
#
# tern-echo instance A (TCP echo server, defaults):
#  1. kernel client -> tern server: 64 MiB of random data over one connection, the echo
#     read by a thread; sha256(sent) == sha256(received); EOF after SHUT_WR
#  3. 500 kernel connections, all established before any data flows, each echoing 64 KiB
#     byte-exact and ending in EOF
#     after SIGTERM: exit status 0, mbufs_leaked 0, passive_opens >= 501, and the TSO path used
#     (tcp gso_segs >= 1, interface tso_frames >= 1); during check 1 the kernel side captures
#     3000 frames from tern: each within the MTU with valid checksums, >= 1000 MSS-sized
#     (tap_check_tso.py: net_tap cut tern's up-to-64 KiB super-segments)
# instance B (client mode):
#  2. tern client -> kernel server: tern-echo --connect to a kernel echo server (Python)
#     with 16 MiB messages (tern-echo's largest) for a few seconds: exit status 0, errors,
#     verify_errors, connect_failures, mbufs_leaked all 0, >= 64 MiB verified byte by byte
#     by tern, and the kernel's sha256 of what it received equals the sha256 of tern's
#     payload pattern of that length
# instance C (--backlog 64):
#  5. scapy sends 10,000 SYNs from 198.19.100.0/24 (unanswered: tern's SYN,ACKs go to the
#     kernel as gateway, which does not forward); during the burst a kernel client connects
#     and echoes 1 KiB within 5 s
#     after SIGTERM: exit status 0, mbufs_leaked 0, syncookies_sent >= 1,
#     syncookies_validated >= 1 (the client's handshake completed through a cookie)
# instance D (--keepalive 1,0.5,3):
#  4. a kernel client echoes 1 KiB, then its interface goes down: tern-echo must report
#     "failed: timed_out (keepalive: ...)" 2.2..4 s after the link goes down (idle + count x interval = 2.5 s)
#     after SIGTERM: exit status 0, mbufs_leaked 0, keepalive_drops >= 1
#
# Needs root and /dev/net/tun (exit 77 = skipped otherwise). Traffic stays in the namespace
# (198.18.0.0/24; the burst's sources, 198.19.100.0/24, are off-link and never leave it). Namespace, tap
# and EAL file prefix are unique per run, so several copies may run side by side.
set -uo pipefail

TERN_ECHO=${1:?usage: $0 TERN_ECHO [WORKDIR]}
HERE=$(cd "$(dirname "$0")" && pwd)
PEER_PY="$HERE/tap_tcp_peer.py"
. "$HERE/tap_lib.sh"
require_tap_env "$TERN_ECHO"

NS=tern-itest-tti-$$
IF=ttti$$               # tap names are at most 15 characters
IF=${IF:0:15}
PEER=198.18.0.1
PEER_MAC=02:00:00:00:00:01
TERN=198.18.0.2
SEED=${TERN_TEST_SEED:-$$}
SERVER_PORT=7007        # the kernel echo server of check 2
BIG=$((64 << 20))       # 64 MiB
KA_IDLE=1 KA_INTERVAL=0.5 KA_COUNT=3 KA_LIMIT=4
WORK=$(mktemp -d "${2:-/tmp}/tern-itest-tti.XXXXXX") || { echo "FAIL: cannot create a work directory"; exit 1; }
PID=""                  # the running tern-echo
NAME=""                 # its name: its files are $WORK/$NAME.stdout and .stderr
SRV_PID=""              # the kernel echo server (check 2)
DUMP_PID=""
TERN_MAC=""
FAILED=0
T0=$(date +%s%N)

dump_tern() {  # the files of tern-echo instance $1
  echo "---- tern-echo $1 stderr ($WORK/$1.stderr) ----"
  cat "$WORK/$1.stderr" 2>/dev/null
  echo "---- tern-echo $1 stdout / JSON ($WORK/$1.stdout) ----"
  cat "$WORK/$1.stdout" 2>/dev/null
}

stop_dump() { stop_pid "$DUMP_PID"; DUMP_PID=""; }  # tcpdump closes its file on SIGTERM

cleanup() {
  local rc=$?
  stop_dump
  stop_pid "$SRV_PID"
  stop_tern
  ip netns del "$NS" 2>/dev/null
  if [ "$rc" -eq 0 ]; then rm -rf "$WORK"; else echo "(files kept in $WORK)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

finish() {
  local ms=$((($(date +%s%N) - T0) / 1000000))
  printf '\n== %d check(s) failed; %d.%03d s\n' "$FAILED" $((ms / 1000)) $((ms % 1000))
  if [ "$FAILED" -ne 0 ]; then
    for n in server client backlog64 keepalive; do [ -e "$WORK/$n.stderr" ] && dump_tern "$n"; done
    exit 1
  fi
  echo "tap_tcp_interop: all checks passed"
  exit 0
}

wait_tap() {  # until net_tap created $IF in the namespace (and, for a server, "ready")
  local want_ready=$1
  for _ in $(seq 1 300); do   # 30 s: EAL start-up is slow on a loaded machine
    if ! kill -0 "$PID" 2>/dev/null; then
      wait "$PID"; echo "FAIL: tern-echo $NAME exited early with status $?"; PID=""; dump_tern "$NAME"; exit 1
    fi
    if in_ns ip link show "$IF" >/dev/null 2>&1 &&
       { [ "$want_ready" -eq 0 ] || grep -q "tern-echo: ready" "$WORK/$NAME.stderr"; }; then
      return 0
    fi
    sleep 0.05
  done
  echo "FAIL: no interface $IF or no 'tern-echo: ready' from tern-echo $NAME within 30 s"; dump_tern "$NAME"; exit 1
}

peer_up() {  # the kernel side of the tap: its own MAC, $PEER/24, up
  in_ns ip link set "$IF" address "$PEER_MAC" &&
    in_ns ip addr add "$PEER/24" dev "$IF" &&
    in_ns ip link set "$IF" up || { echo "FAIL: cannot configure $IF"; dump_tern "$NAME"; exit 1; }
}

start_server() {  # start_server NAME [tern-echo options]: a TCP echo server on port 7
  NAME=$1
  shift
  # tern-echo is started inside the namespace, so net_tap creates the tap there.
  ip netns exec "$NS" "$TERN_ECHO" --dev "net_tap0,iface=$IF" --ip "$TERN/24" --gateway "$PEER" \
    --udp-port 0 --tcp-port 7 "$@" >"$WORK/$NAME.stdout" 2>"$WORK/$NAME.stderr" &
  PID=$!
  echo "  tern-echo $NAME pid $PID: --dev net_tap0,iface=$IF --ip $TERN/24 --gateway $PEER --tcp-port 7 $*"
  wait_tap 1
  TERN_MAC=$(sed -n 's/^tern-echo: port .* mac \([0-9a-f:]\{17\}\)$/\1/p' "$WORK/$NAME.stderr" | head -n1)
  [ -n "$TERN_MAC" ] || { echo "FAIL: no 'tern-echo: port ... mac XX' line on stderr"; dump_tern "$NAME"; exit 1; }
  peer_up
  # Both neighbour tables warm: the first check does not wait for an ARP retry.
  in_ns ping -c 1 -W 2 "$TERN" >/dev/null 2>&1 || in_ns ping -c 1 -W 2 "$TERN" >/dev/null 2>&1 ||
    fail "tern-echo $NAME does not answer ping"
}

stop_server_and_check() {  # SIGTERM; exit status 0; counters (args: NAME>=N requirements)
  stop_tern
  if [ "$TERN_RC" = "0" ]; then ok "tern-echo $NAME exited with status 0"; else fail "tern-echo $NAME exited with status $TERN_RC"; fi
  if "$PY" "$PEER_PY" counters "$WORK/$NAME.stdout" "$@"; then :; else fail "tern-echo $NAME counters (see above)"; fi
}

say "namespace $NS; tern-echo on net_tap0,iface=$IF as $TERN/24, the kernel as $PEER/24 (seed $SEED)"
ip netns add "$NS" || { echo "FAIL: cannot create namespace $NS"; exit 1; }
in_ns ip link set lo up
# The kernel must silently drop what tern sends to the burst's spoofed sources (check 5).
in_ns sysctl -qw net.ipv4.ip_forward=0 || { echo "FAIL: cannot turn off forwarding in $NS (check 5 needs it)"; exit 1; }

# ---------------------------------------------------------------- instance A
say "tern-echo A: TCP echo server"
start_server server
grep '^tern-echo:' "$WORK/server.stderr" | sed 's/^/  /'

say "1. kernel client -> tern server: 64 MiB over one connection, sha256 both ways"
# TSO (issue 11): tern hands net_tap super-segments; the kernel side captures the first frames
# tern sent, whole, to check the PMD cut them to MSS-sized frames with valid checksums.
if command -v tcpdump >/dev/null; then
  ip netns exec "$NS" tcpdump -i "$IF" -U -n -s 0 -c 3000 -Z root -w "$WORK/tso.pcap" \
    "ether src $TERN_MAC and tcp" 2>"$WORK/tcpdump-tso.log" &
  DUMP_PID=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$WORK/tcpdump-tso.log" && break; sleep 0.05; done
fi
if in_ns "$PY" "$PEER_PY" stream "$TERN" 7 "$BIG" "$SEED"; then :; else fail "64 MiB stream (see above)"; fi
if [ -n "$DUMP_PID" ]; then
  stop_dump
  if "$PY" "$HERE/tap_check_tso.py" "$WORK/tso.pcap" "$TERN_MAC" 1500 1000; then :; else
    fail "the frames net_tap cut from tern's super-segments (see above)"
  fi
fi

say "3. 500 concurrent kernel connections, 64 KiB echoed on each"
if in_ns "$PY" "$PEER_PY" many "$TERN" 7 500 65536 "$SEED"; then :; else fail "500 connections (see above)"; fi

# Where the losses behind tern's retransmissions happen: the kernel side's "TX dropped"
# counts frames the tap could not queue for tern (its queue holds txqueuelen frames).
in_ns ip -s link show dev "$IF" | sed -n '/RX:/,$p' | sed 's/^ */  | /'

say "A: SIGTERM tern-echo; its counters"
stop_server_and_check "passive_opens>=501" "gso_segs>=1" "if.tso_frames>=1"

# ---------------------------------------------------------------- instance B
say "2. tern client -> kernel server: >= 64 MiB in 16 MiB messages, verified by tern and by sha256"
NAME=client
# (ip netns exec execs python, so $! is the server itself; a shell function would add a subshell.)
ip netns exec "$NS" "$PY" "$PEER_PY" server "$SERVER_PORT" 16777216 "$WORK/server-results.json" \
  >"$WORK/kernel-server.log" 2>&1 &
SRV_PID=$!
for _ in $(seq 1 100); do grep -q "listening" "$WORK/kernel-server.log" && break; sleep 0.05; done
grep -q "listening" "$WORK/kernel-server.log" || { cat "$WORK/kernel-server.log"; fail "the kernel echo server did not start"; }
CLIENT_S=6
ip netns exec "$NS" "$TERN_ECHO" --dev "net_tap0,iface=$IF" --ip "$TERN/24" --gateway "$PEER" \
  --connect "$PEER:$SERVER_PORT" --connections 1 --message-size 16777216 --duration "$CLIENT_S" \
  >"$WORK/$NAME.stdout" 2>"$WORK/$NAME.stderr" &
PID=$!
echo "  tern-echo client pid $PID: --connect $PEER:$SERVER_PORT --connections 1 --message-size 16777216 --duration $CLIENT_S"
wait_tap 0
peer_up   # tern's first ARP request may go unanswered: it asks again after a second
for _ in $(seq 1 $(((CLIENT_S + 30) * 10))); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PID" 2>/dev/null; then fail "tern-echo client still running $((CLIENT_S + 30)) s after its start"; fi
stop_tern   # reaps it (SIGTERM only if still running)
if [ "$TERN_RC" = "0" ]; then ok "tern-echo client exited with status 0"; else fail "tern-echo client exited with status $TERN_RC"; fi
sleep 0.3
stop_pid "$SRV_PID" 30   # it reports a connection when it ends, or at SIGTERM if still open
SRV_PID=""
if "$PY" "$PEER_PY" client-result "$WORK/client.stdout" "$WORK/server-results.json" "$BIG"; then :; else
  fail "tern client -> kernel server (see above)"
fi

# ---------------------------------------------------------------- instance C
say "tern-echo C: TCP echo server with --backlog 64"
start_server backlog64 --backlog 64
if command -v tcpdump >/dev/null; then
  # The legitimate client's packets only (the burst's SYN,ACKs go to 198.19.100.0/24).
  # (ip netns exec execs tcpdump, so $! is tcpdump itself.)
  ip netns exec "$NS" tcpdump -i "$IF" -U -n -s 128 -Z root -w "$WORK/legit-client.pcap" "tcp and host $PEER" \
    2>"$WORK/tcpdump.log" &
  DUMP_PID=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$WORK/tcpdump.log" && break; sleep 0.05; done
  grep -q "listening on" "$WORK/tcpdump.log" || { cat "$WORK/tcpdump.log"; fail "tcpdump did not start"; }
fi

say "5. 10,000 SYNs from scapy; a kernel client connects and echoes 1 KiB during the burst"
if in_ns "$PY" "$PEER_PY" synburst "$IF" "$TERN_MAC" "$PEER_MAC" "$TERN" 7 10000 "$SEED" 5 12000; then :; else
  fail "SYN burst (see above)"
  if [ -n "$DUMP_PID" ]; then
    sleep 0.2
    stop_dump
    echo "  the legitimate client's packets (tcpdump on $IF):"
    tcpdump -n -r "$WORK/legit-client.pcap" 2>/dev/null | head -n 20 | sed 's/^/  | /'
  fi
fi
stop_dump
kill -0 "$PID" 2>/dev/null || fail "tern-echo backlog64 died during the burst"

say "C: SIGTERM tern-echo; its counters"
stop_server_and_check "syncookies_sent>=1" "syncookies_validated>=1"

# ---------------------------------------------------------------- instance D
say "tern-echo D: TCP echo server with --keepalive $KA_IDLE,$KA_INTERVAL,$KA_COUNT"
start_server keepalive --keepalive "$KA_IDLE,$KA_INTERVAL,$KA_COUNT"

say "4. keepalive: the kernel peer vanishes ($IF down); tern reports the timeout"
if in_ns "$PY" "$PEER_PY" keepalive "$TERN" 7 "$IF" "$WORK/keepalive.stderr" "$KA_IDLE" "$KA_INTERVAL" "$KA_COUNT" \
  "$KA_LIMIT"; then :; else
  fail "keepalive (see above)"
fi

say "D: SIGTERM tern-echo; its counters"
stop_server_and_check "keepalive_drops>=1"
finish
