#!/usr/bin/env bash
# integration-tap_pressure: hostile TCP peers against tern-echo on net_tap in a network namespace
# this test creates and removes: the one-connection pool exhaustion of issue 9 (contiguous
# one-byte segments behind a hole), then 32 connections pushing in-order and gapped one-byte
# segments at once past the core's TCP memory. tern must keep answering ping, acknowledge every
# byte it accepted, serve a well-behaved kernel client during the pressure, free connections on
# RST, and end with its TCP memory and mbuf pool back at their idle levels (docs/robustness.md).
#
#   tap_pressure.sh TERN_ECHO [WORKDIR]
#
# tern-echo runs with a pool of 8,191 mbufs (config written here). The hostile peer,
# 198.18.0.10, is this test's tap_pressure.py on a packet socket (frames from scapy templates;
# it answers tern's ARP itself); the kernel side of the tap, 198.18.0.1, pings and runs the
# well-behaved client. Needs root and /dev/net/tun (exit 77 = skipped otherwise).
set -uo pipefail

TERN_ECHO=${1:?usage: $0 TERN_ECHO [WORKDIR]}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap_lib.sh"
require_tap_env "$TERN_ECHO"

NS=tern-itest-tpr-$$
IF=ttpr$$
IF=${IF:0:15}
PEER=198.18.0.1
PEER_MAC=02:00:00:00:00:01
TERN=198.18.0.2
MBUFS=8191
SEED=${TERN_TEST_SEED:-$$}
WORK=$(mktemp -d "${2:-/tmp}/tern-itest-tpr.XXXXXX") || { echo "FAIL: cannot create a work directory"; exit 1; }
PID=""
FAILED=0

dump_tern() {
  echo "---- tern-echo stderr ($WORK/tern.stderr) ----"; cat "$WORK/tern.stderr" 2>/dev/null
  echo "---- tern-echo stdout ($WORK/tern.stdout) ----"; cat "$WORK/tern.stdout" 2>/dev/null
}
cleanup() {
  local rc=$?
  stop_tern
  ip netns del "$NS" 2>/dev/null
  if [ "$rc" -eq 0 ]; then rm -rf "$WORK"; else echo "(files kept in $WORK)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

cat >"$WORK/pressure.yaml" <<YAML
lcores: "0"
mempool:
  mbufs: $MBUFS
ports:
  - name: tap0
    devargs: "net_tap0,iface=$IF"
    ip: $TERN/24
routes:
  - prefix: 0.0.0.0/0
    gateway: $PEER
echo:
  udp_port: 0
  tcp_port: 7
YAML

say "namespace $NS; tern-echo on net_tap0,iface=$IF as $TERN/24 with $MBUFS mbufs (seed $SEED)"
ip netns add "$NS" || { echo "FAIL: cannot create namespace $NS"; exit 1; }
in_ns ip link set lo up
# tern-echo starts inside the namespace, so net_tap creates the tap there.
ip netns exec "$NS" "$TERN_ECHO" --config "$WORK/pressure.yaml" >"$WORK/tern.stdout" 2>"$WORK/tern.stderr" &
PID=$!
for _ in $(seq 1 300); do
  kill -0 "$PID" 2>/dev/null || { wait "$PID"; echo "FAIL: tern-echo exited early ($?)"; PID=""; dump_tern; exit 1; }
  in_ns ip link show "$IF" >/dev/null 2>&1 && grep -q "tern-echo: ready" "$WORK/tern.stderr" && break
  sleep 0.05
done
grep -q "tern-echo: ready" "$WORK/tern.stderr" || { echo "FAIL: tern-echo not ready within 15 s"; dump_tern; exit 1; }
TERN_MAC=$(sed -n 's/^tern-echo: port .* mac \([0-9a-f:]\{17\}\)$/\1/p' "$WORK/tern.stderr" | head -n1)
[ -n "$TERN_MAC" ] || { echo "FAIL: no 'tern-echo: port ... mac' line"; dump_tern; exit 1; }
# The kernel side: its own MAC and address; promiscuous, so the packet socket sees what tern sends
# to the hostile peer's MAC; a deep queue, so the flood reaches tern rather than the tap's drops.
in_ns ip link set "$IF" address "$PEER_MAC" && in_ns ip addr add "$PEER/24" dev "$IF" &&
  in_ns ip link set "$IF" txqueuelen 10000 && in_ns ip link set "$IF" promisc on &&
  in_ns ip link set "$IF" up || { echo "FAIL: cannot configure $IF"; dump_tern; exit 1; }
in_ns ping -c 1 -W 2 "$TERN" >/dev/null 2>&1 || in_ns ping -c 1 -W 2 "$TERN" >/dev/null 2>&1 ||
  fail "tern-echo does not answer ping before the attack"

if in_ns "$PY" "$HERE/tap_pressure.py" attack "$IF" "$TERN_MAC" "$TERN" 7 "$PEER" "$SEED"; then :; else
  fail "hostile peers (see above)"
fi
in_ns ip -s link show dev "$IF" | sed -n '/RX:/,$p' | sed 's/^ */  | /'

say "SIGTERM tern-echo; its counters"
stop_tern
if [ "$TERN_RC" = "0" ]; then ok "tern-echo exited with status 0"; else fail "tern-echo exited with status $TERN_RC"; fi
"$PY" "$HERE/tap_pressure.py" counters "$WORK/tern.stdout" "$MBUFS" || fail "counters (see above)"

if [ "$FAILED" -ne 0 ]; then
  printf '\n== %d check(s) failed\n' "$FAILED"
  dump_tern
  exit 1
fi
echo "tap_pressure: all checks passed"
