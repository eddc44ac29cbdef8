#!/usr/bin/python3
"""Garbage frame generator for integration-tap_kernel_peer (run inside the test's namespace).

usage: tap_garbage.py IFACE TERN_MAC PEER_MAC COUNT SEED

Sends COUNT malformed or hostile frames with scapy's sendp() on IFACE (the kernel side of
tern's tap, so every frame reaches tern): random bytes, truncated Ethernet/IPv4/UDP/ARP/ICMP
headers, bad version, bad IHL, bad checksums, bad and oversize lengths, bad IPv4 options,
TTL 0, bogus sources, unknown protocols, ICMP errors quoting junk, random fragments.
The first 20 are well-formed datagrams from invalid source addresses (directed and limited
broadcast, multicast, 0.0.0.0, loopback), which tern must ignore.

It never sends a well-formed ARP message that would legitimately re-point tern's entry for
the peer 198.18.0.1 (sender 198.18.0.1 always comes with the peer's real MAC): that is an
update RFC 826 tells tern to accept, not garbage. Likewise no ICMP "fragmentation needed"
about the peer. Prints how many frames of each kind it sent.
"""
import collections
import ipaddress
import random
import struct
import sys

from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw, conf, sendp

TERN_IP = "198.18.0.2"
PEER_IP = "198.18.0.1"
# Source addresses that do not name one host (RFC 1122 §3.2.1.3): datagrams from them
# must be discarded, never answered (no echo, no ICMP error: RFC 1122 §3.2.2, §4.1.3.6).
INVALID_SOURCES = ["198.18.0.255", "255.255.255.255", "224.0.0.1", "0.0.0.0", "127.0.0.1"]


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def fix_ip_csum(b: bytearray, off: int = 14) -> bytearray:
    ihl = max((b[off] & 0x0F) * 4, 20)
    if len(b) < off + ihl:
        return b
    b[off + 10:off + 12] = b"\0\0"
    b[off + 10:off + 12] = struct.pack("!H", csum(bytes(b[off:off + ihl])))
    return b


