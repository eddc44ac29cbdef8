#!/usr/bin/env python3
"""Write the l3fwd benchmark's input: N UDP flows in one pcap, one frame per flow.

Frames go from 02:00:00:00:00:01 to the router's MAC (--dst-mac), source
198.19.X.Y (one per flow), destination 198.18.0.Z (routed to port 0 by both
DPDK l3fwd's default table and the --route tern-l3fwd is given), UDP 1024+i -> 9.
--frame-size counts the Ethernet frame without its 4-byte FCS (60 = a 64-byte
frame on the wire). Checksums are valid, TTL 64. Standard library only.
"""
import argparse
import struct
import sys


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


SYMMETRIC_KEY = bytes([0x6D, 0x5A] * 20)


def toeplitz(key: bytes, data: bytes) -> int:
    """The RSS Toeplitz hash (Microsoft RSS spec), as tern's FlowSteering computes it."""
    k = int.from_bytes(key, "big")
    kbits = len(key) * 8
    h = 0
    for i, byte in enumerate(data):
        for b in range(8):
            if byte & (0x80 >> b):
                pos = i * 8 + b
                h ^= (k >> (kbits - 32 - pos)) & 0xFFFFFFFF
    return h


def owner(src_ip: bytes, dst_ip: bytes, sport: int, dport: int, cores: int) -> int:
    """The core tern's software steering (symmetric key, RETA of 128 round robin) gives the flow."""
    h = toeplitz(SYMMETRIC_KEY, src_ip + dst_ip + struct.pack("!HH", sport, dport))
    return (h % 128) % cores


def addrs(i: int, dst: bytes):
    src_ip = bytes([198, 19, (i >> 8) & 0xFF, i & 0xFF])
    dst_ip = dst if dst else bytes([198, 18, 0, 1 + i % 250])
    return src_ip, dst_ip


def frame(i: int, size: int, dst_mac: bytes, dst: bytes = b"", dport: int = 9) -> bytes:
    src_ip, dst_ip = addrs(i, dst)
    ip_len = size - 14
    payload = bytes((i + k) & 0xFF for k in range(ip_len - 28))
    udp_len = 8 + len(payload)
    sport = 1024 + (i % 60000)
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    uc = csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", uc) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, i & 0xFFFF, 0, 64, 17, 0, src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = dst_mac + bytes([2, 0, 0, 0, 0, 1]) + b"\x08\x00"
    return eth + ip + udp


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--flows", type=int, default=1024)
    ap.add_argument("--frame-size", type=int, default=60, help="Ethernet frame bytes without FCS (60..1514)")
    ap.add_argument("--dst-mac", default="02:00:00:00:00:10")
    ap.add_argument("--dst-ip", default="", help="one destination address for every flow (default 198.18.0.1-250)")
    ap.add_argument("--dport", type=int, default=9)
    ap.add_argument("--queue", type=int, default=-1,
                    help="keep only flows tern's steering gives core QUEUE of --queues (as an RSS NIC would "
                         "deliver them to that queue)")
    ap.add_argument("--queues", type=int, default=1)
    a = ap.parse_args()
    if not 60 <= a.frame_size <= 1514 or not 1 <= a.flows <= 65535:
        print("gen_pcap: --frame-size must be 60..1514 and --flows 1..65535", file=sys.stderr)
        return 2
    dst = bytes(int(x, 16) for x in a.dst_mac.split(":"))
    dst_ip = bytes(int(x) for x in a.dst_ip.split(".")) if a.dst_ip else b""
    with open(a.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        kept = 0
        i = 0
        while kept < a.flows and i < 65536 * 4:
            src_ip, d_ip = addrs(i, dst_ip)
            if a.queue < 0 or owner(src_ip, d_ip, 1024 + (i % 60000), a.dport, a.queues) == a.queue:
                fr = frame(i, a.frame_size, dst, dst_ip, a.dport)
                f.write(struct.pack("<IIII", 0, kept, len(fr), len(fr)) + fr)
                kept += 1
            i += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
