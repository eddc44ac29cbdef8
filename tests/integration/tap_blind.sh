#!/usr/bin/env bash
# integration-tap_blind: blind (off-path) attacks on state tern shares between peers, against
# tern-echo on net_tap in a network namespace this test creates and removes (issue 14,
# docs/robustness.md "Shared state"):
#   1. the challenge-ACK side channel of CVE-2016-5696: spoofed RSTs inside or outside a kernel
#      connection's window, counted through the attacker's own connection: the counts must match;
#   2. MAC flapping by forged ARP during a 2 MB transfer: no frame to the forged MAC within the
#      lock time; then a genuine MAC change, which tern must find by asking;
#   3. the counters tern-echo prints at exit.
#
#   tap_blind.sh TERN_ECHO [WORKDIR]
#
# The attacker, 198.18.0.10, is tap_blind.py on a packet socket (it answers tern's ARP itself);
# the kernel side of the tap, 198.18.0.1, is the victim and the transfer's client. Needs root and
# /dev/net/tun (exit 77 = skipped otherwise).
set -uo pipefail

TERN_ECHO=${1:?usage: $0 TERN_ECHO [WORKDIR]}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap_lib.sh"
require_tap_env "$TERN_ECHO"

NS=tern-itest-tbl-$$
IF=ttbl$$
IF=${IF:0:15}
PEER=198.18.0.1
PEER_MAC=02:00:00:00:00:01
NEW_MAC=02:00:00:00:00:51
TERN=198.18.0.2
WORK=$(mktemp -d "${2:-/tmp}/tern-itest-tbl.XXXXXX") || { echo "FAIL: cannot create a work directory"; exit 1; }
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

# A long ARP lock time (60 s) so that the whole flapping phase lies within the one that started
# when tern resolved the kernel; entries go stale after 2 s so that tern re-asks during the test.
# TERN_TEST_ARP_LOCK_MS=0 shows the flapping check failing without the lock.
cat >"$WORK/blind.yaml" <<YAML
lcores: "0"
ports:
  - name: tap0
    devargs: "net_tap0,iface=$IF"
    ip: $TERN/24
routes:
  - prefix: 0.0.0.0/0
    gateway: $PEER
arp:
  reachable_ms: 2000
  retry_ms: 500
  lock_time_ms: ${TERN_TEST_ARP_LOCK_MS:-60000}
echo:
  udp_port: 0
  tcp_port: 7
YAML

say "namespace $NS; tern-echo on net_tap0,iface=$IF as $TERN/24"
ip netns add "$NS" || { echo "FAIL: cannot create namespace $NS"; exit 1; }
in_ns ip link set lo up
ip netns exec "$NS" "$TERN_ECHO" --config "$WORK/blind.yaml" >"$WORK/tern.stdout" 2>"$WORK/tern.stderr" &
PID=$!
for _ in $(seq 1 300); do
  kill -0 "$PID" 2>/dev/null || { wait "$PID"; echo "FAIL: tern-echo exited early ($?)"; PID=""; dump_tern; exit 1; }
  in_ns ip link show "$IF" >/dev/null 2>&1 && grep -q "tern-echo: ready" "$WORK/tern.stderr" && break
  sleep 0.05
done
grep -q "tern-echo: ready" "$WORK/tern.stderr" || { echo "FAIL: tern-echo not ready within 15 s"; dump_tern; exit 1; }
TERN_MAC=$(sed -n 's/^tern-echo: port .* mac \([0-9a-f:]\{17\}\)$/\1/p' "$WORK/tern.stderr" | head -n1)
[ -n "$TERN_MAC" ] || { echo "FAIL: no 'tern-echo: port ... mac' line"; dump_tern; exit 1; }
# Promiscuous, so the packet socket sees every frame tern sends, whatever its destination MAC.
in_ns ip link set "$IF" address "$PEER_MAC" && in_ns ip addr add "$PEER/24" dev "$IF" &&
  in_ns ip link set "$IF" txqueuelen 10000 && in_ns ip link set "$IF" promisc on &&
  in_ns ip link set "$IF" up || { echo "FAIL: cannot configure $IF"; dump_tern; exit 1; }
in_ns ping -c 1 -W 2 "$TERN" >/dev/null 2>&1 || in_ns ping -c 1 -W 2 "$TERN" >/dev/null 2>&1 ||
  fail "tern-echo does not answer ping"

say "1. the challenge-ACK side channel (CVE-2016-5696)"
in_ns "$PY" "$HERE/tap_blind.py" sidechannel "$IF" "$TERN_MAC" "$TERN" 7 "$PEER" "$PEER_MAC" ||
  fail "side channel (see above)"

say "2. MAC flapping by forged ARP during a transfer, then a genuine change"
in_ns "$PY" "$HERE/tap_blind.py" flap "$IF" "$TERN_MAC" "$TERN" 7 "$PEER" "$PEER_MAC" "$NEW_MAC" ||
  fail "MAC flapping (see above)"

say "3. SIGTERM tern-echo; its counters"
stop_tern
if [ "$TERN_RC" = "0" ]; then ok "tern-echo exited with status 0"; else fail "tern-echo exited with status $TERN_RC"; fi
"$PY" "$HERE/tap_blind.py" counters "$WORK/tern.stdout" || fail "counters (see above)"

if [ "$FAILED" -ne 0 ]; then
  printf '\n== %d check(s) failed\n' "$FAILED"
  dump_tern
  exit 1
fi
echo "tap_blind: all checks passed"
