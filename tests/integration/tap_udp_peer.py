#!/usr/bin/python3
"""Kernel UDP peer for integration-tap_kernel_peer (run inside the test's namespace).

usage: tap_udp_peer.py TERN_IP COUNT SEED

1. COUNT datagrams of random sizes 1..1472 to TERN_IP:7, one at a time: send, wait for
   the echo (3 s), compare byte for byte. Any timeout or mismatch is a failure.
2. One 60,000-byte datagram (the kernel fragments it; tern reassembles, echoes, and
   fragments the echo): it must come back whole and equal.
3. A datagram to closed port 9999 on a connected socket: the ICMP port unreachable tern
   sends must surface as ConnectionRefusedError.
Exit status 0 when everything passed.
"""
import hashlib
import random
import socket
import sys
import time

TIMEOUT_S = 3.0


def main():
    tern_ip, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    failures = 0

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT_S)
    s.connect((tern_ip, 7))
    timeouts = mismatches = 0
    sizes = []
    t0 = time.monotonic()
    for n in range(count):
        size = rng.randint(1, 1472)
        data = rng.randbytes(size)
        sizes.append(size)
        s.send(data)
        try:
            back = s.recv(65535)
        except socket.timeout:
            timeouts += 1
            print(f"  datagram #{n} ({size} bytes): no echo within {TIMEOUT_S} s")
            continue
        if back != data:
            mismatches += 1
            print(f"  datagram #{n}: sent {size} bytes, got {len(back)} bytes"
                  f"{' (same length, different bytes)' if len(back) == size else ''}")
    dt = time.monotonic() - t0
    ok = timeouts == 0 and mismatches == 0
    print(f"  {'ok  ' if ok else 'FAIL'}  UDP echo: {count} datagrams of {min(sizes)}..{max(sizes)} bytes "
          f"(seed {seed}, {sum(sizes)} bytes) in {dt:.1f} s: {count - timeouts - mismatches} byte-exact, "
          f"{mismatches} mismatched, {timeouts} timed out")
    failures += not ok
    s.close()

    big = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    big.settimeout(10)
    big.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    big.connect((tern_ip, 7))
    data = rng.randbytes(60000)
    big.send(data)
    try:
        back = big.recv(65535)
        ok = back == data
        print(f"  {'ok  ' if ok else 'FAIL'}  60000-byte datagram (fragmented by the kernel): got {len(back)} bytes "
              f"back, sha256 sent {hashlib.sha256(data).hexdigest()[:16]} got {hashlib.sha256(back).hexdigest()[:16]}")
    except socket.timeout:
        ok = False
        print("  FAIL  60000-byte datagram (fragmented by the kernel): no echo within 10 s")
    failures += not ok
    big.close()

    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(TIMEOUT_S)
    c.connect((tern_ip, 9999))
    c.send(b"is anyone listening on 9999?")
    try:
        got = c.recv(100)
        ok, what = False, f"an answer ({got!r})"
    except ConnectionRefusedError:
        ok, what = True, "ConnectionRefusedError (ICMP port unreachable)"
    except socket.timeout:
        ok, what = False, f"nothing within {TIMEOUT_S} s (no ICMP port unreachable)"
    print(f"  {'ok  ' if ok else 'FAIL'}  datagram to closed port 9999 on a connected socket: {what}")
    failures += not ok
    c.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
