#!/usr/bin/env bash
# afpacket_multicore.sh TERN_ECHO [WORKDIR]: tern-echo's client on two lcores over net_af_packet
# with two queue pairs on one end of a veth (issue 10, docs/multicore.md). The kernel's packet
# fanout hash, not tern, picks each received frame's queue, like a NIC whose RSS tern cannot program.
# The client opens 64 connections from both cores to a kernel echo server on the other veth end
# and runs request/response for a few seconds: every connection works, each core opened some, no
# segment meets "no connection" on any core, no reset is sent, nothing leaks. Before issue 10 the
# client opened every connection on core 0 and about half of the SYN-ACKs landed on core 1, which
# reset them.
set -uo pipefail
TERN_ECHO=${1:?usage: $0 TERN_ECHO [WORKDIR]}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap_lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (network namespaces, veth)"; exit 77; }
command -v ethtool >/dev/null || { echo "FAIL: ethtool not found (scripts/setup.sh installs it)"; exit 1; }

NS=tern-itest-tap-af-$$
VT=vaft$$; VT=${VT:0:15}   # tern's end
VK=vafk$$; VK=${VK:0:15}   # the kernel's end
TERN=198.18.9.1
PEER=198.18.9.2
WORK=$(mktemp -d "${2:-/tmp}/tern-itest-af.XXXXXX") || { echo "FAIL: cannot create a work directory"; exit 1; }
SRV=""
FAILED=0

cleanup() {
  local rc=$?
  [ -n "$SRV" ] && { kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; }
  ip netns del "$NS" 2>/dev/null
  if [ "$rc" -eq 0 ]; then rm -rf "$WORK"; else echo "(files kept in $WORK)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

ip netns add "$NS" || { echo "FAIL: cannot create namespace $NS"; exit 1; }
in_ns ip link set lo up
in_ns ip link add "$VT" type veth peer name "$VK" || { echo "FAIL: cannot create the veth pair"; exit 1; }
in_ns ip addr add "$PEER/24" dev "$VK"
in_ns ip link set "$VT" up
in_ns ip link set "$VK" up
# The kernel's frames would leave with partial checksums (CHECKSUM_PARTIAL) and as GSO super-frames:
# af_packet hands them on as they are, so the kernel end computes checksums and segments itself.
in_ns ethtool -K "$VK" tx off tso off gso off >/dev/null 2>&1
in_ns ethtool -K "$VT" gro off >/dev/null 2>&1

# A threaded kernel echo server (started directly, not through a shell function, so $! is its PID).
ip netns exec "$NS" "$PY" -u - "$PEER" >"$WORK/server.log" 2>&1 <<'PY' &
import socketserver, sys
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            d = self.request.recv(65536)
            if not d:
                return
            self.request.sendall(d)
class S(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
s = S((sys.argv[1], 7), Echo)
print("listening", flush=True)
s.serve_forever()
PY
SRV=$!
for _ in $(seq 1 50); do grep -q listening "$WORK/server.log" && break; sleep 0.1; done

say "tern-echo client on net_af_packet (2 queue pairs, the kernel's fanout picks the queue), 2 lcores"
ip netns exec "$NS" "$TERN_ECHO" --dev "net_af_packet0,iface=$VT,qpairs=2" --ip "$TERN/24" --lcores 0-1 \
  --idle adaptive --log-level info --connect "$PEER:7" --connections 64 --message-size 256 --duration 3 \
  >"$WORK/client.json" 2>"$WORK/client.log"
rc=$?
grep -o "port port0: .*" "$WORK/client.log" | head -1 | sed 's/^/  /'
if [ "$rc" -eq 0 ]; then ok "the client exited 0 (every transaction verified, nothing leaked)"
else fail "the client exited $rc"; tail -5 "$WORK/client.log"; fi
if "$PY" - "$WORK/client.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"  {d['transactions']} transactions, {d['connect_failures']} connect failures, {d['errors']} errors")
ok = d["connect_failures"] == 0 and d["errors"] == 0 and d["verify_errors"] == 0 and d["transactions"] > 0
for pc in d["per_core"]:
    print(f"  core {pc['core']}: {pc['connections']} connections, {pc['transactions']} transactions")
    ok &= pc["connections"] > 0 and pc["transactions"] > 0
ok &= len(d["per_core"]) == 2
for c in d["stack"]["cores"]:
    t, s = c["tcp"], c["steering"]
    print(f"  core {c['core']}: active opens {t['active_opens']}, resets sent {t['out_rsts']}, "
          f"no-connection drops {t['drops']['no_connection']}, steered out {s['out']} in {s['in']}")
    ok &= t["active_opens"] > 0 and t["out_rsts"] == 0 and t["drops"]["no_connection"] == 0 and s["dropped"] == 0
ok &= d["stack"]["ports"][0]["steering"] == "software steering"
sys.exit(0 if ok else 1)
PY
then ok "both cores opened and served connections; no resets, no 'no connection' drops"
else fail "per-core results (above)"; fi

printf '\n== %d check(s) failed\n' "$FAILED"
[ "$FAILED" -eq 0 ] || { cat "$WORK/client.log" | tail -20; exit 1; }
echo "afpacket_multicore: all checks passed"
