#!/usr/bin/env bash
# Run one libFuzzer target (the wire parsers, or fuzz_core: frames into a whole Core) for a while.
#
#   scripts/fuzz.sh TARGET SECONDS   build (configuring build-fuzz with clang, ASan and UBSan if absent),
#                                    then fuzz TARGET for SECONDS with the corpus build-fuzz/corpus/TARGET
#                                    seeded from tests/fuzz/seeds/SEEDS (SEEDS: TARGET, or core for
#                                    fuzz_core); exits non-zero on a crash.
#   scripts/fuzz.sh TARGET --runs N  the same, for N executions instead of a time.
#   scripts/fuzz.sh --merge TARGET   replace tests/fuzz/seeds/SEEDS with at most 200 inputs (2 MB) of
#                                    build-fuzz/corpus/TARGET plus the seeds that keep the most coverage
#                                    (libFuzzer -merge=1, then scripts/fuzz_select.py); the seeds of
#                                    fuzz_core are replayed by the unit suite (unit-fuzz-core-replay).
#   scripts/fuzz.sh --list           list the targets.
# TERN_FUZZ_FLAGS adds libFuzzer options (e.g. -entropic=0, -only_ascii=1).
# Every library is instrumented for coverage (-fsanitize=fuzzer-no-link) besides ASan and UBSan.
# A crashing input lands in build-fuzz/artifacts/TARGET/; replay it with
#   build-fuzz/tests/fuzz/TARGET FILE    (or, for fuzz_core, build/tests/fuzz/unit_fuzz_core_replay FILE).
set -euo pipefail

TARGETS=(fuzz_ethernet fuzz_arp fuzz_ipv4 fuzz_icmp fuzz_udp fuzz_tcp fuzz_core)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build-fuzz"

usage() {
  echo "usage: $0 TARGET SECONDS | TARGET --runs N | --merge TARGET | --list" >&2
  exit 2
}

# The checked-in seed directory of target $1.
seeds_of() {
  if [[ "$1" == fuzz_core ]]; then echo "$ROOT/tests/fuzz/seeds/core"; else echo "$ROOT/tests/fuzz/seeds/$1"; fi
}

# libFuzzer options of target $1 beyond the common ones.
target_flags() {
  if [[ "$1" == fuzz_core ]]; then echo "-max_len=4096 -timeout=30 -rss_limit_mb=4096"; fi
}

is_target() {
  local t
  for t in "${TARGETS[@]}"; do
    [[ "$t" == "$1" ]] && return 0
  done
  return 1
}

# Coverage instrumentation of every library, less what tests/fuzz/coverage_ignore.txt lists.
COV_ARGS="-fsanitize=fuzzer-no-link -fsanitize-coverage-ignorelist=$ROOT/tests/fuzz/coverage_ignore.txt"

configure() {
  if [[ ! -f "$BUILD/build.ninja" ]]; then
    (cd "$ROOT" && CXX=clang++ meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
      -Db_lundef=false -Dperf=false "-Dcpp_args=$COV_ARGS" >/dev/null)
  elif ! grep -q 'coverage-ignorelist' "$BUILD/build.ninja"; then  # configured before fuzz_core existed
    meson configure "$BUILD" "-Dcpp_args=$COV_ARGS" >/dev/null
  fi
}

# Print the one-line summary for target $1 from libFuzzer's log $2, with status $3 and an optional suffix $4.
summarize() {
  local runs cov corpus
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$2" | tail -1 || true)
  cov=$(grep -o 'cov: [0-9]*' "$2" | tail -1 | cut -d' ' -f2 || true)
  corpus=$(find "$BUILD/corpus/$1" -type f | wc -l || true)
  local rate
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$2" | tail -1 || true)
  echo "$1: $3: ${runs:-?} runs (limit ${LIMIT}), ${rate:-?} exec/s, cov ${cov:-?}, corpus ${corpus} inputs${4:-}"
}

[[ $# -ge 1 ]] || usage
if [[ "$1" == "--list" ]]; then
  printf '%s\n' "${TARGETS[@]}"
  exit 0
fi
if [[ "$1" == "--merge" ]]; then
  [[ $# -eq 2 ]] || usage
  is_target "$2" || { echo "unknown target '$2' (see --list)" >&2; exit 2; }
  configure
  ninja -C "$BUILD" -j2 "tests/fuzz/$2" >/dev/null
  SEEDS=$(seeds_of "$2")
  TMP=$(mktemp -d)
  mkdir -p "$BUILD/corpus/$2" "$SEEDS" "$TMP/merged"
  # shellcheck disable=SC2046
  "$BUILD/tests/fuzz/$2" -merge=1 $(target_flags "$2") -merge_control_file="$TMP/control" "$TMP/merged" \
    "$SEEDS" "$BUILD/corpus/$2" >"$BUILD/merge-$2.log" 2>&1 ||
    { echo "merge failed: see $BUILD/merge-$2.log" >&2; rm -rf "$TMP"; exit 1; }
  # At most 200 inputs and 2 MB, chosen for the coverage they keep (greedy set cover).
  summary=$(python3 "$ROOT/scripts/fuzz_select.py" "$TMP/control" "$TMP/selected" 200 2097152)
  find "$SEEDS" -type f -delete
  cp "$TMP"/selected/* "$SEEDS"/
  rm -rf "$TMP"
  echo "$2: seeds in ${SEEDS#"$ROOT"/}: $summary"
  exit 0
fi
[[ $# -eq 2 || ( $# -eq 3 && "$2" == "--runs" ) ]] || usage
TARGET="$1"
is_target "$TARGET" || { echo "unknown target '$TARGET' (see --list)" >&2; exit 2; }
if [[ $# -eq 3 ]]; then
  [[ "$3" =~ ^[1-9][0-9]*$ ]] || { echo "N must be a positive integer" >&2; exit 2; }
  LIMIT_FLAG="-runs=$3"
  LIMIT="$3 runs"
else
  [[ "$2" =~ ^[1-9][0-9]*$ ]] || { echo "SECONDS must be a positive integer" >&2; exit 2; }
  LIMIT_FLAG="-max_total_time=$2"
  LIMIT="${2}s"
fi

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
# shellcheck disable=SC2046
"$BUILD/tests/fuzz/$TARGET" "$LIMIT_FLAG" $(target_flags "$TARGET") ${TERN_FUZZ_FLAGS:-} -print_final_stats=1 \
  -artifact_prefix="$ARTIFACTS/" "$CORPUS" "$(seeds_of "$TARGET")" >"$LOG" 2>&1
rc=$?
set -e
if [[ $rc -eq 0 ]]; then
  summarize "$TARGET" "$LOG" "OK"
else
  summarize "$TARGET" "$LOG" "CRASH (exit $rc)" "; crashing input in $ARTIFACTS, log $LOG"
  grep -m5 -E 'ERROR|FUZZ_CHECK|runtime error' "$LOG" >&2 || true
fi
exit $rc
