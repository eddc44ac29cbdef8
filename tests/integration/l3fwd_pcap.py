#!/usr/bin/python3
"""integration-l3fwd_pcap: replay hand-built pcaps through tern-l3fwd on two net_pcap ports
and check the transmitted pcaps hold exactly the expected frames, byte for byte.

usage: l3fwd_pcap.py TERN_L3FWD [WORKDIR]

Files (in0/in1/out0/out1.pcap, tern-l3fwd.stderr) go to WORKDIR/l3fwd_pcap.d, or a new temp dir.

The router (RFC 1812 forwarding on tern):
  port 0  net_pcap0  198.18.0.1/24  02:00:00:00:00:10   hosts 198.18.0.5..9 behind 02:00:00:00:00:01
  port 1  net_pcap1  198.19.0.1/24  02:00:00:00:00:11   host 198.19.0.50 at 02:00:00:00:01:50 (ARP)
  routes  198.18.16.0/20 -> port 1, 02:00:00:00:01:01
          198.18.18.0/24 -> port 0, 02:00:00:00:00:aa   (longer prefix, back out port 0)
          198.18.32.0/20 -> port 0, 02:00:00:00:02:02
          198.18.0.0/24 -> port 0, 02:00:00:00:00:01 (the way back to the sources)

IN0 (from the 198.18.0.x hosts) and IN1 (from 198.19.0.50) hold, every datagram with a
unique IP identification so each transmitted frame can be traced to the frame it answers:
  - ARP requests for the router's addresses (ARP replies) and for another address (none);
  - ICMP echo requests to 198.18.0.1, to 198.19.0.1 (the other port's address) and one with
    TTL 1 (local delivery is not forwarding: answered);
  - datagrams to forward (UDP, TCP, ICMP echo, an ICMP error in transit, IP options, TOS,
    DF, TTL 2 and 255, a frame with Ethernet padding, two fragments of one datagram, 1400-
    and 1500-byte datagrams, hairpin routes back out the receiving port, a host on a
    connected subnet resolved by ARP): each must leave once on the route's port, src MAC =
    that port's MAC, dst MAC = the route's (or ARP-learnt) MAC, TTL one less, header
    checksum valid, every other IP byte and the payload unchanged, fragments not reassembled;
  - TTL 1 datagrams (ICMP time exceeded 11/0 back to the source, quoting the datagram as
    received), except an ICMP error and a non-first fragment (RFC 1812 §4.3.2.7: no error);
  - TTL 0 datagrams: nothing forwarded (ttl_zero or ttl_exceeded; a time exceeded allowed);
  - no-route datagrams (ICMP destination unreachable net 3/0 back to the source), except an
    ICMP error in transit (no error about an error);
  - malformed IPv4 (bad checksum, truncated, version 6, IHL 4, IHL beyond the data, total
    length beyond the frame or below the header), each dropped under its counter;
  - invalid sources (127.0.0.1, 0.0.0.0, the directed broadcast 198.18.0.255): RFC 1812
    §5.3.7 / §4.3.2.7, not forwarded, not answered (ipv4 drops bad_source);
  - a datagram in an Ethernet broadcast frame (RFC 1812 §5.3.4: not forwarded; and with TTL
    1 no time exceeded either), one to another station's MAC (l2 not_for_us), and one to
    port 1's directed broadcast 198.19.0.255 (RFC 2644: not forwarded by default).
The JSON counters must match: forwarded, ttl_exceeded, no_route, each malformed reason,
bad_source, per-port/per-interface rx/tx, ICMP echo requests, ARP, and mbufs_leaked = 0.
No root needed (net_pcap, --no-huge), so it never skips; without scapy it fails.
"""
import os
import random
import struct
import sys
import tempfile

from pcap_checks import check, csum16, failures, run_tool  # noqa: E402  (shared with the other pcap test)

try:
    from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw, RawPcapWriter, fragment, rdpcap
    from scapy.layers.inet import IPOption_NOP, IPOption_EOL
except ImportError as e:  # python3-scapy is a test dependency (scripts/setup.sh)
    print(f"l3fwd_pcap: FAIL: cannot import scapy under {sys.executable}: {e}")
    sys.exit(1)

R_MAC = ["02:00:00:00:00:10", "02:00:00:00:00:11"]
R_IP = ["198.18.0.1", "198.19.0.1"]
R_PREFIX = ["198.18.0.1/24", "198.19.0.1/24"]
SRC_MAC = "02:00:00:00:00:01"  # the hosts 198.18.0.5..9 on port 0
SRCS = [f"198.18.0.{i}" for i in range(5, 10)]
H1_MAC = "02:00:00:00:01:50"  # the host 198.19.0.50 on port 1 (learnt by ARP)
H1_IP = "198.19.0.50"
OTHER_MAC = "02:00:00:00:00:99"
BCAST = "ff:ff:ff:ff:ff:ff"
RT_16 = (1, "02:00:00:00:01:01")  # 198.18.16.0/20
RT_18 = (0, "02:00:00:00:00:aa")  # 198.18.18.0/24, inside RT_16
RT_32 = (0, "02:00:00:00:02:02")  # 198.18.32.0/20
ROUTES = ["198.18.16.0/20=1,02:00:00:00:01:01", "198.18.18.0/24=0,02:00:00:00:00:aa",
          "198.18.32.0/20=0,02:00:00:00:02:02", "198.18.0.0/24=0,02:00:00:00:00:01"]
SEED = 1812
MAX_QUOTE = 576 - 20 - 8  # RFC 1812 §4.3.2.3: the whole ICMP error fits in 576 bytes







def ip_header_ok(ipb: bytes) -> bool:
    ihl = (ipb[0] & 0x0F) * 4
    return ihl >= 20 and len(ipb) >= ihl and csum16(ipb[:ihl]) == 0xFFFF


def with_ip_checksum(b: bytearray, off: int = 14, ihl: int = None) -> bytearray:
    """Recompute the IPv4 header checksum of a raw frame in place (header at @p off)."""
    ihl = ihl if ihl is not None else (b[off] & 0x0F) * 4
    b[off + 10:off + 12] = b"\0\0"
    c = (~csum16(bytes(b[off:off + ihl]))) & 0xFFFF
    b[off + 10:off + 12] = struct.pack("!H", c)
    return b


