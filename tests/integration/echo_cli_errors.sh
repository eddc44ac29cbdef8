#!/usr/bin/env bash
# integration-echo_cli_errors: tern-echo's command line fails loudly and cleanly.
#
#   echo_cli_errors.sh TERN_ECHO [WORKDIR]
#
# - --help exits 0 and mentions every option
# - --ip 1.2.3 exits non-zero with a message naming --ip
# - a config file with an unknown key (top level, and inside a port) exits non-zero
#   naming the key and FILE:LINE
# - --dev net_bogus0 exits non-zero with a readable error, no crash (alone: the missing
#   address is reported first; with --ip: the probe fails and the error names the device)
# None of these needs root or a NIC (EAL runs with --no-huge); nothing is skipped.
set -uo pipefail

TERN_ECHO=${1:?usage: $0 TERN_ECHO [WORKDIR]}
[ -x "$TERN_ECHO" ] || { echo "FAIL: $TERN_ECHO is not an executable"; exit 1; }
WORK=$(mktemp -d "${2:-/tmp}/tern-itest-cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILED=0

ok() { printf '  ok    %s\n' "$*"; }
fail() { printf '  FAIL  %s\n' "$*"; FAILED=$((FAILED + 1)); }

# run NAME ARGS...: runs tern-echo with a time limit; sets RC, OUT, ERR.
run() {
  local name=$1; shift
  printf '\n== %s\n  $ tern-echo %s\n' "$name" "$*"
  timeout -k 5 60 "$TERN_ECHO" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
  RC=$?
  OUT=$(cat "$WORK/out")
  ERR=$(cat "$WORK/err")
  echo "  exit status $RC"
  [ -n "$OUT" ] && printf '%s\n' "$OUT" | head -n 40 | sed 's/^/  stdout| /'
  [ -n "$ERR" ] && printf '%s\n' "$ERR" | head -n 20 | sed 's/^/  stderr| /'
  return 0
}

# A clean error: non-zero, not killed by a signal or the time limit (>= 124), no crash text.
clean_failure() {
  if [ "$RC" -eq 0 ]; then fail "exits non-zero (got 0)"; return; fi
  if [ "$RC" -ge 124 ]; then fail "exits with a normal error status, not a signal or timeout (got $RC)"; return; fi
  if grep -qiE "segmentation fault|core dumped|terminate called|Assertion|AddressSanitizer|panic|stack trace" \
    "$WORK/err" "$WORK/out"; then
    fail "no crash report on stderr"
    return
  fi
  ok "exits with status $RC, no crash"
}

mentions() {  # TEXT WHAT PATTERN...: every PATTERN occurs in TEXT
  local text=$1 what=$2; shift 2
  local missing=()
  for p in "$@"; do grep -qF -- "$p" <<<"$text" || missing+=("$p"); done
  if [ ${#missing[@]} -eq 0 ]; then ok "$what mentions: $*"; else fail "$what does not mention: ${missing[*]}"; fi
}

run "--help" --help
if [ "$RC" -eq 0 ]; then ok "exits 0"; else fail "exits 0 (got $RC)"; fi
mentions "$OUT" "--help" --config --dev --ip --gateway --udp-port --tcp-port --lcores --capture

run "bad --ip" --dev net_null0 --ip 1.2.3
clean_failure
mentions "$ERR" "the error" "--ip" "1.2.3"

cat >"$WORK/unknown-top.yaml" <<'EOF'
log_level: info
lcores: "0"
frobnicate: 3
ports:
  - name: tap0
    devargs: "net_tap0,iface=tern0"
    ip: 198.18.0.2/24
EOF
run "config with an unknown top-level key (line 3)" --config "$WORK/unknown-top.yaml"
clean_failure
mentions "$ERR" "the error" "frobnicate" "unknown-top.yaml:3"

cat >"$WORK/unknown-port.yaml" <<'EOF'
log_level: info
ports:
  - name: tap0
    devargs: "net_tap0,iface=tern0"
    ip: 198.18.0.2/24
    mtuu: 1500
EOF
run "config with an unknown key inside a port (line 6)" --config "$WORK/unknown-port.yaml"
clean_failure
mentions "$ERR" "the error" "mtuu" "unknown-port.yaml:6"

run "a device no driver knows, nothing else given" --dev net_bogus0
clean_failure
if grep -q "^tern-echo: ." "$WORK/err"; then ok "a one-line 'tern-echo: ...' explanation"; else fail "no 'tern-echo: ...' error line"; fi

run "a device no driver knows, with an address (so the device is probed)" --dev net_bogus0 --ip 198.18.0.2/24
clean_failure
mentions "$ERR" "the error" "net_bogus0"
if grep -q "^tern-echo: " "$WORK/err"; then ok "the error is tern-echo's own message, not only EAL's"; else fail "no 'tern-echo: ...' error line"; fi
if [ -z "$OUT" ]; then ok "nothing on stdout (no counters: it never ran)"; else fail "stdout is not empty"; fi

echo
if [ "$FAILED" -ne 0 ]; then echo "echo_cli_errors: $FAILED check(s) FAILED"; exit 1; fi
echo "echo_cli_errors: all checks passed"
