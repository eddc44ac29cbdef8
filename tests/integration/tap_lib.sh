# Shared by the net_tap integration tests (tap_kernel_peer.sh, tap_tcp_interop.sh); sourced, not run.
# Needs NS (the test's namespace) set before in_ns is called, FAILED=0 and PID (the running tern-echo)
# in the caller.

PY=/usr/bin/python3   # Debian's python3-scapy only works with the system interpreter

# require_tap_env TERN_ECHO: exit 77 (skipped) without root or /dev/net/tun, 1 without the tools.
require_tap_env() {
  if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (network namespaces, net_tap)"; exit 77; fi
  if [ ! -c /dev/net/tun ]; then echo "SKIP: /dev/net/tun is missing (net_tap needs it)"; exit 77; fi
  for tool in ip ping "$PY"; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool not found (scripts/setup.sh installs the test tools)"; exit 1; }
  done
  "$PY" -c 'import scapy.all' 2>/dev/null ||
    { echo "FAIL: scapy does not import under $PY (apt-get install python3-scapy)"; exit 1; }
  [ -x "$1" ] || { echo "FAIL: $1 is not an executable"; exit 1; }
}

in_ns() { ip netns exec "$NS" "$@"; }
say() { printf '\n== %s\n' "$*"; }
ok() { printf '  ok    %s\n' "$*"; }
fail() { printf '  FAIL  %s\n' "$*"; FAILED=$((FAILED + 1)); }

# stop_pid PID [SECONDS]: SIGTERM a process of ours, SIGKILL after SECONDS (default 5), reap it;
# its exit status goes to STOP_RC (empty when PID is empty).
stop_pid() {
  STOP_RC=""
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 1 $((${2:-5} * 10))); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$1" 2>/dev/null; then
    echo "  (pid $1 ignored SIGTERM for ${2:-5} s: SIGKILL)"
    kill -KILL "$1" 2>/dev/null
  fi
  wait "$1" 2>/dev/null
  STOP_RC=$?
}

# stop_tern: stop the tern-echo in PID (10 s grace, it prints its counters on SIGTERM); sets TERN_RC.
stop_tern() {
  stop_pid "$PID" 10
  TERN_RC=$STOP_RC
  PID=""
}
