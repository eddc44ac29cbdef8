#!/usr/bin/python3
"""Checks every frame tern sent during integration-tap_kernel_peer.

usage: tap_check_wire.py PCAP TERN_MAC [MIN_FRAMES]  (fails with fewer frames: default 1)

PCAP is tcpdump's capture on the kernel side of the tap, filtered to frames whose
Ethernet source is tern (so after the tap PMD applied any checksum offload: these are
the bytes the kernel received). Garbage must never make tern emit a malformed frame or
talk to a non-unicast address. Checked for every frame:
  Ethernet source is tern; ethertype ARP or IPv4;
  ARP: Ethernet/IPv4, 6/4, op request or reply, sender tern's MAC and 198.18.0.2;
  IPv4: version 4, IHL >= 5, header checksum valid, total length fits, TTL > 0,
        source 198.18.0.2, destination a unicast address (RFC 1122 §3.2.2, §3.2.1.3);
  ICMP (unfragmented): checksum valid; an error never quotes an ICMP error;
  UDP (unfragmented): length consistent, checksum valid and non-zero.
Prints a tally of what tern sent.
"""
import collections
import ipaddress
import struct
import sys

from scapy.all import PcapReader

TERN_IP = "198.18.0.2"
ICMP_ERRORS = {3, 4, 5, 11, 12}
# PRODUCT BUG (found by this test): tern accepts datagrams whose source is the subnet's
# directed broadcast (198.18.0.255), 0.0.0.0 or 127/8 and answers them - echo replies,
# UDP echoes and ICMP errors to 198.18.0.255 (in Ethernet broadcast), and, with a default
# route, to 0.0.0.0 and 127.0.0.1 via the gateway. lib/l3 Ipv4::validate() only rejects
# 255.255.255.255 and multicast sources; Icmp::send_error() does not check the directed
# broadcast. RFC 1122 §3.2.1.3 (silently discard), §3.2.2 and §4.1.3.6 (never answer).
INVALID_SOURCE_NOTE = (" [tern answered a datagram from an invalid source address; RFC 1122 §3.2.1.3: discard it, "
                       "§3.2.2/§4.1.3.6: never answer it]")


