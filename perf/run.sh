#!/usr/bin/env bash
# tern's system benchmarks, side by side in one run: tern-l3fwd vs DPDK's l3fwd
# example, and tern-echo vs the Linux kernel (tern-kernel-echo over veth between
# two network namespaces). Builds what it needs, runs every comparison with 3
# repetitions, checks its inputs, and writes docs/benchmarks.md (medians,
# min-max, ratios) plus docs/benchmarks.json (every raw result).
#
#   perf/run.sh [--quick] [--reps N] [--only LIST]
#     --quick   short runs (about 10 minutes in all, including the build)
#     --only    comma list of: l3fwd,rr,short,udp,bulk,cost,memory,scaling,loss,redis,nginx
#
# Needs root (namespaces, veth). Never run inside scripts/test.sh: numbers, not
# pass/fail. See perf/README.md for what each figure means.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=0
REPS=3
ONLY="l3fwd,rr,short,udp,bulk,cost,memory,scaling,loss,redis,nginx"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --reps) REPS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "run.sh: needs root (network namespaces, veth)" >&2; exit 2; }
want() { [[ ",$ONLY," == *",$1,"* ]]; }

if [ $QUICK -eq 1 ]; then
  T_FWD=3 T_RR=3 T_BULK=5 N_COST=2000 N_MEM=100000 N_REDIS=100000 T_HTTP=3
else
  T_FWD=10 T_RR=10 T_BULK=60 N_COST=5000 N_MEM=100000 N_REDIS=300000 T_HTTP=10
fi

BUILD=$ROOT/build-perf
OUT=$BUILD/bench-out
RAW=$OUT/raw.jsonl
NS_S=tern-bench-s NS_C=tern-bench-c
PIDS=()

log() { echo "[run.sh $(date +%H:%M:%S)] $*" >&2; }
skip() {  # BENCH WHY: record what could not be measured
  log "not measured: $1: $2"
  python3 -c 'import json,sys; print(json.dumps({"bench":sys.argv[1],"skipped":sys.argv[2]}))' "$1" "$2" >>"$RAW"
}
record() {  # BENCH IMPL VARIANT REP JSON: one raw result
  python3 -c 'import json,sys; print(json.dumps({"bench":sys.argv[1],"impl":sys.argv[2],"variant":sys.argv[3],"rep":int(sys.argv[4]),"result":json.loads(sys.argv[5])}))' \
    "$1" "$2" "$3" "$4" "$5" >>"$RAW"
}
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  ip netns del $NS_S 2>/dev/null || true
  ip netns del $NS_C 2>/dev/null || true
}
trap cleanup EXIT

