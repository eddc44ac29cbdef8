#!/usr/bin/env bash
# Run tern's whole test suite on this machine: installs what is missing,
# builds, runs unit + integration tests, then the unit and pcap tests again
# under AddressSanitizer/UBSan, and ends with the line "N passed, N failed".
#
#   scripts/test.sh            everything
#   TERN_TEST_ASAN=0 ...       skip the sanitizer pass
#   TERN_TEST_FUZZ=SECONDS     also run every fuzz target that long (needs clang)
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

logs=()
status=0
run_suite() {  # BUILD_DIR SETUP_ARGS... -- MESON_TEST_ARGS...
  local dir=$1; shift
  local setup=() args=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do setup+=("$1"); shift; done
  shift || true
  args=("$@")
  echo "== build $dir ${setup[*]}"
  if ! scripts/build.sh "$dir" "${setup[@]}"; then
    echo "build of $dir failed"
    status=1
    return
  fi
  echo "== test $dir ${args[*]}"
  rm -f "$dir/meson-logs/testlog.junit.xml"
  meson test -C "$dir" --no-rebuild --print-errorlogs "${args[@]}" || status=1
  logs+=("$dir/meson-logs/testlog.junit.xml")
}

run_suite build --
if [ "${TERN_TEST_ASAN:-1}" != "0" ]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
  export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dperf=false -- \
    --suite unit --suite pcap
fi
fuzz_results=""
if [ "${TERN_TEST_FUZZ:-0}" != "0" ] && command -v clang++ >/dev/null; then
  for t in $(scripts/fuzz.sh --list); do
    if scripts/fuzz.sh "$t" "$TERN_TEST_FUZZ"; then fuzz_results+=" pass"; else fuzz_results+=" fail"; status=1; fi
  done
fi

/usr/bin/python3 - "$fuzz_results" "${logs[@]}" <<'PY'
import sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
fuzz = sys.argv[1].split()
for path in sys.argv[2:]:
    try:
        root = ET.parse(path).getroot()
    except Exception as e:
        print(f"cannot read {path}: {e}")
        failed += 1
        continue
    for tc in root.iter("testcase"):
        if tc.find("failure") is not None or tc.find("error") is not None:
            failed += 1
            print("FAILED:", path.split("/")[0], tc.get("classname"), tc.get("name"))
        elif tc.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
passed += fuzz.count("pass")
failed += fuzz.count("fail")
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
PY
rc=$?
[ $status -ne 0 ] && [ $rc -eq 0 ] && { echo "a build or test step failed (see above)"; rc=1; }
exit $rc
