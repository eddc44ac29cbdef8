#!/usr/bin/env bash
# The tern demo: tern-echo on a DPDK net_tap device inside a fresh network
# namespace, exercised from the kernel side of that namespace (ARP, ping,
# UDP echo, a fragmented 60 KB datagram, a closed port). Prints what it did
# and what came back, then cleans up. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (network namespaces and /dev/net/tun)"; exit 1; }
scripts/setup.sh
scripts/build.sh build

NS=tern-demo-$$
IF=tern0
PEER=198.18.0.1
TERN=198.18.0.2
OUT=$(mktemp -d)
PID=""

cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; fi
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$OUT"
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }
in_ns() { ip netns exec "$NS" "$@"; }

say "creating network namespace $NS and starting tern-echo on net_tap ($IF) inside it"
ip netns add "$NS"
in_ns ip link set lo up
# ip netns exec (not the in_ns function) so that $! is tern-echo itself
ip netns exec "$NS" build/apps/echo/tern-echo --config config/echo-tap.yaml >"$OUT/json" 2>"$OUT/log" &
PID=$!
for _ in $(seq 1 100); do
  grep -q "tern-echo: ready" "$OUT/log" 2>/dev/null && break
  kill -0 "$PID" 2>/dev/null || { cat "$OUT/log"; echo "demo: tern-echo exited early"; exit 1; }
  sleep 0.1
done
grep "tern-echo:" "$OUT/log" | sed 's/^/   /'

say "kernel side: $IF gets $PEER/24 and its own MAC"
in_ns ip link set "$IF" address 02:00:00:00:00:01
in_ns ip addr add "$PEER/24" dev "$IF"
in_ns ip link set "$IF" up
sleep 0.5

say "ARP: arping $TERN from the kernel"
in_ns arping -c 3 -w 3 -I "$IF" "$TERN" | sed 's/^/   /'

say "ping: 5 ICMP echo requests to tern"
in_ns ping -c 5 -i 0.2 "$TERN" | sed 's/^/   /'

say "the kernel's neighbour table now holds tern's MAC"
in_ns ip neigh show "$TERN" | sed 's/^/   /'

say "UDP echo: three messages through socat, and a 60,000-byte datagram (fragmented by the kernel)"
for msg in "hello tern" "kernel bypass" "zero copy"; do
  got=$(printf '%s' "$msg" | in_ns socat -t 1 - "UDP:$TERN:7")
  printf '   sent %-16q got %q\n' "$msg" "$got"
done
in_ns /usr/bin/python3 - "$TERN" <<'PY'
import os, socket, sys, hashlib
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
data = os.urandom(60000)
s.sendto(data, (sys.argv[1], 7))
back, _ = s.recvfrom(65535)
print("   60000-byte datagram: sent sha256 %s, got %d bytes sha256 %s -> %s" % (
    hashlib.sha256(data).hexdigest()[:16], len(back), hashlib.sha256(back).hexdigest()[:16],
    "equal" if back == data else "DIFFERENT"))
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.settimeout(2)
c.connect((sys.argv[1], 9999)); c.send(b"anyone?")
try:
    c.recv(16); print("   closed port 9999: unexpected answer")
except ConnectionRefusedError:
    print("   closed port 9999: connection refused (tern sent ICMP port unreachable)")
except socket.timeout:
    print("   closed port 9999: no ICMP error arrived")
PY

say "TCP echo: a kernel client sends 8 MiB over one connection, reads the echo, compares sha256"
in_ns /usr/bin/python3 - "$TERN" <<'PY'
import hashlib, os, socket, sys, threading, time
s = socket.create_connection((sys.argv[1], 7), timeout=10)
data = os.urandom(8 << 20)
got = bytearray()
def reader():
    while True:
        b = s.recv(1 << 20)
        if not b:
            return
        got.extend(b)
t = threading.Thread(target=reader); t.start()
t0 = time.time()
s.sendall(data)
s.shutdown(socket.SHUT_WR)   # tern echoes the rest, then closes
t.join(30)
dt = time.time() - t0
print("   8 MiB: sent sha256 %s, got %d bytes sha256 %s -> %s (%.0f MB/s each way)" % (
    hashlib.sha256(data).hexdigest()[:16], len(got), hashlib.sha256(bytes(got)).hexdigest()[:16],
    "equal" if bytes(got) == data else "DIFFERENT", len(data) / dt / 1e6))
PY

say "stopping tern-echo (SIGTERM); its counters:"
kill -TERM "$PID"; wait "$PID" || true; PID=""
/usr/bin/python3 - "$OUT/json" <<'PY'
import json, sys
d = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
c = d["cores"][0]; i = c["interfaces"][0]
print("   frames rx %d tx %d | arp requests in %d replies out %d | icmp echo %d | udp rx %d tx %d | "
      "reassembled %d fragmented %d | tcp passive opens %d segs in %d out %d retransmitted %d | mbufs leaked %d" % (
      i["rx"], i["tx"], i["arp"]["requests_in"], i["arp"]["replies_out"], c["icmp"]["echo_requests"],
      c["udp"]["rx"], c["udp"]["tx"], c["ipv4"]["reassembled"], c["ipv4"]["fragmented"],
      c["tcp"]["passive_opens"], c["tcp"]["in_segs"], c["tcp"]["out_segs"], c["tcp"]["retrans_segs"],
      d["mbufs_leaked"]))
PY
say "done; namespace removed"
