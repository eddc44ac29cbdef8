#!/usr/bin/env bash
# tap_multicore.sh TERN_ECHO [WORKDIR]: tern-echo on two lcores over net_tap, the kernel as peer
# (issue 10, docs/multicore.md). Twice: with one tap queue (the second core gets its flows by
# software steering and shares the TX queue) and with two queues (the kernel's tun picks each
# frame's queue by its own hash: software steering hands mis-queued frames to their owner).
# Each time 200 kernel-side connections echo random bytes byte-exact, both cores accept some,
# the start-up log names the steering mode, no reset or "no connection" drop happens on any core,
# live statistics arrive while it runs, and SIGTERM drains to a clean exit without leaked mbufs.
set -uo pipefail
TERN_ECHO=${1:?usage: $0 TERN_ECHO [WORKDIR]}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap_lib.sh"
require_tap_env "$TERN_ECHO"

NS=tern-itest-tmc-$$
IF=ttmc$$
IF=${IF:0:15}
PEER=198.18.7.2
PEER_MAC=02:00:00:00:07:02
TERN=198.18.7.1
WORK=$(mktemp -d "${2:-/tmp}/tern-itest-tmc.XXXXXX") || { echo "FAIL: cannot create a work directory"; exit 1; }
PID=""
FAILED=0

cleanup() {
  local rc=$?
  stop_tern
  ip netns del "$NS" 2>/dev/null
  if [ "$rc" -eq 0 ]; then rm -rf "$WORK"; else echo "(files kept in $WORK)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

ip netns add "$NS" || { echo "FAIL: cannot create namespace $NS"; exit 1; }
in_ns ip link set lo up

run_case() {  # run_case QUEUES EXPECTED_MODE
  local q=$1 mode=$2
  say "two lcores, $q tap queue(s): expect $mode"
  ip netns exec "$NS" "$TERN_ECHO" --dev "net_tap0,iface=$IF" --ip "$TERN/24" --lcores 0-1 --queues "$q" --idle adaptive \
    --tcp-port 7 --udp-port 7 --stats-every 1 --drain-ms 3000 --log-level info \
    >"$WORK/q$q.stdout" 2>"$WORK/q$q.stderr" &
  PID=$!
  for _ in $(seq 1 100); do
    in_ns ip link show "$IF" >/dev/null 2>&1 && grep -q "tern-echo: ready" "$WORK/q$q.stderr" && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  grep -q "tern-echo: ready" "$WORK/q$q.stderr" || { fail "tern-echo did not start"; cat "$WORK/q$q.stderr"; return; }
  in_ns ip link set "$IF" address "$PEER_MAC" && in_ns ip addr add "$PEER/24" dev "$IF" && in_ns ip link set "$IF" up
  if grep -q "port port0: $mode" "$WORK/q$q.stderr"; then ok "start-up log: $(grep -o "port port0: .*" "$WORK/q$q.stderr" | head -1)"
  else fail "the start-up log does not say '$mode'"; fi
  if in_ns "$PY" - "$TERN" <<'PY'
import os, socket, sys
addr = sys.argv[1]
socks = [socket.create_connection((addr, 7), timeout=5) for _ in range(200)]
bad = 0
for s in socks:
    data = os.urandom(1500 + s.fileno() % 2000)
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    bad += got != data
for s in socks:
    s.close()
print(f"  200 connections, {200 - bad} echoed byte-exact")
sys.exit(1 if bad else 0)
PY
  then ok "200 kernel connections echoed byte-exact"; else fail "echo mismatches"; fi
  sleep 1.5  # a live statistics line, and the connections' closes
  if grep -q '^tern-echo: stats {"cores":\[{"core":0' "$WORK/q$q.stderr"; then ok "live statistics while running"
  else fail "no live statistics line"; fi
  stop_tern
  if [ "$TERN_RC" = "0" ]; then ok "SIGTERM: drained and exited 0"; else fail "tern-echo exited with $TERN_RC"; fi
  if "$PY" - "$WORK/q$q.stdout" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ok = d["mbufs_leaked"] == 0
for c in d["cores"]:
    t, s = c["tcp"], c["steering"]
    print(f"  core {c['core']}: accepted {t['passive_opens']}, resets sent {t['out_rsts']}, "
          f"no-connection drops {t['drops']['no_connection']}, steered out {s['out']} in {s['in']} dropped {s['dropped']}")
    ok &= t["passive_opens"] > 0 and t["out_rsts"] == 0 and t["drops"]["no_connection"] == 0 and s["dropped"] == 0
ok &= sum(c["tcp"]["passive_opens"] for c in d["cores"]) == 200
ok &= sum(c["steering"]["out"] for c in d["cores"]) > 0
print(f"  mbufs leaked {d['mbufs_leaked']}")
sys.exit(0 if ok else 1)
PY
  then ok "both cores accepted, no resets or drops, frames were steered, nothing leaked"
  else fail "per-core counters (above)"; fi
  in_ns ip link del "$IF" 2>/dev/null
}

run_case 1 "software steering (1 RX queue(s) for 2 cores)"
run_case 2 "software steering (the device has no programmable RSS"

printf '\n== %d check(s) failed\n' "$FAILED"
[ "$FAILED" -eq 0 ] || exit 1
echo "tap_multicore: all checks passed"