def mac_bytes(m: str) -> bytes:
    return bytes(int(x, 16) for x in m.split(":"))


def mac_str(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def ip_str(b: bytes) -> str:
    return ".".join(str(x) for x in b)


class Input:
    """One frame of IN0/IN1 and what the router must do with it."""

    def __init__(self, port, label, frame, exp, **kw):
        self.port = port
        self.label = label
        self.frame = bytes(frame)
        self.exp = exp  # fwd te te_optional unreach echo arp none
        self.kw = kw
        self.index = None  # position in its pcap
        self.outputs = []  # (out port, out index, kind)

    @property
    def ipb(self) -> bytes:
        """The datagram as received: from the IPv4 header to its total length (no padding)."""
        ipb = self.frame[14:]
        return ipb[:struct.unpack("!H", ipb[2:4])[0]]

    @property
    def key(self):
        """(IP id, fragment offset field, src, dst) of the datagram: unique over the inputs."""
        ipb = self.frame[14:]
        return struct.unpack("!H", ipb[4:6])[0], struct.unpack("!H", ipb[6:8])[0] & 0x1FFF, ipb[12:16], ipb[16:20]


def build_inputs(rng):
    ins = [[], []]
    next_id = [0x5000]

    def nid():
        next_id[0] += 1
        return next_id[0]

    def payload(n):
        return bytes(rng.getrandbits(8) for _ in range(n))

    def add(port, label, frame, exp, **kw):
        ins[port].append(Input(port, label, frame, exp, **kw))

    def e0(dst=R_MAC[0]):
        return Ether(dst=dst, src=SRC_MAC)

    def e1(dst=R_MAC[1]):
        return Ether(dst=dst, src=H1_MAC)

    def udp_sized(src, dst, total, **ipkw):
        """A UDP datagram of exactly @p total IP bytes."""
        return IP(src=src, dst=dst, id=nid(), **ipkw) / UDP(sport=rng.randrange(1024, 65535), dport=9000) / \
            Raw(payload(total - 28))

    def tcp_sized(src, dst, total, **ipkw):
        return IP(src=src, dst=dst, id=nid(), **ipkw) / \
            TCP(sport=rng.randrange(1024, 65535), dport=80, flags="PA", seq=rng.getrandbits(32),
                ack=rng.getrandbits(32), window=8192) / Raw(payload(total - 40))

    def icmp_echo_sized(src, dst, total, ident, **ipkw):
        return IP(src=src, dst=dst, id=nid(), **ipkw) / ICMP(type=8, id=ident, seq=1) / Raw(payload(total - 28))

    def raw_udp(dst="198.18.21.5", src=SRCS[0], ttl=64):
        return bytearray(bytes(e0() / IP(src=src, dst=dst, id=nid(), ttl=ttl) /
                               UDP(sport=4444, dport=9000) / Raw(b"malformed datagram")))

    S5, S6, S7, S8, S9 = SRCS
    # ---- IN1 first element: the host on port 1 announces itself (the router learns its MAC
    # from its ARP request, RFC 826) -- IN1 is read in the router's first poll.
    add(1, "ARP who-has 198.19.0.1 from 198.19.0.50 (broadcast)",
        e1(BCAST) / ARP(op=1, hwsrc=H1_MAC, psrc=H1_IP, hwdst="00:00:00:00:00:00", pdst=R_IP[1]),
        "arp", to_mac=H1_MAC, to_ip=H1_IP)

    # ---- IN0: local traffic -------------------------------------------------------------
    add(0, "ARP who-has 198.18.0.1 from 198.18.0.5 (broadcast)",
        e0(BCAST) / ARP(op=1, hwsrc=SRC_MAC, psrc=S5, hwdst="00:00:00:00:00:00", pdst=R_IP[0]),
        "arp", to_mac=SRC_MAC, to_ip=S5)
    add(0, "ARP who-has 198.18.0.77 (not the router: no reply, no proxy ARP)",
        e0(BCAST) / ARP(op=1, hwsrc=SRC_MAC, psrc=S5, hwdst="00:00:00:00:00:00", pdst="198.18.0.77"), "none")
    pl = payload(56)
    add(0, "ICMP echo request 198.18.0.5 -> 198.18.0.1",
        e0() / IP(src=S5, dst=R_IP[0], id=nid()) / ICMP(type=8, id=0x0101, seq=1) / Raw(pl),
        "echo", router_ip=R_IP[0], ident=0x0101, seq=1, data=pl)
    pl = payload(32)
    add(0, "ICMP echo request 198.18.0.6 -> 198.18.0.1 with TTL 1 (local delivery: answered)",
        e0() / IP(src=S6, dst=R_IP[0], id=nid(), ttl=1) / ICMP(type=8, id=0x0102, seq=2) / Raw(pl),
        "echo", router_ip=R_IP[0], ident=0x0102, seq=2, data=pl)
    pl = payload(100)
    add(0, "ICMP echo request 198.18.0.7 -> 198.19.0.1 (port 1's address, received on port 0)",
        e0() / IP(src=S7, dst=R_IP[1], id=nid()) / ICMP(type=8, id=0x0103, seq=3) / Raw(pl),
        "echo", router_ip=R_IP[1], ident=0x0103, seq=3, data=pl)

    # ---- IN0: forwarded ----------------------------------------------------------------------
    add(0, "UDP 198.18.0.5 -> 198.18.21.5 (198.18.16/20: port 1)",
        e0() / IP(src=S5, dst="198.18.21.5", id=nid()) / UDP(sport=1000, dport=2000) / Raw(payload(100)),
        "fwd", route=RT_16)
    add(0, "TCP SYN 198.18.0.6 -> 198.18.21.5 (port 1)",
        e0() / IP(src=S6, dst="198.18.21.5", id=nid(), flags="DF") /
        TCP(sport=33000, dport=443, flags="S", seq=12345, options=[("MSS", 1460)]), "fwd", route=RT_16)
    add(0, "ICMP echo request 198.18.0.7 -> 198.18.31.1 (transit, port 1)",
        e0() / IP(src=S7, dst="198.18.31.1", id=nid()) / ICMP(type=8, id=0x0201, seq=1) / Raw(payload(40)),
        "fwd", route=RT_16)
    add(0, "UDP 198.18.0.8 -> 198.18.18.9 (198.18.18/24 beats 198.18.16/20: back out port 0 to ..:aa)",
        e0() / IP(src=S8, dst="198.18.18.9", id=nid()) / UDP(sport=1001, dport=53) / Raw(payload(60)),
        "fwd", route=RT_18)
    add(0, "TCP 198.18.0.9 -> 198.18.18.200 with 300 bytes (port 0, ..:aa)",
        e0() / tcp_sized(S9, "198.18.18.200", 340), "fwd", route=RT_18)
    add(0, "UDP 198.18.0.5 -> 198.18.35.4 TOS 0xb8 DF (198.18.32/20: port 0, ..:02:02)",
        e0() / IP(src=S5, dst="198.18.35.4", id=nid(), tos=0xB8, flags="DF") / UDP(sport=1002, dport=5004) /
        Raw(payload(200)), "fwd", route=RT_32)
    add(0, "ICMP echo request 198.18.0.6 -> 198.18.35.4 with TTL 2 (leaves with TTL 1)",
        e0() / IP(src=S6, dst="198.18.35.4", id=nid(), ttl=2) / ICMP(type=8, id=0x0202, seq=9) / Raw(payload(24)),
        "fwd", route=RT_32)
    add(0, "UDP 198.18.0.7 -> 198.18.21.5 with TTL 255",
        e0() / IP(src=S7, dst="198.18.21.5", id=nid(), ttl=255) / UDP(sport=1003, dport=2000) / Raw(payload(10)),
        "fwd", route=RT_16)
    add(0, "UDP 198.18.0.8 -> 198.18.21.5 with IP options NOP,NOP,NOP,EOL (IHL 6)",
        e0() / IP(src=S8, dst="198.18.21.5", id=nid(), options=[IPOption_NOP(), IPOption_NOP(), IPOption_NOP(),
                                                             IPOption_EOL()]) /
        UDP(sport=1004, dport=2000) / Raw(payload(33)), "fwd", route=RT_16)
    p = bytes(e0() / IP(src=S9, dst="198.18.35.4", id=nid()) / UDP(sport=1005, dport=2000) / Raw(b"hi"))
    add(0, "UDP 198.18.0.9 -> 198.18.35.4 payload 2 in a frame padded to 60 bytes",
        Raw(p + b"\xee" * (60 - len(p))), "fwd", route=RT_32)
    quoted = IP(src="198.18.21.5", dst=S5, id=0x7777) / UDP(sport=2000, dport=1000) / Raw(b"12345678")
    add(0, "ICMP port unreachable 198.18.0.5 -> 198.18.21.5 in transit (forwarded like any datagram)",
        e0() / IP(src=S5, dst="198.18.21.5", id=nid()) / ICMP(type=3, code=3) / Raw(bytes(quoted)),
        "fwd", route=RT_16)
    whole = IP(src=S6, dst="198.18.21.5", id=nid()) / UDP(sport=1006, dport=2000) / Raw(payload(2000))
    for k, f in enumerate(fragment(IP(bytes(whole)), fragsize=1480)):
        add(0, f"UDP 198.18.0.6 -> 198.18.21.5, 2008-byte datagram, fragment {k} (offset {f.frag * 8}): "
               "forwarded as is, not reassembled", e0() / f, "fwd", route=RT_16)
    add(0, "UDP 1400 bytes 198.18.0.5 -> 198.18.21.5", e0() / udp_sized(S5, "198.18.21.5", 1400), "fwd", route=RT_16)
    add(0, "TCP 1400 bytes DF 198.18.0.6 -> 198.18.35.4",
        e0() / tcp_sized(S6, "198.18.35.4", 1400, flags="DF"), "fwd", route=RT_32)
    add(0, "ICMP echo 1400 bytes 198.18.0.7 -> 198.18.18.9",
        e0() / icmp_echo_sized(S7, "198.18.18.9", 1400, 0x0203), "fwd", route=RT_18)
    add(0, "UDP 1500 bytes (the MTU) DF 198.18.0.8 -> 198.18.21.5",
        e0() / udp_sized(S8, "198.18.21.5", 1500, flags="DF"), "fwd", route=RT_16)

    # ---- IN0: TTL expiry ---------------------------------------------------------------------
    add(0, "UDP TTL 1 198.18.0.5 -> 198.18.21.5 (time exceeded)",
        e0() / IP(src=S5, dst="198.18.21.5", id=nid(), ttl=1) / UDP(sport=1010, dport=33434) / Raw(payload(12)), "te")
    add(0, "TCP TTL 1 198.18.0.6 -> 198.18.35.4 (time exceeded)",
        e0() / IP(src=S6, dst="198.18.35.4", id=nid(), ttl=1) / TCP(sport=1011, dport=80, flags="S"), "te")
    add(0, "ICMP echo TTL 1 198.18.0.7 -> 198.18.18.9 (time exceeded)",
        e0() / IP(src=S7, dst="198.18.18.9", id=nid(), ttl=1) / ICMP(type=8, id=0x0301, seq=1) / Raw(payload(8)),
        "te")
    add(0, "UDP 1400 bytes TTL 1 198.18.0.8 -> 198.18.21.5 (time exceeded, quote cut to fit 576)",
        e0() / udp_sized(S8, "198.18.21.5", 1400, ttl=1), "te")
    add(0, "ICMP port unreachable TTL 1 in transit 198.18.0.9 -> 198.18.21.5 (dropped, no error about an error)",
        e0() / IP(src=S9, dst="198.18.21.5", id=nid(), ttl=1) / ICMP(type=3, code=3) / Raw(bytes(quoted)),
        "none", counts="ttl_exceeded")
    add(0, "UDP non-first fragment TTL 1 198.18.0.5 -> 198.18.21.5 (dropped, no error about it)",
        e0() / IP(src=S5, dst="198.18.21.5", id=nid(), ttl=1, frag=185, proto=17) / Raw(payload(100)),
        "none", counts="ttl_exceeded")
    add(0, "UDP TTL 0 198.18.0.5 -> 198.18.21.5 (not forwarded)",
        e0() / IP(src=S5, dst="198.18.21.5", id=nid(), ttl=0) / UDP(sport=1012, dport=2000) / Raw(payload(20)),
        "te_optional", counts="ttl_zero|ttl_exceeded")
    add(0, "TCP TTL 0 198.18.0.6 -> 198.18.35.4 (not forwarded)",
        e0() / IP(src=S6, dst="198.18.35.4", id=nid(), ttl=0) / TCP(sport=1013, dport=80, flags="S"),
        "te_optional", counts="ttl_zero|ttl_exceeded")

    # ---- IN0: no route -----------------------------------------------------------------------
    add(0, "UDP 198.18.0.5 -> 198.19.200.1 (no route: net unreachable)",
        e0() / IP(src=S5, dst="198.19.200.1", id=nid()) / UDP(sport=1020, dport=2000) / Raw(payload(30)), "unreach")
    add(0, "TCP 198.18.0.6 -> 198.19.113.9 (no route: net unreachable)",
        e0() / IP(src=S6, dst="198.19.113.9", id=nid()) / TCP(sport=1021, dport=80, flags="S"), "unreach")
    add(0, "UDP 1400 bytes 198.18.0.7 -> 198.19.200.77 (net unreachable, quote cut to fit 576)",
        e0() / udp_sized(S7, "198.19.200.77", 1400), "unreach")
    add(0, "ICMP echo 198.18.0.9 -> 198.19.200.1 (no route: net unreachable)",
        e0() / IP(src=S9, dst="198.19.200.1", id=nid()) / ICMP(type=8, id=0x0401, seq=1) / Raw(payload(16)),
        "unreach")
    add(0, "ICMP time exceeded in transit 198.18.0.8 -> 198.19.200.1 (no route; no error about an error)",
        e0() / IP(src=S8, dst="198.19.200.1", id=nid()) / ICMP(type=11, code=0) / Raw(bytes(quoted)),
        "none", counts="no_route")

    # ---- IN0: malformed IPv4 (each dropped and counted) -------------------------------------
    b = raw_udp()
    b[24] ^= 0x5A
    add(0, "IPv4 header checksum wrong, to 198.18.21.5", b, "none", counts="bad_checksum")
    b = bytearray(bytes(e0() / IP(src=S5, dst=R_IP[0], id=nid()) / ICMP(type=8, id=0x0501, seq=1) / Raw(b"x" * 8)))
    b[24] ^= 0x01
    add(0, "IPv4 header checksum wrong, ICMP echo to 198.18.0.1", b, "none", counts="bad_checksum")
    b = raw_udp(ttl=1)
    b[25] ^= 0x10
    add(0, "IPv4 header checksum wrong, TTL 1 to 198.18.21.5 (no time exceeded)", b, "none", counts="bad_checksum")
    good = raw_udp()
    add(0, "IPv4 truncated: 12 bytes after the Ethernet header", good[:14 + 12], "none", counts="truncated")
    add(0, "IPv4 truncated: 19 bytes after the Ethernet header", raw_udp()[:14 + 19], "none", counts="truncated")
    b = raw_udp()
    b[14] = 0x65
    add(0, "IPv4 version 6 (checksum valid)", with_ip_checksum(b), "none", counts="bad_version")
    b = raw_udp()
    b[14] = 0x44
    add(0, "IPv4 IHL 4 (< 5)", with_ip_checksum(b, ihl=20), "none", counts="bad_header")
    b = raw_udp()  # 46-byte datagram; IHL 15 claims a 60-byte header
    b[14] = 0x4F
    add(0, "IPv4 IHL 15 (60-byte header) in a 46-byte datagram", with_ip_checksum(b, ihl=20), "none",
        counts="bad_header")
    b = raw_udp()
    b[16:18] = struct.pack("!H", len(b) - 14 + 40)
    add(0, "IPv4 total length 40 bytes beyond the frame", with_ip_checksum(b), "none", counts="bad_length")
    b = raw_udp()
    b[16:18] = struct.pack("!H", 16)
    add(0, "IPv4 total length 16 (< the 20-byte header)", with_ip_checksum(b), "none", counts="bad_length")

    # ---- IN0: invalid sources, link-layer broadcast, other MAC, directed broadcast ------------
    for src in ("127.0.0.1", "0.0.0.0", "198.18.0.255"):
        add(0, f"UDP from invalid source {src} -> 198.18.21.5 (RFC 1812 §5.3.7: not forwarded, not answered)",
            e0() / IP(src=src, dst="198.18.21.5", id=nid()) / UDP(sport=1030, dport=2000) / Raw(b"martian"),
            "none", counts="bad_source")
    add(0, "UDP 198.18.0.5 -> 198.18.21.5 in an Ethernet broadcast frame (RFC 1812 §5.3.4: not forwarded)",
        e0(BCAST) / IP(src=S5, dst="198.18.21.5", id=nid()) / UDP(sport=1040, dport=2000) / Raw(b"bcast"),
        "none", counts="unspecified")
    add(0, "UDP TTL 1 198.18.0.5 -> 198.18.21.5 in an Ethernet broadcast frame (no time exceeded, §4.3.2.7)",
        e0(BCAST) / IP(src=S5, dst="198.18.21.5", id=nid(), ttl=1) / UDP(sport=1041, dport=2000) / Raw(b"bcast"),
        "none", counts="unspecified")
    add(0, "UDP 198.18.0.5 -> 198.18.21.5 to another station's MAC 02:00:00:00:00:99 (l2 not_for_us)",
        e0(OTHER_MAC) / IP(src=S5, dst="198.18.21.5", id=nid()) / UDP(sport=1042, dport=2000) / Raw(b"not mine"),
        "none", counts="l2:not_for_us")
    add(0, "UDP 198.18.0.5 -> 198.19.0.255 (port 1's directed broadcast; RFC 2644: not forwarded)",
        e0() / IP(src=S5, dst="198.19.0.255", id=nid()) / UDP(sport=1043, dport=2000) / Raw(b"smurf"),
        "none", counts="unspecified")

    # ---- IN0, last: to the ARP-learnt host on port 1 (IN1's ARP request was read by then:
    # the router reads IN1 in its first poll, IN0 in bursts of 32 frames) ---------------------
    add(0, "UDP 198.18.0.5 -> 198.19.0.50 (connected on port 1; MAC learnt by ARP)",
        e0() / IP(src=S5, dst=H1_IP, id=nid()) / UDP(sport=1050, dport=2000) / Raw(payload(64)),
        "fwd", route=(1, H1_MAC))
    add(0, "TCP 1400 bytes 198.18.0.6 -> 198.19.0.50 (connected on port 1)",
        e0() / tcp_sized(S6, H1_IP, 1400), "fwd", route=(1, H1_MAC))

    # ---- IN1: from 198.19.0.50 ---------------------------------------------------------------
    add(1, "UDP 198.19.0.50 -> 198.18.35.4 (port 1 -> port 0, ..:02:02)",
        e1() / IP(src=H1_IP, dst="198.18.35.4", id=nid()) / UDP(sport=1100, dport=2000) / Raw(payload(77)),
        "fwd", route=RT_32)
    add(1, "TCP 1400 bytes 198.19.0.50 -> 198.18.41.9 (port 0)", e1() / tcp_sized(H1_IP, "198.18.41.9", 1400),
        "fwd", route=RT_32)
    add(1, "UDP 198.19.0.50 -> 198.18.21.5 (hairpin: back out port 1)",
        e1() / IP(src=H1_IP, dst="198.18.21.5", id=nid()) / UDP(sport=1101, dport=2000) / Raw(payload(5)),
        "fwd", route=RT_16)
    add(1, "UDP TTL 1 198.19.0.50 -> 198.18.35.4 (time exceeded back out port 1)",
        e1() / IP(src=H1_IP, dst="198.18.35.4", id=nid(), ttl=1) / UDP(sport=1102, dport=33434) / Raw(payload(9)),
        "te")
    add(1, "UDP 198.19.0.50 -> 198.19.200.1 (net unreachable back out port 1)",
        e1() / IP(src=H1_IP, dst="198.19.200.1", id=nid()) / UDP(sport=1103, dport=2000) / Raw(payload(9)),
        "unreach")
    pl = payload(20)
    add(1, "ICMP echo request 198.19.0.50 -> 198.19.0.1",
        e1() / IP(src=H1_IP, dst=R_IP[1], id=nid()) / ICMP(type=8, id=0x0601, seq=1) / Raw(pl),
        "echo", router_ip=R_IP[1], ident=0x0601, seq=1, data=pl)
    b = bytearray(bytes(e1() / IP(src=H1_IP, dst="198.18.35.4", id=nid()) / UDP(sport=1104, dport=2000) /
                        Raw(b"bad sum")))
    b[24] ^= 0x80
    add(1, "IPv4 header checksum wrong, 198.19.0.50 -> 198.18.35.4", b, "none", counts="bad_checksum")

    for port in (0, 1):
        for i, x in enumerate(ins[port]):
            x.index = i
    keys = {}
    for x in ins[0] + ins[1]:
        if len(x.frame) >= 34 and x.frame[12:14] == b"\x08\x00":
            assert x.key not in keys, f"duplicate key {x.key}: {x.label} / {keys[x.key]}"
            keys[x.key] = x.label
    return ins


def run_router(exe, ins_files, outs, log_path):
    cmd = [exe]
    for p in (0, 1):
        cmd += ["--dev", f"net_pcap{p},rx_pcap={ins_files[p]},tx_pcap={outs[p]}"]
    for p in (0, 1):
        cmd += ["--ip", R_PREFIX[p]]
    for p in (0, 1):
        cmd += ["--mac", R_MAC[p]]
    for r in ROUTES:
        cmd += ["--route", r]
    cmd += ["--exit-idle-ms", "1500"]
    return run_tool("tern-l3fwd", cmd, log_path, "l3fwd_pcap")


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    exe = sys.argv[1]
    if len(sys.argv) > 2:
        work = os.path.join(sys.argv[2], "l3fwd_pcap.d")  # the last run's pcaps stay for inspection
        os.makedirs(work, exist_ok=True)
    else:
        work = tempfile.mkdtemp(prefix="tern-l3fwd-pcap-")
    in_files = [os.path.join(work, f"in{p}.pcap") for p in (0, 1)]
    out_files = [os.path.join(work, f"out{p}.pcap") for p in (0, 1)]
    log = os.path.join(work, "tern-l3fwd.stderr")
    for f in out_files:
        if os.path.exists(f):
            os.unlink(f)

    ins = build_inputs(random.Random(SEED))
    for p in (0, 1):
        print(f"== input port {p}: {len(ins[p])} frames -> {in_files[p]}")
        for x in ins[p]:
            print(f"  in{p}#{x.index:2d} {len(x.frame):5d} bytes  {x.label}")
        w = RawPcapWriter(in_files[p], linktype=1)  # DLT_EN10MB; raw bytes, malformed frames stay as built
        for x in ins[p]:
            w.write(x.frame)
        w.close()

    print("== tern-l3fwd on two net_pcap ports")
    run = run_router(exe, in_files, out_files, log)
    if not run.ok(out_files, work):
        return 1
    stats = run.stats

    by_key = {}
    for x in ins[0] + ins[1]:
        if len(x.frame) >= 34 and x.frame[12:14] == b"\x08\x00":
            by_key[x.key] = x
    arp_by_port = {p: [x for x in ins[p] if x.exp == "arp"] for p in (0, 1)}
    echo_by_id = {(x.kw["ident"], x.kw["seq"]): x for x in ins[0] + ins[1] if x.exp == "echo"}

    sent = [[bytes(f) for f in rdpcap(out_files[p])] for p in (0, 1)]
    unexpected = []
    garp = {0: [], 1: []}
    for p in (0, 1):
        print(f"== output port {p}: {len(sent[p])} frames in {out_files[p]}")
        for i, raw in enumerate(sent[p]):
            print(f"  out{p}#{i:2d} {len(raw):5d} bytes  {Ether(raw).summary()}")
            where = f"out{p}#{i}"
            if len(raw) < 14:
                unexpected.append((where, "runt frame"))
                continue
            etype = struct.unpack("!H", raw[12:14])[0]
            if etype == 0x0806:
                a = Ether(raw)[ARP]
                if a.op == 1 and a.psrc == R_IP[p] and a.pdst == R_IP[p]:
                    garp[p].append((i, raw))
                elif a.op == 2 and arp_by_port[p]:
                    x = arp_by_port[p][0]
                    x.outputs.append((p, i, "arp", raw))
                    arp_by_port[p] = arp_by_port[p][1:]
                else:
                    unexpected.append((where, "ARP " + Ether(raw).summary()))
                continue
            if etype != 0x0800 or len(raw) < 34:
                unexpected.append((where, Ether(raw).summary()))
                continue
            ipb = raw[14:]
            src = ip_str(ipb[12:16])
            ihl = (ipb[0] & 0x0F) * 4
            if ipb[9] == 1 and src in R_IP and len(ipb) >= ihl + 8:
                icmp_type = ipb[ihl]
                if icmp_type in (3, 11) and len(ipb) >= ihl + 8 + 20:
                    q = ipb[ihl + 8:]
                    k = (struct.unpack("!H", q[4:6])[0], struct.unpack("!H", q[6:8])[0] & 0x1FFF, q[12:16], q[16:20])
                    if k in by_key:
                        by_key[k].outputs.append((p, i, "icmp_error", raw))
                        continue
                if icmp_type == 0:
                    k = struct.unpack("!HH", ipb[ihl + 4:ihl + 8])
                    if k in echo_by_id:
                        echo_by_id[k].outputs.append((p, i, "echo_reply", raw))
                        continue
            k = (struct.unpack("!H", ipb[4:6])[0], struct.unpack("!H", ipb[6:8])[0] & 0x1FFF, ipb[12:16], ipb[16:20])
            if k in by_key:
                by_key[k].outputs.append((p, i, "forwarded", raw))
                continue
            unexpected.append((where, Ether(raw).summary()))

    print("== per input frame")
    n_fwd = 0

    def check_forwarded(x, p, i, raw):
        want_port, want_mac = x.kw["route"]
        a = x.ipb
        b = raw[14:]
        ok = check(p == want_port, f"out{p}#{i}: left on port {want_port} (got port {p})", quiet=True)
        ok &= check(raw[6:12] == mac_bytes(R_MAC[p]), f"out{p}#{i}: src MAC {mac_str(raw[6:12])} is port {p}'s "
                    f"{R_MAC[p]}", quiet=True)
        ok &= check(raw[0:6] == mac_bytes(want_mac), f"out{p}#{i}: dst MAC {mac_str(raw[0:6])} is the route's "
                    f"{want_mac}", quiet=True)
        ok &= check(raw[12:14] == b"\x08\x00", f"out{p}#{i}: ethertype IPv4", quiet=True)
        ok &= check(b[8] == a[8] - 1, f"out{p}#{i}: TTL {b[8]} = input TTL {a[8]} - 1", quiet=True)
        ok &= check(ip_header_ok(b), f"out{p}#{i}: IPv4 header checksum valid "
                    f"(got {struct.unpack('!H', b[10:12])[0]:#06x})", quiet=True)
        ln = len(a)
        ok &= check(len(b) == ln or (len(b) > ln and len(raw) == 60),
                    f"out{p}#{i}: frame holds the {ln}-byte datagram (IP bytes in frame: {len(b)})", quiet=True)
        same = b[:8] == a[:8] and b[9:10] == a[9:10] and b[12:ln] == a[12:]
        if not same:
            diff = [j for j in range(min(ln, len(b))) if j not in (8, 10, 11) and a[j] != b[j]]
            check(False, f"out{p}#{i}: IP bytes other than TTL/checksum unchanged (differ at offsets "
                  f"{diff[:12]}{'...' if len(diff) > 12 else ''})", quiet=True)
            ok = False
        return ok

    def check_icmp_error(x, p, i, raw, typ, code):
        ipb = raw[14:]
        ihl = (ipb[0] & 0x0F) * 4
        tot = struct.unpack("!H", ipb[2:4])[0]
        to_mac, to_ip = (SRC_MAC, ip_str(x.ipb[12:16])) if x.port == 0 else (H1_MAC, H1_IP)
        ok = check(p == x.port, f"out{p}#{i}: the error went back out the receiving port {x.port}", quiet=True)
        ok &= check(raw[6:12] == mac_bytes(R_MAC[p]) and raw[0:6] == mac_bytes(to_mac),
                    f"out{p}#{i}: Ethernet {mac_str(raw[6:12])} -> {mac_str(raw[0:6])}, expected "
                    f"{R_MAC[p]} -> {to_mac}", quiet=True)
        ok &= check(ip_header_ok(ipb), f"out{p}#{i}: IPv4 header checksum valid", quiet=True)
        ok &= check(ip_str(ipb[12:16]) == R_IP[p] and ip_str(ipb[16:20]) == to_ip,
                    f"out{p}#{i}: IPv4 {ip_str(ipb[12:16])} -> {ip_str(ipb[16:20])}, expected {R_IP[p]} "
                    f"(the sending interface's address) -> {to_ip}", quiet=True)
        ok &= check(ipb[8] > 0, f"out{p}#{i}: TTL {ipb[8]} > 0", quiet=True)
        ok &= check(tot == len(ipb) or (len(ipb) > tot and len(raw) == 60),
                    f"out{p}#{i}: IPv4 total length {tot} matches the frame ({len(ipb)})", quiet=True)
        ok &= check(tot <= 576, f"out{p}#{i}: ICMP error datagram {tot} <= 576 bytes (RFC 1812 §4.3.2.3)", quiet=True)
        ok &= check(struct.unpack("!H", ipb[6:8])[0] & 0x3FFF == 0, f"out{p}#{i}: not a fragment", quiet=True)
        icmpb = ipb[ihl:tot]
        ok &= check(icmpb[0] == typ and icmpb[1] == code,
                    f"out{p}#{i}: ICMP type/code {icmpb[0]}/{icmpb[1]}, expected {typ}/{code}", quiet=True)
        ok &= check(csum16(icmpb) == 0xFFFF, f"out{p}#{i}: ICMP checksum valid", quiet=True)
        ok &= check(icmpb[4:8] == b"\0\0\0\0", f"out{p}#{i}: ICMP unused field zero", quiet=True)
        quote = icmpb[8:]
        orig = x.ipb
        oihl = (orig[0] & 0x0F) * 4
        want_len = min(len(orig), MAX_QUOTE)
        ok &= check(len(quote) >= oihl + 8, f"out{p}#{i}: quote of {len(quote)} bytes holds the header and 8 "
                    "bytes", quiet=True)
        ok &= check(quote == orig[:len(quote)], f"out{p}#{i}: quote equals the datagram as received"
                    + ("" if quote == orig[:len(quote)] else
                       f" (differs at {[j for j in range(min(len(quote), len(orig))) if quote[j] != orig[j]][:8]}"
                       f"{', longer than the datagram' if len(quote) > len(orig) else ''})"), quiet=True)
        ok &= check(len(quote) == want_len, f"out{p}#{i}: quote is as much of the datagram as fits in 576 bytes "
                    f"({len(quote)}, expected {want_len}; RFC 1812 §4.3.2.3)", quiet=True)
        return ok

    def check_echo_reply(x, p, i, raw):
        ipb = raw[14:]
        ihl = (ipb[0] & 0x0F) * 4
        tot = struct.unpack("!H", ipb[2:4])[0]
        to_mac, to_ip = (SRC_MAC, ip_str(x.ipb[12:16])) if x.port == 0 else (H1_MAC, H1_IP)
        ok = check(p == x.port, f"out{p}#{i}: echo reply left on the receiving port {x.port}", quiet=True)
        ok &= check(raw[6:12] == mac_bytes(R_MAC[p]) and raw[0:6] == mac_bytes(to_mac),
                    f"out{p}#{i}: Ethernet {mac_str(raw[6:12])} -> {mac_str(raw[0:6])}, expected "
                    f"{R_MAC[p]} -> {to_mac}", quiet=True)
        ok &= check(ip_header_ok(ipb), f"out{p}#{i}: IPv4 header checksum valid", quiet=True)
        ok &= check(ip_str(ipb[12:16]) == x.kw["router_ip"] and ip_str(ipb[16:20]) == to_ip,
                    f"out{p}#{i}: IPv4 {ip_str(ipb[12:16])} -> {ip_str(ipb[16:20])}, expected "
                    f"{x.kw['router_ip']} -> {to_ip}", quiet=True)
        ok &= check(ipb[8] > 0, f"out{p}#{i}: TTL {ipb[8]} > 0", quiet=True)
        icmpb = ipb[ihl:tot]
        ok &= check(icmpb[0] == 0 and icmpb[1] == 0, f"out{p}#{i}: ICMP type/code {icmpb[0]}/{icmpb[1]} = 0/0",
                    quiet=True)
        ok &= check(csum16(icmpb) == 0xFFFF, f"out{p}#{i}: ICMP checksum valid", quiet=True)
        ok &= check(icmpb[8:] == x.kw["data"], f"out{p}#{i}: echo data ({len(icmpb) - 8} bytes) identical",
                    quiet=True)
        return ok

    def check_arp_reply(x, p, i, raw):
        e = Ether(raw)
        a = e[ARP]
        return check(p == x.port and e.src == R_MAC[p] and e.dst == x.kw["to_mac"] and a.op == 2 and
                     a.hwsrc == R_MAC[p] and a.psrc == R_IP[p] and a.hwdst == x.kw["to_mac"] and
                     a.pdst == x.kw["to_ip"] and a.hwtype == 1 and a.ptype == 0x0800,
                     f"out{p}#{i}: ARP reply {a.psrc} is-at {a.hwsrc} to {a.pdst}/{a.hwdst} "
                     f"(eth {e.src}->{e.dst})", quiet=True)

    for x in ins[0] + ins[1]:
        before = len(failures)
        outs = x.outputs
        tag = f"in{x.port}#{x.index}"
        kinds = [k for _, _, k, _ in outs]
        where = ", ".join(f"out{p}#{i} {k}" for p, i, k, _ in outs) or "nothing"
        if x.exp == "fwd":
            n_fwd += 1
            if check(kinds == ["forwarded"], f"{tag}: forwarded exactly once (got: {where})", quiet=True):
                check_forwarded(x, *outs[0][:2], outs[0][3])
        elif x.exp in ("te", "unreach"):
            typ, code = (11, 0) if x.exp == "te" else (3, 0)
            if check(kinds == ["icmp_error"], f"{tag}: exactly one ICMP {typ}/{code}, nothing forwarded "
                     f"(got: {where})", quiet=True):
                check_icmp_error(x, *outs[0][:2], outs[0][3], typ, code)
        elif x.exp == "te_optional":
            if check(kinds in ([], ["icmp_error"]), f"{tag}: not forwarded; at most a time exceeded "
                     f"(got: {where})", quiet=True) and kinds:
                check_icmp_error(x, *outs[0][:2], outs[0][3], 11, 0)
        elif x.exp == "echo":
            if check(kinds == ["echo_reply"], f"{tag}: exactly one echo reply (got: {where})", quiet=True):
                check_echo_reply(x, *outs[0][:2], outs[0][3])
        elif x.exp == "arp":
            if check(kinds == ["arp"], f"{tag}: exactly one ARP reply (got: {where})", quiet=True):
                check_arp_reply(x, *outs[0][:2], outs[0][3])
        else:
            check(not outs, f"{tag}: nothing sent about it (got: {where})", quiet=True)
        ok = len(failures) == before
        print(("  ok    " if ok else "  FAIL  ") + f"{tag} {x.label} -> {where}")

    print("== whole output")
    for p in (0, 1):
        n = len(garp[p])
        check(n <= 1, f"port {p}: at most one gratuitous ARP (got {n})")
        if n:
            i, raw = garp[p][0]
            e = Ether(raw)
            check(i == 0 and e.dst == BCAST and e.src == R_MAC[p] and e[ARP].hwsrc == R_MAC[p],
                  f"port {p}: gratuitous ARP for {R_IP[p]} is the port's first frame, broadcast from {R_MAC[p]}")
    check(not unexpected, f"no unexpected frames ({len(unexpected)})" +
          "".join(f"\n          {w}: {d}" for w, d in unexpected))
    # A router keeps the order of what it is given (one core, one queue per port).
    for p in (0, 1):
        for src_port in (0, 1):
            seq = [(x.index, pp, i) for x in ins[src_port] for pp, i, _, _ in x.outputs if pp == p]
            order = [i for _, _, i in sorted(seq)]
            check(order == sorted(order), f"out{p}: frames caused by in{src_port} leave in input order "
                  f"({order if order != sorted(order) else len(order)})")
    # (That the outputs hold only expected frames follows from the checks above: every input got
    # exactly the outputs its expectation allows, and no frame was left unexplained.)

    print("== counters")
    core = stats["cores"][0]
    ip4 = core["ipv4"]
    drops = ip4["drops"]
    counts = {}
    for x in ins[0] + ins[1]:
        c = x.kw.get("counts")
        if x.exp == "te":
            c = "ttl_exceeded"
        elif x.exp == "unreach":
            c = "no_route"
        if c:
            counts[c] = counts.get(c, 0) + 1
    check("forwarded" in ip4, "cores[0].ipv4.forwarded is reported")
    check(ip4.get("forwarded") == n_fwd, f"ipv4 forwarded = {ip4.get('forwarded')}, expected {n_fwd}")
    n_ttl0 = counts.get("ttl_zero|ttl_exceeded", 0)
    exact = {k: v for k, v in counts.items() if ":" not in k and "|" not in k and k != "unspecified"}
    for reason in ("bad_version", "bad_header", "bad_length", "bad_checksum", "truncated", "ttl_exceeded",
                   "no_route", "bad_source", "ttl_zero"):
        exact.setdefault(reason, 0)
    # TTL 0: either counter; the pair must add up.
    got_tz, got_te = drops.get("ttl_zero", 0), drops.get("ttl_exceeded")
    check("ttl_exceeded" in drops and "no_route" in drops, "ipv4 drops ttl_exceeded and no_route are reported")
    if got_te is not None:
        ttl0_as_te = got_te - exact["ttl_exceeded"]
        check(got_tz + got_te == exact["ttl_exceeded"] + n_ttl0 and 0 <= ttl0_as_te <= n_ttl0,
              f"ipv4 drops ttl_exceeded = {got_te} and ttl_zero = {got_tz}: expected {exact['ttl_exceeded']} "
              f"TTL-1 datagrams in ttl_exceeded and the {n_ttl0} TTL-0 ones in either")
    for reason in sorted(exact):
        if reason in ("ttl_exceeded", "ttl_zero"):
            continue
        check(drops.get(reason) == exact[reason], f"ipv4 drops {reason} = {drops.get(reason)}, "
              f"expected {exact[reason]}")
    n_unspec = counts.get("unspecified", 0)
    others = {k: v for k, v in drops.items() if v and k not in exact}
    check(sum(others.values()) <= n_unspec,
          f"other ipv4 drops {others} account at most for the {n_unspec} link-broadcast/directed-broadcast "
          "datagrams")

    ifs = core["interfaces"]
    for p in (0, 1):
        ps = stats["ports"][p]
        check(ps["rx_packets"] == len(ins[p]), f"ports[{p}].rx_packets {ps['rx_packets']} == frames in in{p} "
              f"({len(ins[p])})")
        check(ps["tx_packets"] == len(sent[p]), f"ports[{p}].tx_packets {ps['tx_packets']} == frames in out{p} "
              f"({len(sent[p])})")
        check(ifs[p]["rx"] == len(ins[p]), f"interfaces[{p}].rx {ifs[p]['rx']} == {len(ins[p])}")
        check(ifs[p]["tx"] == len(sent[p]), f"interfaces[{p}].tx {ifs[p]['tx']} == {len(sent[p])}")
        arp = ifs[p]["arp"]
        want_replies = sum(1 for x in ins[p] if x.exp == "arp")
        check(arp["replies_out"] == want_replies and arp["requests_out"] == 0,
              f"interfaces[{p}].arp replies_out {arp['replies_out']} (expected {want_replies}), requests_out "
              f"{arp['requests_out']} (expected 0: every next hop was given or learnt)")
        check(arp["queued"] == 0 and ifs[p]["drops"]["neigh_unresolved"] == 0,
              f"interfaces[{p}]: nothing waited for ARP (queued {arp['queued']}, neigh_unresolved "
              f"{ifs[p]['drops']['neigh_unresolved']})")
    check(ifs[0]["drops"]["not_for_us"] == counts.get("l2:not_for_us", 0),
          f"interfaces[0] l2 drops not_for_us = {ifs[0]['drops']['not_for_us']}, expected "
          f"{counts.get('l2:not_for_us', 0)}")
    n_echo = sum(1 for x in ins[0] + ins[1] if x.exp == "echo")
    check(core["icmp"]["echo_requests"] == n_echo,
          f"icmp echo_requests = {core['icmp']['echo_requests']}, expected {n_echo} (transit echoes are not ours)")
    check(stats.get("mbufs_leaked") == 0, f"mbufs_leaked = {stats.get('mbufs_leaked')}")

    if failures:
        print(f"l3fwd_pcap: {len(failures)} check(s) FAILED:")
        for f in failures:
            print("  - " + f.split("\n")[0])
        run.dump(work)
        return 1
    print("l3fwd_pcap: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