# ---------------------------------------------------------------- set-up --
bash scripts/setup.sh >&2
extra=()
for p in dpdk-doc linux-perf python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || extra+=("$p")
done
if [ ${#extra[@]} -gt 0 ]; then
  log "installing ${extra[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${extra[@]}" >&2
fi

log "building tern (release) in $BUILD"
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" --buildtype=release -Dtests=false -Dperf=true >/dev/null
ninja -C "$BUILD" apps/echo/tern-echo apps/l3fwd/tern-l3fwd perf/tern-kernel-echo perf/tern-tcp-rr-count \
  perf/tern-conn-memory perf/tern-loss-recovery apps/preload/libtern-preload.so >&2
TE=$BUILD/apps/echo/tern-echo
TL=$BUILD/apps/l3fwd/tern-l3fwd
KE=$BUILD/perf/tern-kernel-echo

DL3=$BUILD/dpdk-l3fwd
if [ ! -x "$DL3/l3fwd/build/l3fwd" ]; then
  log "building DPDK's l3fwd example from dpdk-doc's source (pkg-config libdpdk)"
  rm -rf "$DL3" && mkdir -p "$DL3"
  cp -r /usr/share/dpdk/examples/l3fwd /usr/share/dpdk/examples/common "$DL3/"
  # Virtual devices offer no RX checksum offload: mask the requested RX offloads by the
  # device's capabilities (DPDK's l3fwd already masks RSS that way). Nothing else changes.
  sed -i 's|^\t\tlocal_port_conf.rx_adv_conf.rss_conf.rss_hf &=|\t\tlocal_port_conf.rxmode.offloads \&= dev_info.rx_offload_capa;\n&|; s|rxq_conf.offloads = port_conf.rxmode.offloads;|rxq_conf.offloads = port_conf.rxmode.offloads \& dev_info.rx_offload_capa;|' \
    "$DL3/l3fwd/main.c"
  grep -q "rxmode.offloads &= dev_info.rx_offload_capa" "$DL3/l3fwd/main.c" ||
    { echo "run.sh: could not patch DPDK l3fwd's offload request (source changed?)" >&2; exit 1; }
  make -C "$DL3/l3fwd" -j2 >"$DL3/make.log" 2>&1 || { tail -20 "$DL3/make.log" >&2; exit 1; }
fi
DPDK_L3FWD=$DL3/l3fwd/build/l3fwd

rm -rf "$OUT" && mkdir -p "$OUT"
: >"$RAW"
python3 - "$RAW" "$QUICK" "$REPS" <<'EOF'
import json, os, platform, subprocess, sys, datetime
raw, quick, reps = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
dpdk = subprocess.run(["pkg-config", "--modversion", "libdpdk"], capture_output=True, text=True).stdout.strip()
meta = {"bench": "meta", "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "commit": commit + ("+dirty" if dirty else ""),
        "cpu": cpu, "cpus": os.cpu_count(), "mem_gib": round(int(mem) / 1048576, 1), "kernel": platform.release(),
        "dpdk": dpdk, "quick": quick, "reps": reps}
print(json.dumps(meta), file=open(raw, "a"))
EOF

# --------------------------------------------------------------- helpers --
json_field() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(eval("d"+sys.argv[1]))' "$1"; }
wait_file() { for _ in $(seq 1 100); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }

# ------------------------------------------------------------ 1. l3fwd --
bench_l3fwd() {
  local size pcap impl rep prefix pid
  for size in 60 1514; do
    pcap=$OUT/udp-$size.pcap
    python3 perf/lib/gen_pcap.py --out "$pcap" --frame-size $size --flows 1024 --dst-mac 02:00:00:00:00:10
    for rep in $(seq 1 "$REPS"); do
      for impl in dpdk tern; do
        prefix=bench-l3-$impl-$$
        local vdev="net_pcap0,rx_pcap=$pcap,infinite_rx=1"  # no tx_pcap: transmit is dropped (counted)
        if [ $impl = dpdk ]; then
          taskset -c 0 "$DPDK_L3FWD" -l 0 --no-huge -m 512 --file-prefix=$prefix --no-pci --vdev "$vdev" \
            --log-level=lib.eal:error -- -p 0x1 -P --config="(0,0,0)" --parse-ptype --eth-dest=0,02:00:00:00:00:99 \
            >"$OUT/l3-$impl.log" 2>&1 &
        else
          taskset -c 0 "$TL" --dev "$vdev" --ip 198.18.1.1/24 --mac 02:00:00:00:00:10 \
            --route 198.18.0.0/24=0,02:00:00:00:00:99 -- --telemetry --file-prefix=$prefix -l 0 \
            >"$OUT/l3-$impl.log" 2>&1 &
        fi
        pid=$!
        PIDS+=("$pid")
        wait_file "/var/run/dpdk/$prefix/dpdk_telemetry.v2" || { log "l3fwd $impl: no telemetry socket"; cat "$OUT/l3-$impl.log" >&2; exit 1; }
        sleep 1.5  # warm-up: the replay ring fills, caches settle
        local a b
        a=$(python3 perf/lib/telemetry.py $prefix 0)
        local t0; t0=$(date +%s.%N)
        sleep "$T_FWD"
        b=$(python3 perf/lib/telemetry.py $prefix 0)
        local t1; t1=$(date +%s.%N)
        kill -INT $pid; wait $pid 2>/dev/null || true
        local res
        res=$(python3 - "$a" "$b" "$t0" "$t1" <<'EOF'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
dt = float(sys.argv[4]) - float(sys.argv[3])
d = {k: b[k] - a[k] for k in ("ipackets", "opackets", "imissed", "ierrors", "oerrors", "rx_nombuf", "obytes")}
d["seconds"] = round(dt, 3)
d["mpps"] = d["opackets"] / dt / 1e6
d["rx_mpps"] = d["ipackets"] / dt / 1e6
print(json.dumps(d))
EOF
)
        record l3fwd $impl "$size" "$rep" "$res"
        log "l3fwd $impl ${size}B rep $rep: $(echo "$res" | json_field '["mpps"]') Mpps forwarded"
      done
    done
  done
}

# 8. scaling: the same work on 1 and 2 lcores, no client needed. net_pcap replays one pcap per RX
# queue (rx_pcap given once per queue; transmit dropped, counted). Each queue's pcap holds only flows
# tern's steering gives that queue's core, as an RSS NIC would deliver them, so both cores work
# without handing frames over. tern-l3fwd forwards; tern-echo answers UDP (static next-hop MAC).
bench_scaling() {
  local app q n rep prefix pid vdev cpus lc
  for q in 0 1; do
    python3 perf/lib/gen_pcap.py --out "$OUT/sc-fwd-q$q.pcap" --frame-size 60 --flows 512 \
      --dst-mac 02:00:00:00:00:10 --queue $q --queues 2
    python3 perf/lib/gen_pcap.py --out "$OUT/sc-udp-q$q.pcap" --frame-size 60 --flows 512 \
      --dst-mac 02:00:00:00:00:10 --dst-ip 198.18.1.1 --dport 7 --queue $q --queues 2
  done
  for rep in $(seq 1 "$REPS"); do
    for app in l3fwd udp; do
      for n in 1 2; do
        prefix=bench-sc-$app-$n-$$
        local kind=fwd
        [ $app = udp ] && kind=udp
        vdev="net_pcap0,rx_pcap=$OUT/sc-$kind-q0.pcap"
        [ $n -eq 2 ] && vdev+=",rx_pcap=$OUT/sc-$kind-q1.pcap"
        vdev+=",infinite_rx=1"
        if [ $n -eq 1 ]; then cpus=0 lc=0; else cpus=0,1 lc=0-1; fi
        if [ $app = l3fwd ]; then
          taskset -c $cpus "$TL" --dev "$vdev" --ip 198.18.1.1/24 --mac 02:00:00:00:00:10 \
            --route 198.18.0.0/24=0,02:00:00:00:00:99 --lcores $lc -- --telemetry --file-prefix=$prefix \
            >"$OUT/sc-$app.log" 2>&1 &
        else
          printf 'ports:\n  - name: p0\n    devargs: "%s"\n    ip: 198.18.1.1/24\n    mac: "02:00:00:00:00:10"\nroutes:\n  - prefix: 0.0.0.0/0\n    port: p0\n    mac: "02:00:00:00:00:99"\necho: {udp_port: 7, tcp_port: 0}\n' \
            "$vdev" >"$OUT/sc-udp.yaml"
          taskset -c $cpus "$TE" --config "$OUT/sc-udp.yaml" --lcores $lc -- --telemetry --file-prefix=$prefix \
            >"$OUT/sc-$app.log" 2>&1 &
        fi
        pid=$!
        PIDS+=("$pid")
        wait_file "/var/run/dpdk/$prefix/dpdk_telemetry.v2" || { log "scaling $app: no telemetry socket"; cat "$OUT/sc-$app.log" >&2; exit 1; }
        sleep 1.5
        local a b t0 t1 res
        a=$(python3 perf/lib/telemetry.py $prefix 0)
        t0=$(date +%s.%N)
        sleep "$T_FWD"
        b=$(python3 perf/lib/telemetry.py $prefix 0)
        t1=$(date +%s.%N)
        kill -INT $pid; wait $pid 2>/dev/null || true
        res=$(python3 - "$a" "$b" "$t0" "$t1" "$n" <<'EOF'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
dt = float(sys.argv[4]) - float(sys.argv[3])
d = {k: b[k] - a[k] for k in ("ipackets", "opackets", "imissed", "rx_nombuf", "oerrors")}
d["seconds"] = round(dt, 3)
d["mpps"] = d["opackets"] / dt / 1e6
d["lcores"] = int(sys.argv[5])
print(json.dumps(d))
EOF
)
        record scaling "$app" "$n" "$rep" "$res"
        log "scaling $app $n lcore(s) rep $rep: $(echo "$res" | json_field '["mpps"]') Mpps"
      done
    done
  done
}

# ------------------------------------------- namespaces for the kernel --
kernel_net() {
  ip netns del $NS_S 2>/dev/null || true
  ip netns del $NS_C 2>/dev/null || true
  ip netns add $NS_S && ip netns add $NS_C
  ip link add tbs0 type veth peer name tbc0
  ip link set tbs0 netns $NS_S && ip link set tbc0 netns $NS_C
  ip -n $NS_S addr add 198.18.77.1/24 dev tbs0 && ip -n $NS_C addr add 198.18.77.2/24 dev tbc0
  ip -n $NS_S link set tbs0 up && ip -n $NS_C link set tbc0 up
  ip -n $NS_S link set lo up && ip -n $NS_C link set lo up
  ip netns exec $NS_S sysctl -qw net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=4096
  ip netns exec $NS_C sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
  # Busy polling (SO_BUSY_POLL is set per socket by --busy-poll; these are the system-wide knobs).
  for ns in $NS_S $NS_C; do ip netns exec $ns sysctl -qw net.core.busy_poll=50 net.core.busy_read=50 2>/dev/null || true; done
  ip netns exec $NS_S ethtool -k tbs0 2>/dev/null | grep -E '^(tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload|tx-checksumming|rx-checksumming):' |
    tr -d ' ' | paste -sd, - >"$OUT/veth-offloads.txt" || true
}

# Start a server, run one client, stop the server; record the client's JSON.
#   run_pair BENCH IMPL VARIANT REP SERVER_ARGS -- CLIENT_ARGS
SRV_EXTRA=()  # extra tern-echo server options (bench_bulk's variants)
run_tern() {  # BENCH VARIANT REP CLIENT_ARGS...
  local bench=$1 variant=$2 rep=$3; shift 3
  # memif's control socket is abstract by default (no file); a fresh name per run.
  local sock="/tern-bench-$$-$bench-$variant-$rep"
  taskset -c 0 "$TE" --dev "net_memif0,role=server,socket=$sock" --ip 198.18.0.1/24 --mac 02:00:00:00:00:01 \
    --discard-port 9 --backlog 4096 "${SRV_EXTRA[@]}" -- -l 0 >"$OUT/srv-$bench-$variant-$rep.json" 2>"$OUT/srv.log" &
  local spid=$!
  local up=0
  for _ in $(seq 1 100); do
    grep -q "ready:" "$OUT/srv.log" 2>/dev/null && { up=1; break; }
    kill -0 $spid 2>/dev/null || break
    sleep 0.1
  done
  if [ $up -eq 0 ]; then
    kill $spid 2>/dev/null || true
    log "tern-echo server did not start: $(tail -3 "$OUT/srv.log" | tr '\n' ' ')"
    echo '{"tps":0,"gbps":0,"exit":99}'
    return
  fi
  local res rc=0
  res=$(taskset -c 1 "$TE" --dev "net_memif0,role=client,socket=$sock" --ip 198.18.0.2/24 --mac 02:00:00:00:00:02 \
    "$@" -- -l 1 2>"$OUT/cli.log") || rc=$?
  kill -INT $spid
  local src=0
  wait $spid 2>/dev/null || src=$?
  local leaked; leaked=$(json_field '["mbufs_leaked"]' <"$OUT/srv-$bench-$variant-$rep.json" 2>/dev/null || echo "?")
  [ "$leaked" != "?" ] || log "tern-echo server (exit $src) printed no readable counters: $(tail -2 "$OUT/srv.log" | tr '\n' ' ')"
  [ $rc -eq 0 ] || log "tern client exit $rc: $(tail -2 "$OUT/cli.log" | tr '\n' ' ')"
  [ -n "$res" ] || res='{"tps":0,"gbps":0}'
  res=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["server_mbufs_leaked"]=sys.argv[2]; d["exit"]=int(sys.argv[3]); d["server_exit"]=int(sys.argv[4]); d.pop("stack",None); print(json.dumps(d))' "$res" "$leaked" "$rc" "$src")
  record "$bench" tern "$variant" "$rep" "$res"
  echo "$res"
}
run_kernel() {  # BENCH IMPL(kernel|kernel-busy) VARIANT REP CLIENT_ARGS...
  local bench=$1 impl=$2 variant=$3 rep=$4; shift 4
  local busy=()
  [ "$impl" = kernel-busy ] && busy=(--busy-poll)
  ip netns exec $NS_S taskset -c 0 "$KE" server --tcp-port 7 --udp-port 7 --discard-port 9 "${busy[@]}" \
    >"$OUT/ksrv.json" 2>"$OUT/ksrv.log" &
  local spid=$!
  for _ in $(seq 1 50); do
    ip netns exec $NS_S ss -Hltn 'sport = :7' | grep -q LISTEN && break
    sleep 0.1
  done
  local res rc=0
  res=$(ip netns exec $NS_C taskset -c 1 "$KE" client "${busy[@]}" "$@" 2>"$OUT/kcli.log") || rc=$?
  kill -INT $spid; wait $spid 2>/dev/null || true
  [ $rc -eq 0 ] || log "kernel client exit $rc: $(tail -2 "$OUT/kcli.log" | tr '\n' ' ')"
  [ -n "$res" ] || res='{"tps":0,"gbps":0}'
  res=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); s=json.loads(open(sys.argv[3]).read() or "{}"); d["server"]=s; d["exit"]=int(sys.argv[2]); print(json.dumps(d))' "$res" "$rc" "$OUT/ksrv.json")
  record "$bench" "$impl" "$variant" "$rep" "$res"
  echo "$res"
}
summ() { json_field '["tps"]' | xargs printf "%.0f"; }

# One echo comparison: tern, then the kernel blocking and busy-polling, REPS times per
# connection count, the same client options on both sides.
#   echo_bench BENCH UNIT "COUNTS" CLIENT_OPTIONS...
echo_bench() {
  local bench=$1 unit=$2 counts=$3; shift 3
  local c rep impl
  for c in $counts; do
    for rep in $(seq 1 "$REPS"); do
      log "$bench c=$c rep $rep: tern $(run_tern "$bench" "c$c" "$rep" --connect 198.18.0.1:7 --connections "$c" \
        --message-size 64 --duration "$T_RR" "$@" | summ) $unit"
      for impl in kernel kernel-busy; do
        log "$bench c=$c rep $rep: $impl $(run_kernel "$bench" $impl "c$c" "$rep" --connect 198.18.77.1:7 \
          --connections "$c" --message-size 64 --duration "$T_RR" "$@" | summ) $unit"
      done
    done
  done
}
bench_rr() { echo_bench rr tps "1 64"; }                  # 2. TCP request/response, 64-byte messages
bench_short() { echo_bench short conn/s "8" --short; }   # 3. connect, 64-byte request, response, reset
bench_udp() { echo_bench udp pps "1 16" --udp; }          # 4. UDP echo, 64-byte datagrams
# 5. bulk TCP, one connection, one direction. tern variants (issue 11; both sides get the options):
#   plain     --no-gso --no-gro: one segment per MSS, no merging (the path before issue 11)
#   c1        the default: GSO + GRO, software checksums (memif offers none)
#   trusted   + --checksum trusted (cooperating processes: no checksums)
#   jumbo     + --checksum trusted --mtu 9000
bench_bulk() {
  local rep v
  for rep in $(seq 1 "$REPS"); do
    for v in plain c1 trusted jumbo; do
      case $v in
        plain) SRV_EXTRA=(--no-gso --no-gro) ;;
        c1) SRV_EXTRA=() ;;
        trusted) SRV_EXTRA=(--checksum trusted) ;;
        jumbo) SRV_EXTRA=(--checksum trusted --mtu 9000) ;;
      esac
      log "bulk rep $rep: tern $v $(run_tern bulk "$v" "$rep" --connect 198.18.0.1:9 --bulk --message-size 65536 --duration "$T_BULK" "${SRV_EXTRA[@]}" | json_field '["gbps"]') Gbit/s"
    done
    SRV_EXTRA=()
    log "bulk rep $rep: kernel $(run_kernel bulk kernel c1 "$rep" --connect 198.18.77.1:9 --bulk --message-size 65536 --duration "$T_BULK" | json_field '["gbps"]') Gbit/s"
  done
}

