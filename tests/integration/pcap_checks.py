"""Helpers shared by the golden-pcap tests (pcap_golden.py, l3fwd_pcap.py):
a check recorder, the RFC 1071 checksum, and running a tern tool on net_pcap
ports. Imported from the scripts' own folder."""
import json
import os
import struct
import subprocess
import sys
import time

failures = []


def check(ok, what, quiet=False):
    """Record a check; @p quiet ones (per-frame details) are printed only when they fail."""
    if not ok or not quiet:
        print(("  ok    " if ok else "  FAIL  ") + what)
    if not ok:
        failures.append(what)
    return ok


def csum16(data: bytes) -> int:
    """One's complement sum of 16-bit words (RFC 1071), folded, not inverted."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


class ToolRun:
    """One run of a tern tool on net_pcap ports: its CompletedProcess and its last JSON line (or None)."""

    def __init__(self, name, proc):
        self.name = name
        self.proc = proc
        self.stats = None
        lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
        if lines:
            try:
                self.stats = json.loads(lines[-1])
            except ValueError as e:
                print(f"cannot parse {name}'s JSON line: {e}")

    def dump(self, work):
        """Print what the tool said, for a failing test."""
        print(f"---- {self.name} stderr ----")
        print(self.proc.stderr.rstrip())
        print(f"---- {self.name} stdout (JSON) ----")
        print(self.proc.stdout.rstrip())
        print(f"---- files kept in {work} ----")

    def ok(self, out_files, work):
        """Exit status 0, a JSON line of counters, every tx_pcap written; dumps diagnostics when not."""
        good = check(self.proc.returncode == 0, f"{self.name} exit code 0 (got {self.proc.returncode})")
        good = check(self.stats is not None, f"{self.name} printed a JSON line of counters") and good
        for f in out_files:
            good = good and check(os.path.exists(f), f"tx_pcap {f} was written")
        if not good:
            self.dump(work)
        return good


def run_tool(name, cmd, log_path, script):
    """Run @p cmd (a tern tool that exits on --exit-idle-ms), keep its stderr in @p log_path."""
    print("running: " + " ".join(cmd))
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, text=True)
    except subprocess.TimeoutExpired as e:
        print(f"{script}: FAIL: {name} did not exit within 120 s")
        print("stderr:\n" + (e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")))
        sys.exit(1)
    with open(log_path, "w") as f:
        f.write(proc.stderr)
    print(f"{name} exited with {proc.returncode} after {time.monotonic() - t0:.1f} s")
    return ToolRun(name, proc)
