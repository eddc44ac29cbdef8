#!/usr/bin/env bash
# Run one libFuzzer target of the wire parsers for a while.
#
#   scripts/fuzz.sh TARGET SECONDS   build (configuring build-fuzz with clang, ASan and UBSan if absent),
#                                    then fuzz TARGET for SECONDS with the corpus build-fuzz/corpus/TARGET
#                                    seeded from tests/fuzz/seeds/TARGET; exits non-zero on a crash.
#   scripts/fuzz.sh --list           list the targets.
set -euo pipefail

TARGETS=(fuzz_ethernet fuzz_arp fuzz_ipv4 fuzz_icmp fuzz_udp fuzz_tcp)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build-fuzz"

usage() {
  echo "usage: $0 TARGET SECONDS | --list" >&2
  exit 2
}

is_target() {
  local t
  for t in "${TARGETS[@]}"; do
    [[ "$t" == "$1" ]] && return 0
  done
  return 1
}

configure() {
  if [[ ! -f "$BUILD/build.ninja" ]]; then
    (cd "$ROOT" && CXX=clang++ meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
      -Db_lundef=false -Dperf=false >/dev/null)
  fi
}

# Print the one-line summary for target $1 from libFuzzer's log $2, with status $3 and an optional suffix $4.
summarize() {
  local runs cov corpus
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$2" | tail -1 || true)
  cov=$(grep -o 'cov: [0-9]*' "$2" | tail -1 | cut -d' ' -f2 || true)
  corpus=$(find "$BUILD/corpus/$1" -type f | wc -l || true)
  echo "$1: $3: ${runs:-?} runs (limit ${SECS}s), cov ${cov:-?}, corpus ${corpus} inputs${4:-}"
}

[[ $# -ge 1 ]] || usage
if [[ "$1" == "--list" ]]; then
  printf '%s\n' "${TARGETS[@]}"
  exit 0
fi
[[ $# -eq 2 ]] || usage
TARGET="$1"
SECS="$2"
is_target "$TARGET" || { echo "unknown target '$TARGET' (see --list)" >&2; exit 2; }
[[ "$SECS" =~ ^[1-9][0-9]*$ ]] || { echo "SECONDS must be a positive integer" >&2; exit 2; }

configure
ninja -C "$BUILD" -j2 "tests/fuzz/$TARGET" >/dev/null

CORPUS="$BUILD/corpus/$TARGET"
ARTIFACTS="$BUILD/artifacts/$TARGET"
LOG="$BUILD/fuzz-$TARGET.log"
mkdir -p "$CORPUS" "$ARTIFACTS"
# New inputs go to the first directory; the checked-in seeds are only read.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}"
set +e
"$BUILD/tests/fuzz/$TARGET" -max_total_time="$SECS" -print_final_stats=1 -artifact_prefix="$ARTIFACTS/" \
  "$CORPUS" "$ROOT/tests/fuzz/seeds/$TARGET" >"$LOG" 2>&1
rc=$?
set -e
if [[ $rc -eq 0 ]]; then
  summarize "$TARGET" "$LOG" "OK"
else
  summarize "$TARGET" "$LOG" "CRASH (exit $rc)" "; crashing input in $ARTIFACTS, log $LOG"
  grep -m5 -E 'ERROR|FUZZ_CHECK|runtime error' "$LOG" >&2 || true
fi
exit $rc
