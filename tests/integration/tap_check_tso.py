#!/usr/bin/python3
"""Checks the TCP frames tern sent through net_tap's TSO (issue 11).

usage: tap_check_tso.py PCAP TERN_MAC MTU MIN_FULL

PCAP is tcpdump's capture on the kernel side of the tap, whole frames (-s 0), of frames
whose Ethernet source is tern: the segments the tap PMD cut from tern's super-segments.
Every TCP/IPv4 frame must fit the MTU and carry valid IPv4 and TCP checksums; at least
MIN_FULL of them must be data segments of the most common size (the piece size tern asked
the PMD for: the MSS, less 14 bytes through net_tap, see docs/offloads.md), so the
super-segments really were cut into MSS-sized frames.
"""
import collections
import sys

from scapy.all import IP, TCP, Ether, PcapReader, raw


def tcp_checksum_ok(ip):
    seg = raw(ip[TCP])
    pseudo = bytes(map(int, ip.src.split("."))) + bytes(map(int, ip.dst.split("."))) + \
        bytes([0, 6]) + len(seg).to_bytes(2, "big")
    data = pseudo + seg
    if len(data) % 2:
        data += b"\0"
    s = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s == 0xffff


def ip_checksum_ok(ip):
    h = raw(ip)[:ip.ihl * 4]
    s = sum(int.from_bytes(h[i:i + 2], "big") for i in range(0, len(h), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s == 0xffff


def main():
    pcap, mac, mtu, min_full = sys.argv[1], sys.argv[2].lower(), int(sys.argv[3]), int(sys.argv[4])
    sizes = collections.Counter()
    bad = 0
    frames = 0
    for p in PcapReader(pcap):
        if Ether not in p or p[Ether].src.lower() != mac or IP not in p or TCP not in p:
            continue
        frames += 1
        ip = p[IP]
        payload = ip.len - ip.ihl * 4 - ip[TCP].dataofs * 4
        if ip.len > mtu:
            bad += 1
            print(f"FAIL: a frame of {ip.len} IPv4 bytes, over the MTU {mtu}")
        if not ip_checksum_ok(ip):
            bad += 1
            print(f"FAIL: IPv4 header checksum wrong (id {ip.id})")
        if not tcp_checksum_ok(ip):
            bad += 1
            print(f"FAIL: TCP checksum wrong (seq {ip[TCP].seq}, {payload} bytes)")
        if payload > 0:
            sizes[payload] += 1
        if bad > 10:
            break
    if not sizes:
        print(f"FAIL: no TCP data frames from {mac} in the capture ({frames} TCP frames)")
        return 1
    largest, full = sizes.most_common(1)[0]  # the piece size of the super-segments
    print(f"  {frames} TCP frames from tern; data segments by size (top 3): "
          + ", ".join(f"{n} x {s} B" for s, n in sizes.most_common(3)))
    if full < min_full:
        print(f"FAIL: only {full} segments of the most common size ({largest} B), want >= {min_full}")
        bad += 1
    else:
        print(f"ok: {full} MSS-sized ({largest} B) segments, every frame within the MTU with valid checksums")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
