#!/usr/bin/env bash
# integration-tap_kernel_peer: tern-echo on a DPDK net_tap device, exercised by the Linux
# kernel as its peer, all inside a network namespace this test creates and removes.
#
#   tap_kernel_peer.sh TERN_ECHO [WORKDIR]
#
# Its files (tern-echo stdout/stderr, tcpdump capture) go to a new directory under WORKDIR
# (default /tmp), removed when the test passes and kept when it fails.
#
# 1. ping -c 20 -i 0.05 198.18.0.2: 20 replies
# 2. the kernel's neighbour entry for 198.18.0.2 holds the MAC tern-echo reports
# 3. 1,000 UDP datagrams of random sizes 1..1472 come back byte-exact (tap_udp_peer.py)
# 4. a 60,000-byte datagram (fragmented by the kernel) comes back whole and equal
# 5. a datagram to closed UDP port 9999 yields ConnectionRefusedError
# 6. 1,000 garbage frames (tap_garbage.py, scapy) do not disturb a following ping -c 5
# (and, when tcpdump is installed, every frame tern sent is well-formed: tap_check_wire.py)
# 7. after SIGTERM tern-echo's JSON counters: mbufs_leaked == 0, udp rx >= 1001,
#    icmp echo_requests >= 25, ipv4 drops > 0 (tap_check_counters.py)
#
# Needs root and /dev/net/tun (exit 77 = skipped otherwise). Traffic stays in the namespace
# (198.18.0.0/24). Namespace, tap and EAL file prefix are unique per run, so several copies
# may run side by side.
set -uo pipefail

TERN_ECHO=${1:?usage: $0 TERN_ECHO [WORKDIR]}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap_lib.sh"
require_tap_env "$TERN_ECHO"

NS=tern-itest-tkp-$$
IF=ttkp$$               # tap names are at most 15 characters
IF=${IF:0:15}
PEER=198.18.0.1
PEER_MAC=02:00:00:00:00:01
TERN=198.18.0.2
SEED=${TERN_TEST_SEED:-$$}
WORK=$(mktemp -d "${2:-/tmp}/tern-itest-tkp.XXXXXX") || { echo "FAIL: cannot create a work directory"; exit 1; }
PID=""
DUMP_PID=""
FAILED=0
T0=$(date +%s%N)

dump_tern() {
  echo "---- tern-echo stderr ($WORK/stderr) ----"
  cat "$WORK/stderr" 2>/dev/null
  echo "---- tern-echo stdout / JSON ($WORK/stdout) ----"
  cat "$WORK/stdout" 2>/dev/null
}

stop_dump() { stop_pid "$DUMP_PID"; DUMP_PID=""; }  # tcpdump closes its file on SIGTERM

cleanup() {
  local rc=$?
  stop_dump
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
  if [ "$FAILED" -ne 0 ]; then dump_tern; exit 1; fi
  echo "tap_kernel_peer: all checks passed"
  exit 0
}

say "namespace $NS; tern-echo on net_tap0,iface=$IF as $TERN/24 (seed $SEED)"
ip netns add "$NS" || { echo "FAIL: cannot create namespace $NS"; exit 1; }
in_ns ip link set lo up
# tern-echo is started inside the namespace, so net_tap creates the tap there.
# --gateway as in config/echo-tap.yaml: replies to off-link sources leave via the kernel.
ip netns exec "$NS" "$TERN_ECHO" --dev "net_tap0,iface=$IF" --ip "$TERN/24" --gateway "$PEER" --udp-port 7 \
  >"$WORK/stdout" 2>"$WORK/stderr" &
PID=$!
echo "  tern-echo pid $PID: $TERN_ECHO --dev net_tap0,iface=$IF --ip $TERN/24 --gateway $PEER --udp-port 7"

ready=0
for _ in $(seq 1 300); do   # 30 s: EAL start-up is slow on a loaded machine
  if ! kill -0 "$PID" 2>/dev/null; then
    wait "$PID"; echo "FAIL: tern-echo exited early with status $?"; PID=""; dump_tern; exit 1
  fi
  if in_ns ip link show "$IF" >/dev/null 2>&1 && grep -q "tern-echo: ready" "$WORK/stderr"; then ready=1; break; fi
  sleep 0.1
done
if [ "$ready" -ne 1 ]; then echo "FAIL: no interface $IF or no 'tern-echo: ready' within 30 s"; dump_tern; exit 1; fi
grep '^tern-echo:' "$WORK/stderr" | sed 's/^/  /'
TERN_MAC=$(sed -n 's/^tern-echo: port .* mac \([0-9a-f:]\{17\}\)$/\1/p' "$WORK/stderr" | head -n1)
[ -n "$TERN_MAC" ] || { echo "FAIL: no 'tern-echo: port ... mac XX' line on stderr"; dump_tern; exit 1; }