class Gen:
    def __init__(self, tern_mac, peer_mac, rng):
        self.tern_mac, self.peer_mac, self.r = tern_mac, peer_mac, rng

    def mac(self):
        return ":".join(f"{b:02x}" for b in [self.r.choice([0x02, 0x06, 0x0A])] + [self.r.getrandbits(8) for _ in range(5)])

    def eth_dst(self):
        x = self.r.random()
        return self.tern_mac if x < 0.8 else ("ff:ff:ff:ff:ff:ff" if x < 0.9 else self.mac())

    def src_ip(self):
        x = self.r.random()
        if x < 0.6:
            return f"198.18.0.{self.r.randint(3, 254)}"
        if x < 0.7:
            return PEER_IP
        if x < 0.8:
            return self.r.choice(["255.255.255.255", "224.0.0.1", "0.0.0.0", "127.0.0.1", "198.18.0.255"])
        return str(ipaddress.IPv4Address(self.r.getrandbits(32)))

    def dst_ip(self):
        x = self.r.random()
        return TERN_IP if x < 0.85 else ("198.18.0.255" if x < 0.9 else str(ipaddress.IPv4Address(self.r.getrandbits(32))))

    def payload(self, lo=0, hi=200):
        return self.r.randbytes(self.r.randint(lo, hi))

    def base_ip(self):
        """A well-formed IPv4 frame (UDP, ICMP or a random protocol) to damage."""
        x = self.r.random()
        ip = IP(src=self.src_ip(), dst=self.dst_ip(), ttl=self.r.randint(1, 255), id=self.r.getrandbits(16))
        if x < 0.5:
            l4 = UDP(sport=self.r.getrandbits(16), dport=self.r.choice([7, 7, 9, 53, self.r.getrandbits(16)])) / Raw(self.payload())
        elif x < 0.8:
            l4 = ICMP(type=self.r.choice([0, 3, 5, 8, 8, 11, 12, 13, 42]), code=self.r.randint(0, 15)) / Raw(self.payload())
        else:
            ip.proto = self.r.choice([2, 6, 47, 50, 89, 132, 253, 255])
            l4 = Raw(self.payload())
        return bytearray(bytes(Ether(dst=self.eth_dst(), src=self.mac()) / ip / l4))

    def invalid_sources(self):
        """Well-formed datagrams from every invalid source: UDP echo, ICMP echo, a closed
        UDP port, an unknown protocol. Sent first, always, so that a reply to any of them
        shows up deterministically in tap_check_wire.py."""
        out = []
        for src in INVALID_SOURCES:
            e = Ether(dst=self.tern_mac, src=self.mac())
            out.append(bytearray(bytes(e / IP(src=src, dst=TERN_IP) / UDP(sport=1234, dport=7) / Raw(b"echo me"))))
            out.append(bytearray(bytes(e / IP(src=src, dst=TERN_IP) / ICMP(type=8, id=1, seq=1) / Raw(b"ping"))))
            out.append(bytearray(bytes(e / IP(src=src, dst=TERN_IP) / UDP(sport=1234, dport=9) / Raw(b"closed"))))
            out.append(bytearray(bytes(e / IP(src=src, dst=TERN_IP, proto=253) / Raw(b"unknown protocol"))))
        return out

    # ---- kinds of garbage ------------------------------------------------------
    def random_bytes(self):
        b = bytearray(self.r.randbytes(self.r.randint(1, 1514)))
        if len(b) >= 6 and self.r.random() < 0.5:
            b[0:6] = bytes.fromhex(self.tern_mac.replace(":", ""))
        if len(b) >= 14 and self.r.random() < 0.5:
            b[12:14] = self.r.choice([b"\x08\x00", b"\x08\x06", b"\x81\x00", b"\x86\xdd"])
        if len(b) >= 14 and b[12:14] == b"\x08\x06" and len(b) >= 14 + 18:
            b[14 + 14:14 + 18] = bytes([198, 18, 0, 200])  # never speak for the peer
        return b

    def truncated_ethernet(self):
        return bytearray(self.base_ip()[: self.r.randint(1, 13)])

    def truncated_l3l4(self):
        b = self.base_ip()
        return b[: self.r.randint(14, max(14, len(b) - 1))]

    def bad_version(self):
        b = self.base_ip()
        b[14] = (self.r.choice([0, 1, 5, 6, 7, 15]) << 4) | (b[14] & 0x0F)
        return fix_ip_csum(b)

    def bad_ihl(self):
        b = self.base_ip()
        b[14] = 0x40 | self.r.choice([0, 1, 2, 3, 4, 6, 9, 15])
        if self.r.random() < 0.5:
            b = b[: 14 + self.r.randint(20, 40)]
        return fix_ip_csum(b)

    def bad_ip_checksum(self):
        b = self.base_ip()
        b[24] ^= 1 + self.r.getrandbits(7)
        return b

    def bad_total_length(self):
        b = self.base_ip()
        b[16:18] = struct.pack("!H", self.r.choice([0, 1, 19, len(b) - 14 + 1, len(b) - 14 + 500, 65535]))
        return fix_ip_csum(b)

    def bad_options(self):
        b = self.base_ip()
        opts = self.r.choice([b"\x07\x00\x00\x00", b"\x44\x01\x00\x00", b"\x83\x40\x00\x00", b"\x01\x01\x01\x88",
                              self.r.randbytes(4), self.r.randbytes(8), self.r.randbytes(40)])
        ihl = 5 + len(opts) // 4
        b = b[:14] + bytearray([0x40 | ihl]) + b[15:34] + bytearray(opts) + b[34:]
        b[16:18] = struct.pack("!H", len(b) - 14)
        return fix_ip_csum(b)

    def ttl_zero(self):
        b = self.base_ip()
        b[22] = 0
        return fix_ip_csum(b)

    def bad_udp(self):
        ip = IP(src=self.src_ip(), dst=TERN_IP, id=self.r.getrandbits(16))
        b = bytearray(bytes(Ether(dst=self.tern_mac, src=self.mac()) / ip /
                            UDP(sport=self.r.getrandbits(16), dport=self.r.choice([7, 9, 9999])) / Raw(self.payload())))
        x = self.r.random()
        if x < 0.4:
            b[40] ^= 1 + self.r.getrandbits(7)  # checksum
        elif x < 0.8:
            b[38:40] = struct.pack("!H", self.r.choice([0, 1, 7, len(b) - 34 + 1, 65535]))
        else:
            b = b[: 34 + self.r.randint(0, 7)]  # header cut short (IPv4 length follows)
            b[16:18] = struct.pack("!H", len(b) - 14)
            fix_ip_csum(b)
        return b

    def bad_icmp(self):
        x = self.r.random()
        ip = IP(src=self.src_ip(), dst=TERN_IP)
        if x < 0.3:  # echo request with a wrong checksum
            b = bytearray(bytes(Ether(dst=self.tern_mac, src=self.mac()) / ip / ICMP(type=8) / Raw(self.payload())))
            b[36] ^= 0x55
            return b
        if x < 0.5:  # ICMP shorter than its 8-byte header
            b = bytearray(bytes(Ether(dst=self.tern_mac, src=self.mac()) / ip / Raw(self.r.randbytes(self.r.randint(0, 7)))))
            b[23] = 1
            b[16:18] = struct.pack("!H", len(b) - 14)
            return fix_ip_csum(b)
        # an ICMP error (valid checksum) quoting junk, a truncated header, or a header
        # about somebody else; never "fragmentation needed" about the peer.
        quote = bytearray(self.r.randbytes(self.r.randint(0, 60)))
        if len(quote) >= 20 and self.r.random() < 0.7:
            quote[0] = 0x45
            quote[9] = self.r.choice([1, 6, 17])
            quote[12:16] = bytes([198, 18, 0, 2])
            quote[16:20] = bytes([198, 18, 0, self.r.randint(3, 254)])
        typ = self.r.choice([3, 4, 5, 11, 12])
        code = self.r.randint(0, 15)
        if typ == 3 and code == 4:
            code = 3
        icmp = bytearray([typ, code, 0, 0]) + self.r.randbytes(4) + quote
        icmp[2:4] = struct.pack("!H", csum(bytes(icmp)))
        return bytearray(bytes(Ether(dst=self.tern_mac, src=self.mac()) / IP(src=self.src_ip(), dst=TERN_IP, proto=1) / Raw(bytes(icmp))))

    def bad_arp(self):
        spa = f"198.18.0.{self.r.randint(3, 254)}"
        x = self.r.random()
        a = ARP(op=self.r.choice([1, 2]), hwsrc=self.mac(), psrc=spa, pdst=self.r.choice([TERN_IP, "198.18.0.77"]))
        b = bytearray(bytes(Ether(dst=self.eth_dst(), src=self.mac()) / a))
        if x < 0.3:
            b = b[: 14 + self.r.randint(0, 27)]
        elif x < 0.5:
            b[14:16] = struct.pack("!H", self.r.choice([0, 6, 0xFFFF]))  # hardware type
        elif x < 0.6:
            b[16:18] = struct.pack("!H", self.r.choice([0x86DD, 0x0806, 0]))  # protocol type
        elif x < 0.7:
            b[18] = self.r.choice([0, 8, 255])  # hlen
        elif x < 0.8:
            b[19] = self.r.choice([0, 16, 255])  # plen
        elif x < 0.9:
            b[20:22] = struct.pack("!H", self.r.choice([0, 3, 4, 9, 0xFFFF]))  # op
        else:  # multicast / zero sender hardware address
            b[22:28] = self.r.choice([b"\x01\x00\x5e\x00\x00\x01", b"\0" * 6, b"\xff" * 6])
        return b

    def random_fragment(self):
        src = self.src_ip()
        if src == PEER_IP:
            src = "198.18.0.66"
        ip = IP(src=src, dst=TERN_IP, id=self.r.getrandbits(16), proto=self.r.choice([1, 17, 17, 6]),
                flags=self.r.choice([0, 1, 1]), frag=self.r.choice([0, 0, 1, 2, 100, 185, 8000, 8191]))
        return bytearray(bytes(Ether(dst=self.tern_mac, src=self.mac()) / ip / Raw(self.payload(1, 1480))))

    def oversize_claims(self):
        b = self.base_ip()
        x = self.r.random()
        if x < 0.5:
            b[16:18] = b"\xff\xff"
        else:  # the last fragment of a datagram that would exceed 65535 bytes
            b[20:22] = struct.pack("!H", 8191)
        return fix_ip_csum(b)


def main():
    iface, tern_mac, peer_mac, count, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    conf.verb = 0
    rng = random.Random(seed)
    g = Gen(tern_mac, peer_mac, rng)
    kinds = [g.random_bytes, g.truncated_ethernet, g.truncated_l3l4, g.bad_version, g.bad_ihl, g.bad_ip_checksum,
             g.bad_total_length, g.bad_options, g.ttl_zero, g.bad_udp, g.bad_icmp, g.bad_arp, g.random_fragment,
             g.oversize_claims]
    frames, tally = [bytes(f) for f in g.invalid_sources()], collections.Counter()
    tally["invalid_source"] = len(frames)
    for _ in range(count - len(frames)):
        k = rng.choice(kinds)
        frames.append(bytes(k()))
        tally[k.__name__] += 1
    # sendp on the kernel side of the tap: the frames arrive at tern.
    for i in range(0, len(frames), 100):
        sendp([Raw(f) for f in frames[i:i + 100]], iface=iface, verbose=False)
    print(f"  sent {len(frames)} garbage frames on {iface} (seed {seed}, "
          f"{min(map(len, frames))}..{max(map(len, frames))} bytes): " +
          ", ".join(f"{k} {n}" for k, n in sorted(tally.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
