#!/usr/bin/python3
"""Kernel-side helpers of tap_tcp_modern.sh (issue 12): TCP Fast Open both ways, ECN marks on
the wire, and tern-echo's counters. Runs inside the test's namespace under /usr/bin/python3.

  tfo_client TERN_IP PORT CONNS SIZE      CONNS kernel connections, each sending SIZE bytes with
                                          MSG_FASTOPEN (data on the SYN once the kernel holds a
                                          cookie) and reading the echo back byte-exact
  tfo_server PORT RESULTS                 a kernel echo server whose listener has TCP_FASTOPEN;
                                          on SIGTERM writes {"conns", "bytes"} to RESULTS
  ecn_marks PCAP SRC MIN                  at least MIN data frames from SRC carry ECT(0) or ECT(1)
                                          in the IPv4 ECN field, and no pure ACK does (RFC 3168 §6.1.4)
  counters STDOUT NAME>=N ...             tern-echo's JSON counters (server or client mode)
"""
import json
import os
import signal
import socket
import struct
import sys
import threading

TCP_FASTOPEN = getattr(socket, "TCP_FASTOPEN", 23)
MSG_FASTOPEN = getattr(socket, "MSG_FASTOPEN", 0x20000000)


def say(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what)
    return 0 if ok else 1


def recv_exact(s, n):
    got = bytearray()
    while len(got) < n:
        b = s.recv(min(65536, n - len(got)))
        if not b:
            break
        got += b
    return bytes(got)


def cmd_tfo_client(tern_ip, port, conns, size):
    conns, size, port = int(conns), int(size), int(port)
    failures = 0
    good = 0
    for i in range(conns):
        msg = os.urandom(size)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            # The kernel puts the data on the SYN when it holds a cookie for tern (tcp_fastopen & 1);
            # the first connection only asks for one. A blocking socket: with a timeout Python makes
            # it non-blocking and a cookie-less MSG_FASTOPEN connect returns EINPROGRESS.
            n = s.sendto(msg, MSG_FASTOPEN, (tern_ip, port))
            s.settimeout(5)
            if n < len(msg):
                s.sendall(msg[n:])
            back = recv_exact(s, len(msg))
            if back == msg:
                good += 1
            else:
                failures += 1
                print(f"  connection {i}: echo of {len(back)} bytes differs from the {len(msg)} sent")
        except OSError as e:
            failures += 1
            print(f"  connection {i}: {e}")
        finally:
            s.close()
    return say(failures == 0 and good == conns, f"{good} of {conns} Fast Open connections echoed {size} bytes byte-exact")


def cmd_tfo_server(port, results):
    port = int(port)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN, 64)  # Fast Open server, 64 pending at most
    ls.bind(("0.0.0.0", port))
    ls.listen(256)
    stats = {"conns": 0, "bytes": 0}
    lock = threading.Lock()
    done = threading.Event()

    def serve(c):
        n = 0
        try:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                c.sendall(b)
                n += len(b)
        except OSError:
            pass
        finally:
            c.close()
            with lock:
                stats["conns"] += 1
                stats["bytes"] += n

    def stop(*_):
        done.set()
        try:
            ls.close()
        except OSError:
            pass

    signal.signal(signal.SIGTERM, stop)
    while not done.is_set():
        try:
            c, _ = ls.accept()
        except OSError:
            break
        threading.Thread(target=serve, args=(c,), daemon=True).start()
    with lock:
        with open(results, "w") as f:
            json.dump(stats, f)
    return 0


def frames(path):
    """(ip bytes) of each Ethernet/IPv4 frame in a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        pkt = data[off:off + incl]
        off += incl
        if len(pkt) >= 34 and pkt[12:14] == b"\x08\x00":
            yield pkt[14:]


def cmd_ecn_marks(pcap, src, minimum):
    src_b = socket.inet_aton(src)
    data_ect = data_not = acks_ect = 0
    for ip in frames(pcap):
        if ip[9] != 6 or ip[12:16] != src_b:
            continue
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        thl = (ip[ihl + 12] >> 4) * 4
        flags = ip[ihl + 13]
        payload = tot - ihl - thl
        ect = ip[1] & 3 in (1, 2)
        if flags & 0x02:  # SYN segments are never ECT (RFC 3168 §6.1.1)
            continue
        if payload > 0:
            if ect:
                data_ect += 1
            else:
                data_not += 1
        elif ect:
            acks_ect += 1
    failures = say(data_ect >= int(minimum), f"{data_ect} data frames from {src} carry ECT (>= {minimum}); "
                   f"{data_not} without (retransmissions)")
    failures += say(acks_ect == 0, f"pure ACKs from {src} marked ECT: {acks_ect} (RFC 3168 §6.1.4: none)")
    return 1 if failures else 0


def cmd_counters(stdout_file, *reqs):
    lines = [l for l in open(stdout_file).read().splitlines() if l.startswith("{")]
    if not lines:
        return say(False, "tern-echo printed no JSON line of counters")
    d = json.loads(lines[-1])
    stack = d.get("stack", d)  # client mode nests the stack's counters
    tcp = {}
    for core in stack["cores"]:
        for k, v in core["tcp"].items():
            if isinstance(v, int):
                tcp[k] = tcp.get(k, 0) + v
    failures = say(d.get("mbufs_leaked") == 0, f"mbufs_leaked = {d.get('mbufs_leaked')}")
    for req in reqs:
        name, n = req.split(">=")
        failures += say(tcp.get(name, 0) >= int(n), f"tcp {name} = {tcp.get(name, 0)} >= {n}")
    return 1 if failures else 0


def main():
    cmds = {"tfo_client": cmd_tfo_client, "tfo_server": cmd_tfo_server, "ecn_marks": cmd_ecn_marks,
            "counters": cmd_counters}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__)
        return 2
    return cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