say "kernel side: $IF gets $PEER_MAC and $PEER/24"
in_ns ip link set "$IF" address "$PEER_MAC" &&
  in_ns ip addr add "$PEER/24" dev "$IF" &&
  in_ns ip link set "$IF" up || { echo "FAIL: cannot configure $IF"; dump_tern; exit 1; }
in_ns ip -br addr show dev "$IF" | sed 's/^/  /'
if command -v tcpdump >/dev/null; then
  # Everything tern sends, as the kernel receives it (after the PMD's checksum offloads).
  # (ip netns exec execs tcpdump, so $! is tcpdump itself; a shell function would add a subshell.)
  ip netns exec "$NS" tcpdump -i "$IF" -U -n -s 0 -Z root -w "$WORK/from-tern.pcap" "ether src $TERN_MAC" \
    2>"$WORK/tcpdump.log" &
  DUMP_PID=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$WORK/tcpdump.log" && break; sleep 0.1; done
  grep -q "listening on" "$WORK/tcpdump.log" || { cat "$WORK/tcpdump.log"; fail "tcpdump did not start"; }
  echo "  tcpdump (pid $DUMP_PID) records every frame tern sends"
else
  echo "  note: tcpdump not found; the frames tern sends are not checked one by one"
fi

say "1. ping -c 20 -i 0.05 $TERN"
in_ns ping -c 20 -i 0.05 -W 2 "$TERN" >"$WORK/ping1" 2>&1
grep -E "transmitted|rtt" "$WORK/ping1" | sed 's/^/  | /'
got=$(sed -n 's/.* \([0-9]\+\) received.*/\1/p' "$WORK/ping1")
if [ "${got:-0}" -eq 20 ]; then ok "20 of 20 echo replies"; else fail "ping: ${got:-0} of 20 echo replies"; fi

say "2. kernel neighbour table"
neigh=$(in_ns ip neigh show "$TERN" dev "$IF")
echo "  | $neigh"
kmac=$(echo "$neigh" | sed -n 's/.* lladdr \([0-9a-f:]\{17\}\).*/\1/p')
if [ -n "$kmac" ] && [ "$kmac" = "$TERN_MAC" ]; then
  ok "the kernel resolved $TERN to $kmac, the MAC tern-echo reports"
else
  fail "the kernel's entry for $TERN holds '${kmac:-nothing}', tern-echo reports $TERN_MAC"
fi

say "3-5. UDP echo from a kernel socket (tap_udp_peer.py)"
if in_ns "$PY" "$HERE/tap_udp_peer.py" "$TERN" 1000 "$SEED"; then :; else fail "UDP checks (see above)"; fi

say "6. 1,000 garbage frames (tap_garbage.py), then ping -c 5"
if ! in_ns "$PY" "$HERE/tap_garbage.py" "$IF" "$TERN_MAC" "$PEER_MAC" 1000 "$SEED"; then
  fail "the garbage generator failed"
fi
sleep 0.5
kill -0 "$PID" 2>/dev/null || fail "tern-echo died during the garbage"
in_ns ping -c 5 -i 0.2 -W 2 "$TERN" >"$WORK/ping2" 2>&1
grep -E "transmitted|rtt" "$WORK/ping2" | sed 's/^/  | /'
got=$(sed -n 's/.* \([0-9]\+\) received.*/\1/p' "$WORK/ping2")
if [ "${got:-0}" -eq 5 ]; then ok "5 of 5 echo replies after the garbage"; else fail "after the garbage: ${got:-0} of 5 echo replies"; fi

if [ -n "$DUMP_PID" ]; then
  say "every frame tern sent (tcpdump on $IF, tap_check_wire.py)"
  sleep 0.2
  stop_dump
  grep -E "packets? (captured|dropped by kernel)" "$WORK/tcpdump.log" | sed 's/^/  | /'
  if "$PY" "$HERE/tap_check_wire.py" "$WORK/from-tern.pcap" "$TERN_MAC" 1025; then :; else fail "frames tern sent (see above)"; fi
fi

say "7. SIGTERM tern-echo; its counters"
stop_tern
if [ "$TERN_RC" = "0" ]; then ok "tern-echo exited with status 0"; else fail "tern-echo exited with status $TERN_RC"; fi
if "$PY" "$HERE/tap_check_counters.py" "$WORK/stdout"; then :; else fail "counter checks (see above)"; fi
finish