# -------------------------------------------- 6. cost per transaction --
bench_cost() {
  local out
  out=$(bash perf/callgrind.sh "$BUILD" 64 2>&1) || { log "callgrind.sh failed: $out"; skip cost "perf/callgrind.sh failed"; return; }
  local tern_txn udp_pkt
  tern_txn=$(echo "$out" | grep -o '[0-9,]* instructions per transaction' | tr -d , | awk 'NR == 1 {print $1}')
  udp_pkt=$(echo "$out" | grep -o '[0-9,]* instructions per packet' | tr -d , | awk 'NR == 1 {print $1}')
  record cost tern tcp-rr 1 "{\"instructions_per_transaction\": ${tern_txn:-0}, \"udp_echo_instructions_per_packet\": ${udp_pkt:-0}}"
  # The kernel echo server: user-space instructions under callgrind over N and 2N
  # transactions (the difference cancels start-up); kernel instructions need perf stat.
  local n k1 k2
  # Run the kernel echo server under WRAPPER... until it has echoed TRANSACTIONS messages.
  kserve() {  # TRANSACTIONS WRAPPER...
    local n=$1; shift
    ip netns exec $NS_S taskset -c 0 "$@" "$KE" server --tcp-port 7 --udp-port 0 --discard-port 0 \
      --exit-after-bytes $(( n * 64 )) >/dev/null 2>"$OUT/kserve.log" &
    local vp=$!
    for _ in $(seq 1 100); do
      ip netns exec $NS_S ss -Hltn 'sport = :7' | grep -q LISTEN && break
      sleep 0.1
    done
    ip netns exec $NS_C "$KE" client --connect 198.18.77.1:7 --connections 1 --message-size 64 --duration 120 \
      >/dev/null 2>&1 || true  # ends when the server has echoed n messages and exits
    wait $vp || true
  }
  kcount() {  # TRANSACTIONS -> user-space instructions of the kernel echo server (callgrind)
    kserve "$1" valgrind --tool=callgrind --callgrind-out-file="$OUT/kcg.$1"
    # awk reads to the end: an early exit would SIGPIPE callgrind_annotate (fatal under pipefail).
    callgrind_annotate "$OUT/kcg.$1" 2>/dev/null | awk '/PROGRAM TOTALS/ && !d {gsub(",","",$1); print $1; d=1}'
  }
  kperf() {  # TRANSACTIONS -> user+kernel instructions of the kernel echo server (perf stat)
    kserve "$1" perf stat -x, -e instructions -o "$OUT/kperf.$1"
    awk -F, '/instructions/ && $1 ~ /^[0-9]+$/ {print $1; exit}' "$OUT/kperf.$1"
  }
  local n=$N_COST k1 k2
  k1=$(kcount $n)
  k2=$(kcount $((2 * n)))
  local user=$(( (k2 - k1) / n ))
  local kernel_note="perf stat cannot count instructions on this machine (no hardware counters in the VM): the kernel's own instructions are not measured"
  if perf stat -x, -e instructions true 2>&1 | grep -q '^[0-9]'; then
    local p1 p2
    p1=$(kperf $n)
    p2=$(kperf $((2 * n)))
    if [ -n "$p1" ] && [ -n "$p2" ]; then
      kernel_note="perf stat: $(( (p2 - p1) / n )) instructions per transaction in the kernel echo server's user space and the kernel together (N and 2N runs)"
    else
      kernel_note="perf stat answered but counted nothing for the echo server: kernel instructions not measured"
    fi
  fi
  # Kernel CPU time per transaction from a timed run (getrusage of the server): sys + user.
  local res
  res=$(run_kernel cost-cpu kernel c1 1 --connect 198.18.77.1:7 --connections 1 --message-size 64 --duration "$T_RR")
  record cost kernel tcp-rr 1 "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); s=d["server"]; t=max(d["transactions"],1); print(json.dumps({"user_instructions_per_transaction": int(sys.argv[2]), "server_cpu_us_per_transaction": (s.get("cpu_user_s",0)+s.get("cpu_sys_s",0))/t*1e6, "server_sys_fraction": s.get("cpu_sys_s",0)/max(s.get("cpu_user_s",0)+s.get("cpu_sys_s",0),1e-9), "note": sys.argv[3]}))' "$res" "$user" "$kernel_note")"
  log "cost: tern $tern_txn instructions per transaction (server); kernel echo server user space $user"
}

