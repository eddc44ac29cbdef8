#!/usr/bin/python3
"""Counter checks for integration-tap_kernel_peer.

usage: tap_check_counters.py STDOUT_FILE

Reads the JSON line tern-echo printed at exit (layout: Core::write_json and
Stack::stats_json) and checks: mbufs_leaked == 0, udp rx >= 1001 (1,000 echoes and the
60,000-byte datagram), icmp echo_requests >= 25 (20 + 5 pings), and that the garbage
left IPv4 drops (sum of ipv4.drops > 0). Prints the counters that matter either way.
"""
import json
import sys


def main():
    text = open(sys.argv[1]).read()
    lines = [l for l in text.splitlines() if l.startswith("{")]
    if not lines:
        print("  FAIL  tern-echo printed no JSON line of counters")
        return 1
    try:
        d = json.loads(lines[-1])
    except ValueError as e:
        print(f"  FAIL  the JSON line does not parse: {e}")
        return 1
    failures = 0

    def check(ok, what):
        nonlocal failures
        print(("  ok    " if ok else "  FAIL  ") + what)
        failures += not ok

    c = sum_cores(d)
    nz = lambda m: ", ".join(f"{k} {v}" for k, v in sorted(m.items()) if v) or "none"  # noqa: E731
    print(f"  counters: frames rx {c['rx']} | l2 drops: {nz(c['l2_drops'])}")
    print(f"            ipv4 rx {c['ipv4_rx']} delivered {c['ipv4_delivered']} reassembled {c['reassembled']} "
          f"fragmented {c['fragmented']} | ipv4 drops: {nz(c['ipv4_drops'])}")
    print(f"            icmp echo_requests {c['echo_requests']} unreachable_out {c['unreach_out']} | "
          f"udp rx {c['udp_rx']} tx {c['udp_tx']} | udp drops: {nz(c['udp_drops'])}")
    check(d.get("mbufs_leaked") == 0, f"mbufs_leaked = {d.get('mbufs_leaked')}")
    check(c["udp_rx"] >= 1001, f"udp rx = {c['udp_rx']} >= 1001")
    check(c["echo_requests"] >= 25, f"icmp echo_requests = {c['echo_requests']} >= 25")
    s = sum(c["ipv4_drops"].values())
    check(s > 0, f"ipv4 drops (garbage) = {s} > 0")
    check(c["reassembled"] >= 1, f"ipv4 reassembled = {c['reassembled']} >= 1 (the 60,000-byte datagram)")
    return 1 if failures else 0


def sum_cores(d):
    out = {"rx": 0, "ipv4_rx": 0, "ipv4_delivered": 0, "reassembled": 0, "fragmented": 0, "echo_requests": 0,
           "unreach_out": 0, "udp_rx": 0, "udp_tx": 0, "l2_drops": {}, "ipv4_drops": {}, "udp_drops": {}}

    def add(dst, src):
        for k, v in src.items():
            dst[k] = dst.get(k, 0) + v

    for core in d["cores"]:
        out["rx"] += core["rx"]
        out["ipv4_rx"] += core["ipv4"]["rx"]
        out["ipv4_delivered"] += core["ipv4"]["delivered"]
        out["reassembled"] += core["ipv4"]["reassembled"]
        out["fragmented"] += core["ipv4"]["fragmented"]
        out["echo_requests"] += core["icmp"]["echo_requests"]
        out["unreach_out"] += core["icmp"]["unreachable_out"]
        out["udp_rx"] += core["udp"]["rx"]
        out["udp_tx"] += core["udp"]["tx"]
        for i in core["interfaces"]:
            add(out["l2_drops"], i["drops"])
        add(out["ipv4_drops"], core["ipv4"]["drops"])
        add(out["udp_drops"], core["udp"]["drops"])
    return out


if __name__ == "__main__":
    sys.exit(main())