def csum16(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def describe(b: bytes) -> str:
    """A short text for one frame: what it is and where it goes."""
    if len(b) >= 42 and b[12:14] == b"\x08\x06":
        return f"ARP op {b[21]} for {ipaddress.IPv4Address(b[38:42])}"
    if len(b) >= 34 and b[12:14] == b"\x08\x00":
        ihl = (b[14] & 0x0F) * 4
        p, dst = b[23], ipaddress.IPv4Address(b[30:34])
        l4 = b[14 + ihl:]
        what = {1: "ICMP", 17: "UDP"}.get(p, f"protocol {p}")
        if p == 1 and len(l4) >= 2:
            what += f" type {l4[0]} code {l4[1]}"
        elif p == 17 and len(l4) >= 4:
            what += " %d->%d" % struct.unpack("!HH", l4[:4])
        return f"{what} to {dst} (eth dst {b[:6].hex(':')})"
    return f"{len(b)} bytes: {b[:32].hex()}"


def check_frame(b: bytes, tern_mac: bytes, tally):
    """Returns a list of problems with one frame tern sent."""
    bad = []
    if len(b) < 14:
        return ["shorter than an Ethernet header"]
    if b[6:12] != tern_mac:
        bad.append("Ethernet source is not tern")
    et = struct.unpack("!H", b[12:14])[0]
    body = b[14:]
    if et == 0x0806:
        if len(body) < 28:
            return bad + ["ARP shorter than 28 bytes"]
        htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", body[:8])
        if (htype, ptype, hlen, plen) != (1, 0x0800, 6, 4) or op not in (1, 2):
            bad.append(f"ARP header {htype}/{ptype:#x}/{hlen}/{plen} op {op}")
        if body[8:14] != tern_mac or body[14:18] != ipaddress.IPv4Address(TERN_IP).packed:
            bad.append("ARP sender is not tern")
        tpa = ipaddress.IPv4Address(body[24:28])
        tally["ARP " + ("request" if op == 1 else "reply") + (" (gratuitous)" if str(tpa) == TERN_IP else "")] += 1
        return bad
    if et != 0x0800:
        return bad + [f"ethertype {et:#06x}"]
    if len(body) < 20:
        return bad + ["IPv4 shorter than 20 bytes"]
    ver, ihl = body[0] >> 4, (body[0] & 0x0F) * 4
    tot = struct.unpack("!H", body[2:4])[0]
    if ver != 4 or ihl < 20 or ihl > len(body):
        return bad + [f"IPv4 version {ver} IHL {ihl}"]
    if tot < ihl or tot > len(body):
        return bad + [f"IPv4 total length {tot} (frame carries {len(body)})"]
    if csum16(body[:ihl]) != 0xFFFF:
        bad.append("IPv4 header checksum")
    ttl, proto = body[8], body[9]
    src, dst = ipaddress.IPv4Address(body[12:16]), ipaddress.IPv4Address(body[16:20])
    if ttl == 0:
        bad.append("TTL 0")
    if str(src) != TERN_IP:
        bad.append(f"IPv4 source {src}")
    if (dst.is_multicast or dst.is_loopback or dst.is_unspecified or dst == ipaddress.IPv4Address("255.255.255.255")
            or str(dst) == "198.18.0.255" or dst in ipaddress.IPv4Network("0.0.0.0/8")):
        bad.append(f"sent to {dst}, which is not a unicast host" + INVALID_SOURCE_NOTE)
    frag = struct.unpack("!H", body[6:8])[0]
    ip = body[:tot]
    l4 = ip[ihl:]
    if frag & 0x3FFF:
        tally["IPv4 fragment"] += 1
        return bad
    if proto == 1:
        if len(l4) < 8:
            return bad + ["ICMP shorter than 8 bytes"]
        if csum16(l4) != 0xFFFF:
            bad.append("ICMP checksum")
        typ, code = l4[0], l4[1]
        tally[f"ICMP type {typ} code {code}"] += 1
        if typ in ICMP_ERRORS:
            q = l4[8:]
            if len(q) >= 20 and q[9] == 1:
                qihl = (q[0] & 0x0F) * 4
                if len(q) > qihl and q[qihl] in ICMP_ERRORS:
                    bad.append("an ICMP error about an ICMP error")
    elif proto == 17:
        if len(l4) < 8:
            return bad + ["UDP shorter than 8 bytes"]
        ulen, uc = struct.unpack("!HH", l4[4:8])
        if ulen != len(l4):
            bad.append(f"UDP length {ulen}, IPv4 payload {len(l4)}")
        pseudo = body[12:20] + struct.pack("!BBH", 0, 17, len(l4))
        if uc == 0 or csum16(pseudo + l4) != 0xFFFF:
            bad.append(f"UDP checksum {uc:#06x}")
        tally["UDP from port %d" % struct.unpack("!H", l4[:2])[0]] += 1
    else:
        tally[f"IPv4 protocol {proto}"] += 1
    return bad


def main():
    path, tern_mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
    min_frames = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    tally = collections.Counter()
    problems = []
    n = 0
    note = False
    for pkt in PcapReader(path):
        b = bytes(pkt)
        n += 1
        for p in check_frame(b, tern_mac, tally):
            problems.append((n, p.replace(INVALID_SOURCE_NOTE, ""), b))
            note = note or INVALID_SOURCE_NOTE in p
    print(f"  tern sent {n} frames: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
    if n < min_frames:
        print(f"  FAIL  the capture holds {n} frames from tern, fewer than the {min_frames} the test made it send "
              "(a wrong capture filter checks nothing)")
        return 1
    if problems:
        print(f"  FAIL  {len(problems)} problem(s) in frames tern sent:")
        for i, p, b in problems[:20]:
            print(f"        frame {i}: {describe(b)}: {p}")
        if note:
            print("        PRODUCT BUG:" + INVALID_SOURCE_NOTE)
        return 1
    print("  ok    every frame tern sent is well-formed (ARP fields; IPv4 header, checksum, TTL, addresses; "
          "ICMP and UDP checksums)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