# ----------------------------------------------------------- 7. memory --
bench_memory() {
  local res
  res=$("$BUILD/perf/tern-conn-memory" "$N_MEM" 2>"$OUT/mem.log") || { log "tern-conn-memory failed: $(tail -3 "$OUT/mem.log")"; skip memory "tern-conn-memory failed"; return; }
  record memory tern idle 1 "$res"
  log "memory: $res"
}

# ---------------------------------------------------- 9. loss recovery --
# 64 KiB and 4 MiB objects over a pair wire with random loss and a 1 ms one-way delay, simulated
# clock (exact, repeatable): tern with RACK-TLP against tern with RFC 6675 recovery in the same
# run. The kernel cannot be measured the same way here: this machine's kernel has no netem (no
# delay or loss model between namespaces), so Linux's figures are not on the page.
bench_loss() {
  local rec line n
  for rec in rack-tlp rfc6675; do
    n=0
    if [ $QUICK -eq 1 ]; then set -- --small 60 --large 6; else set -- --small 200 --large 20; fi
    while IFS= read -r line; do
      [ -n "$line" ] || continue
      record loss tern "$rec" 1 "$line"
      n=$((n + 1))
    done < <("$BUILD/perf/tern-loss-recovery" --recovery "$rec" "$@" 2>"$OUT/loss-$rec.log") ||
      { log "tern-loss-recovery failed: $(tail -3 "$OUT/loss-$rec.log")"; skip loss "tern-loss-recovery failed"; return; }
    if [ "$n" -eq 0 ]; then
      log "tern-loss-recovery gave no result: $(tail -3 "$OUT/loss-$rec.log")"
      skip loss "tern-loss-recovery gave no result ($rec)"
      return
    fi
    log "loss recovery ($rec): $n results"
  done
  skip loss-kernel "Linux between two namespaces: the kernel here has no netem (no delay or loss qdisc), so no like-for-like path exists"
}

