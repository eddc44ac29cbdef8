#!/usr/bin/env bash
# Instructions per packet of the UDP echo path (receive + echo + transmit on
# one Core), counted by valgrind's callgrind inside Core::poll: repeatable
# run to run, unlike wall time. Two runs (N and 2N bursts) cancel fixed costs.
#   perf/callgrind.sh [BUILD_DIR] [PAYLOAD_BYTES]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
payload=${2:-64}
ninja -C "$build" perf/tern-echo-path-count >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count() {  # BURSTS -> instructions collected inside Core::poll
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1" --toggle-collect='tern::Core::poll(*' \
    "$build/perf/tern-echo-path-count" "$1" "$payload" >/dev/null 2>"$out/log.$1" || { cat "$out/log.$1"; exit 1; }
  callgrind_annotate "$out/cg.$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); if (!done) print $1; done=1}'
}
a=$(count 200)
b=$(count 400)
per=$(( (b - a) / (200 * 32) ))
echo "UDP echo path, ${payload}-byte payload: $per instructions per packet inside Core::poll (rx, l2, l3, udp, socket callback, echo, tx)"
