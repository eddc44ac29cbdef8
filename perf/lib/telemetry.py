#!/usr/bin/env python3
"""Read a DPDK process's ethdev counters through its telemetry socket.

  telemetry.py PREFIX PORT        -> one JSON line: /ethdev/stats of PORT

PREFIX is the process's --file-prefix; the socket is
/var/run/dpdk/PREFIX/dpdk_telemetry.v2 (DPDK's telemetry v2 protocol: the
server sends an info object on connect, then answers one command per
message). Both tern and DPDK's examples expose the same counters this way,
so the benchmark reads both sides with the same code.
"""
import json
import socket
import sys


def query(prefix: str, cmd: str) -> dict:
    path = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(2.0)
        s.connect(path)
        info = json.loads(s.recv(16384).decode())
        s.send(cmd.encode())
        reply = json.loads(s.recv(int(info.get("max_output_len", 16384))).decode())
    return reply


def ethdev_stats(prefix: str, port: int) -> dict:
    r = query(prefix, f"/ethdev/stats,{port}")
    return r.get("/ethdev/stats", {})


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: telemetry.py FILE_PREFIX PORT", file=sys.stderr)
        sys.exit(2)
    print(json.dumps(ethdev_stats(sys.argv[1], int(sys.argv[2]))))