# ------------------------------------------- unmodified servers (issue 13) --
# tern: both programs run unmodified under LD_PRELOAD=libtern-preload.so, joined by net_memif
# (server: lcore 0 = CPU 0, client: lcore 1 = CPU 1, EAL pins them). Kernel: the same binaries over
# veth between the two namespaces, pinned the same way with taskset.
PRELOAD=""
preload_conf() {  # FILE ROLE SOCKET IP MAC LCORE: a TERN_CONFIG for one side of the memif
  cat >"$1" <<YAML
ports:
  - name: m0
    devargs: "net_memif0,role=$2,socket=$3"
    ip: $4/24
    mac: "$5"
lcores: "$6"
YAML
}
wait_log() {  # FILE PATTERN PID: until the server logs PATTERN (or exits)
  for _ in $(seq 1 150); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
stop_srv() { kill -TERM "$1" 2>/dev/null || true; for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done; kill -KILL "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
redis_json() {  # CSV from redis-benchmark --csv -> {"set_rps","set_p99_ms","get_rps","get_p99_ms"}
  python3 - "$1" <<'PY'
import csv, json, sys
d = {}
for row in csv.DictReader(open(sys.argv[1])):
    t = row["test"].lower()
    d[t + "_rps"] = float(row["rps"]); d[t + "_p99_ms"] = float(row["p99_latency_ms"]); d[t + "_p50_ms"] = float(row["p50_latency_ms"])
print(json.dumps(d))
PY
}

# 10. redis: redis-benchmark (50 clients, SET and GET, pipelining 1 and 16) against redis-server.
bench_redis() {
  command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null ||
    { skip redis "redis-server or redis-benchmark is not installed (scripts/setup.sh installs them)"; return; }
  local p rep n res spid sock args
  for p in 1 16; do
    n=$(( p == 1 ? N_REDIS : N_REDIS * 10 ))
    args=(-n "$n" -c 50 -P "$p" -t set,get --csv)
    for rep in $(seq 1 "$REPS"); do
      sock="/tern-bench-redis-$$-$p-$rep"
      preload_conf "$OUT/redis-srv.yaml" server "$sock" 198.18.0.1 02:00:00:00:00:01 0
      preload_conf "$OUT/redis-cli.yaml" client "$sock" 198.18.0.2 02:00:00:00:00:02 1
      TERN_CONFIG="$OUT/redis-srv.yaml" LD_PRELOAD="$PRELOAD" redis-server --port 6379 --bind 0.0.0.0 --save "" \
        --appendonly no --protected-mode no --dir "$OUT" >"$OUT/redis-srv.log" 2>&1 &
      spid=$!
      if wait_log "$OUT/redis-srv.log" "Ready to accept" $spid &&
         TERN_CONFIG="$OUT/redis-cli.yaml" LD_PRELOAD="$PRELOAD" timeout 300 redis-benchmark -h 198.18.0.1 "${args[@]}" \
           >"$OUT/redis.csv" 2>"$OUT/redis-cli.log"; then
        res=$(redis_json "$OUT/redis.csv"); record redis tern "P$p" "$rep" "$res"; log "redis P$p rep $rep: tern $res"
      else
        log "redis tern P$p: failed: $(tail -2 "$OUT/redis-srv.log" "$OUT/redis-cli.log" | tr '\n' ' ')"
      fi
      stop_srv $spid
      ip netns exec $NS_S taskset -c 0 redis-server --port 6379 --bind 198.18.77.1 --save "" --appendonly no \
        --protected-mode no --dir "$OUT" >"$OUT/kredis-srv.log" 2>&1 &
      spid=$!
      if wait_log "$OUT/kredis-srv.log" "Ready to accept" $spid &&
         ip netns exec $NS_C taskset -c 1 timeout 300 redis-benchmark -h 198.18.77.1 "${args[@]}" >"$OUT/kredis.csv" 2>/dev/null; then
        res=$(redis_json "$OUT/kredis.csv"); record redis kernel "P$p" "$rep" "$res"; log "redis P$p rep $rep: kernel $res"
      else
        log "redis kernel P$p: failed: $(tail -2 "$OUT/kredis-srv.log" | tr '\n' ' ')"
      fi
      stop_srv $spid
    done
  done
}

# 11. nginx: wrk (1 thread, 32 connections) fetching a 612-byte file from nginx (one worker, master
# process off), keep-alive and with "Connection: close".
nginx_conf() {  # FILE LISTEN
  mkdir -p "$OUT/www" "$OUT/ngx"
  head -c 612 /dev/zero | tr '\0' 'n' >"$OUT/www/index.html"
  cat >"$1" <<NGX
daemon off;
master_process off;
worker_processes 1;
pid $OUT/ngx/nginx-$$.pid;
error_log $OUT/ngx/error.log warn;
events { worker_connections 4096; use epoll; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $OUT/ngx/body;
  proxy_temp_path $OUT/ngx/proxy;
  fastcgi_temp_path $OUT/ngx/fastcgi;
  uwsgi_temp_path $OUT/ngx/uwsgi;
  scgi_temp_path $OUT/ngx/scgi;
  server { listen $2 backlog=4096; root $OUT/www; }
}
NGX
}
wrk_json() {  # wrk output -> {"rps":..,"p99_ms":..}
  python3 - "$1" <<'PY'
import json, re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
def ms(v, u): return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[u]
m = re.search(r"99%\s+([\d.]+)(us|ms|s)", t)
err = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print(json.dumps({"rps": rps, "p99_ms": ms(*m.groups()) if m else None,
                  "socket_errors": sum(map(int, err.groups())) if err else 0, "non2xx": int(non2xx.group(1)) if non2xx else 0}))
PY
}
bench_nginx() {
  local ngx; ngx=$(command -v nginx || echo /usr/sbin/nginx)
  [ -x "$ngx" ] && command -v wrk >/dev/null || { skip nginx "nginx or wrk is not installed (scripts/setup.sh installs them)"; return; }
  local mode rep res spid sock hdr
  for mode in keepalive close; do
    hdr=()
    [ "$mode" = close ] && hdr=(-H "Connection: close")
    for rep in $(seq 1 "$REPS"); do
      sock="/tern-bench-nginx-$$-$mode-$rep"
      preload_conf "$OUT/ngx-srv.yaml" server "$sock" 198.18.0.1 02:00:00:00:00:01 0
      preload_conf "$OUT/ngx-cli.yaml" client "$sock" 198.18.0.2 02:00:00:00:00:02 1
      nginx_conf "$OUT/nginx.conf" 8080
      TERN_CONFIG="$OUT/ngx-srv.yaml" LD_PRELOAD="$PRELOAD" "$ngx" -c "$OUT/nginx.conf" -p "$OUT/ngx" \
        >"$OUT/ngx-srv.log" 2>&1 &
      spid=$!
      if wait_log "$OUT/ngx-srv.log" "stack started" $spid &&
         TERN_CONFIG="$OUT/ngx-cli.yaml" LD_PRELOAD="$PRELOAD" timeout 120 wrk -t1 -c32 -d"${T_HTTP}s" --latency "${hdr[@]}" \
           http://198.18.0.1:8080/index.html >"$OUT/wrk.txt" 2>"$OUT/wrk.err"; then
        res=$(wrk_json "$OUT/wrk.txt"); record nginx tern "$mode" "$rep" "$res"; log "nginx $mode rep $rep: tern $res"
      else
        log "nginx tern $mode: failed: $(tail -2 "$OUT/ngx-srv.log" "$OUT/wrk.err" | tr '\n' ' ')"
      fi
      stop_srv $spid
      nginx_conf "$OUT/nginx.conf" 198.18.77.1:8080
      ip netns exec $NS_S taskset -c 0 "$ngx" -c "$OUT/nginx.conf" -p "$OUT/ngx" >"$OUT/kngx-srv.log" 2>&1 &
      spid=$!
      for _ in $(seq 1 50); do ip netns exec $NS_S ss -Hltn 'sport = :8080' | grep -q LISTEN && break; sleep 0.1; done
      if ip netns exec $NS_C taskset -c 1 timeout 120 wrk -t1 -c32 -d"${T_HTTP}s" --latency "${hdr[@]}" \
           http://198.18.77.1:8080/index.html >"$OUT/kwrk.txt" 2>/dev/null; then
        res=$(wrk_json "$OUT/kwrk.txt"); record nginx kernel "$mode" "$rep" "$res"; log "nginx $mode rep $rep: kernel $res"
      else
        log "nginx kernel $mode: failed"
      fi
      stop_srv $spid
    done
  done
}

# ------------------------------------------------------------------ run --
START=$(date +%s)
want l3fwd && bench_l3fwd
if want rr || want short || want udp || want bulk || want cost || want redis || want nginx; then kernel_net; fi
want rr && bench_rr
want short && bench_short
want udp && bench_udp
want bulk && bench_bulk
want cost && bench_cost
want memory && bench_memory
want scaling && bench_scaling
want loss && bench_loss
PRELOAD=$BUILD/apps/preload/libtern-preload.so
want redis && bench_redis
want nginx && bench_nginx
skip scaling-tcp "TCP request/response with the server on 2 lcores: a client would share the machine's only 2 vCPUs with the server's two busy cores, so the figure would measure the scheduler, not the stack; not measured here"
log "measured in $(( $(date +%s) - START )) s; writing docs/benchmarks.md"
python3 perf/lib/report.py "$RAW" "$OUT/veth-offloads.txt" docs/benchmarks.md docs/benchmarks.json
