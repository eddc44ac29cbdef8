#!/usr/bin/env bash
# Instructions per packet / per transaction, counted by valgrind's callgrind:
# repeatable run to run, unlike wall time. Each figure comes from two runs
# (N and 2N) whose difference cancels the fixed costs (EAL, set-up, warm-up).
#   UDP echo path (tern-echo-path-count): receive + echo + transmit on one
#     Core, counted inside Core::poll.
#   TCP request/response (tern-tcp-rr-count): two Cores over a PairWire, one
#     connection; counted inside serve_poll(), the only caller of the server
#     Core's poll, so the client's side is not counted.
#   Bulk TCP (tern-tcp-bulk-count): two Cores over a PairWire, one connection, software
#     checksums; counted inside bulk_poll(), both cores' loop, so the application's copy into
#     the send buffer is not counted. Per byte, for the default path (GSO + GRO), the plain
#     one (one segment at a time, no GRO) and trusted checksums.
#   perf/callgrind.sh [BUILD_DIR] [PAYLOAD_BYTES]   (PAYLOAD: UDP payload and TCP message size)
# Output (other scripts grep it; keep the wording, the number is the word before "instructions per"):
#   UDP echo path, 64-byte payload: N instructions per packet inside Core::poll (...)
#   TCP request/response, 64-byte messages: N instructions per transaction on the server side (...)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
payload=${2:-64}
ninja -C "$build" perf/tern-echo-path-count perf/tern-tcp-rr-count perf/tern-tcp-bulk-count >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count() {  # NAME TOGGLE PROGRAM COUNT -> instructions collected inside TOGGLE
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1.$4" --toggle-collect="$2" \
    "$build/perf/$3" "$4" "${5:-$payload}" >"$out/out.$1.$4" 2>"$out/log.$1.$4" ||
    { cat "$out/out.$1.$4" "$out/log.$1.$4"; exit 1; }
  callgrind_annotate "$out/cg.$1.$4" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); if (!done) print $1; done=1}'
}
a=$(count udp 'tern::Core::poll(*' tern-echo-path-count 200)
b=$(count udp 'tern::Core::poll(*' tern-echo-path-count 400)
per=$(( (b - a) / (200 * 32) ))
echo "UDP echo path, ${payload}-byte payload: $per instructions per packet inside Core::poll (rx, l2, l3, udp, socket callback, echo, tx)"
a=$(count tcp 'serve_poll(*' tern-tcp-rr-count 1000)
b=$(count tcp 'serve_poll(*' tern-tcp-rr-count 2000)
per=$(( (b - a) / 1000 ))
echo "TCP request/response, ${payload}-byte messages: $per instructions per transaction on the server side (rx, l2, l3, tcp input, echo, tcp output, tx)"
for mode in default plain trusted; do
  a=$(count "bulk-$mode" 'bulk_poll(*' tern-tcp-bulk-count 4 "$mode")
  b=$(count "bulk-$mode" 'bulk_poll(*' tern-tcp-bulk-count 8 "$mode")
  per=$(python3 -c "print(f'{($b - $a) / (4 << 20):.3f}')")
  echo "Bulk TCP ($mode): $per instructions per byte inside both cores' poll (tcp output, gso, tx, rx, gro, tcp input; software checksums unless trusted)"
done
