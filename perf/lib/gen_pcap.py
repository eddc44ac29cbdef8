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


def frame(i: int, size: int, dst_mac: bytes) -> bytes:
    src_ip = bytes([198, 19, (i >> 8) & 0xFF, i & 0xFF])
    dst_ip = bytes([198, 18, 0, 1 + i % 250])
    ip_len = size - 14
    payload = bytes((i + k) & 0xFF for k in range(ip_len - 28))
    udp_len = 8 + len(payload)
    sport, dport = 1024 + i, 9
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
    a = ap.parse_args()
    if not 60 <= a.frame_size <= 1514 or not 1 <= a.flows <= 65535:
        print("gen_pcap: --frame-size must be 60..1514 and --flows 1..65535", file=sys.stderr)
        return 2
    dst = bytes(int(x, 16) for x in a.dst_mac.split(":"))
    with open(a.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(a.flows):
            fr = frame(i, a.frame_size, dst)
            f.write(struct.pack("<IIII", 0, i, len(fr), len(fr)) + fr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
