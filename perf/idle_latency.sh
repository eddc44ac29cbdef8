#!/usr/bin/env bash
# What the adaptive idle policy costs in latency (docs/multicore.md): tern-echo on net_tap in a
# private namespace, one lcore, cores.idle busy vs adaptive, side by side; the kernel pings it every
# 10 ms (so the core has gone idle, and with adaptive fallen asleep, before each request) and sends
# 200 UDP echo requests the same way. Prints the median and p90 round trip of each; the difference
# is the price of sleeping. Needs root. Numbers, not pass/fail.
#   perf/idle_latency.sh [TERN_ECHO]
set -euo pipefail
TE=${1:-build/apps/echo/tern-echo}
[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 2; }
NS=tern-idle-$$
IF=tidl$$; IF=${IF:0:15}
PID=""
ip netns add "$NS"
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; ip netns del "$NS" 2>/dev/null || true' EXIT
ip netns exec "$NS" ip link set lo up
for policy in busy adaptive; do
  ip netns exec "$NS" "$TE" --dev "net_tap0,iface=$IF" --ip 198.18.6.1/24 --idle $policy --udp-port 7 \
    -- -l 0 >/dev/null 2>/tmp/tern-idle-$$.log &
  PID=$!
  for _ in $(seq 1 100); do grep -q ready /tmp/tern-idle-$$.log 2>/dev/null && break; sleep 0.1; done
  ip netns exec "$NS" ip link set "$IF" address 02:00:00:00:06:02
  ip netns exec "$NS" ip addr add 198.18.6.2/24 dev "$IF"
  ip netns exec "$NS" ip link set "$IF" up
  sleep 0.5
  ip netns exec "$NS" ping -c 5 -W 1 198.18.6.1 >/dev/null || true
  ip netns exec "$NS" /usr/bin/python3 - "$policy" <<'PY'
import socket, statistics, subprocess, sys, time
policy = sys.argv[1]
out = subprocess.run(["ping", "-c", "200", "-i", "0.01", "-W", "1", "198.18.6.1"], capture_output=True, text=True).stdout
rtts = sorted(float(l.split("time=")[1].split()[0]) * 1000 for l in out.splitlines() if "time=" in l)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
u = []
for i in range(200):
    time.sleep(0.01)
    t0 = time.perf_counter_ns()
    s.sendto(b"x" * 64, ("198.18.6.1", 7))
    s.recvfrom(2048)
    u.append((time.perf_counter_ns() - t0) / 1000)
u.sort()
print(f"{policy:9s} ping: median {statistics.median(rtts):6.1f} us  p90 {rtts[int(len(rtts)*0.9)]:6.1f} us   "
      f"udp echo: median {statistics.median(u):6.1f} us  p90 {u[int(len(u)*0.9)]:6.1f} us  ({len(rtts)} pings, {len(u)} datagrams)")
PY
  kill -INT $PID; wait $PID 2>/dev/null || true
  ip netns exec "$NS" ip link del "$IF" 2>/dev/null || true
  sleep 0.5
done
rm -f /tmp/tern-idle-$$.log
