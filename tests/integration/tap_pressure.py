#!/usr/bin/python3
"""Hostile TCP peers for integration-tap_pressure (run inside the test's namespace).

usage: tap_pressure.py attack   IFACE TERN_MAC TERN_IP PORT KERNEL_IP SEED
       tap_pressure.py counters TERN_STDOUT MBUFS

attack: a peer at 198.18.0.10 that the kernel does not own (this script answers tern's ARP
  requests for it from a packet socket) opens connections to tern-echo's TCP port and pushes
  tiny segments at them, frames built once with scapy and copied with their checksums patched
  (scapy per frame would take minutes), sent on an AF_PACKET socket.
  1. one connection, the attack of issue 9: a one-byte hole, then 12,000 contiguous one-byte
     segments behind it (more than the pool's mbufs; before truesize accounting this left the
     core unable to receive anything). Then: the kernel pings tern (3 of 3 answered), the hole
     is filled and tern must acknowledge every byte (nothing it accepted was lost).
  2. 32 more connections at once, interleaved: 200 in-order one-byte segments each (echoed
     back to a peer that never acknowledges: send queues fill), then a hole and 400 one-byte
     segments with a gap after each (one out-of-order node each), 19,200 frames in all:
     together more than the core's TCP memory. During the flood the kernel pings tern, and
     after it a kernel client connects, echoes 64 KiB byte-exact and sees EOF, within 10 s.
  3. every hostile connection is reset (RST at the sequence tern acknowledged last); a probe
     with an unacceptable ACK afterwards must be answered with RST (the connection is gone).
counters: the JSON tern-echo printed at SIGTERM: mbufs_leaked 0, TCP memory_used 0 and no
  connection left (memory back at its idle level), the pool back to its idle level (at least
  MBUFS - rings - cache - 64 free), pressure was reached (out-of-order segments pruned or data
  refused for memory), no RX allocation failure.
Exit status 0 when everything passed.
"""
import json
import random
import socket
import struct
import subprocess
import sys
import threading
import time

HOSTILE_IP = "198.18.0.10"
HOSTILE_MAC = bytes.fromhex("020000000a0a")
ONE_CONN_SEGS = 12000
MANY_CONNS = 32
IN_ORDER = 200
GAPPED = 400
RATE = 25000.0  # frames/s: the tap's queue is raised to 10,000 frames by the shell script


def say(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what, flush=True)
    return 0 if ok else 1


def csum16(data):
    if len(data) % 2:
        data = bytes(data) + b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip_bytes(a):
    return socket.inet_aton(a)


class Peer:
    """The hostile host: frames out on a packet socket, tern's frames read by a thread."""

    def __init__(self, iface, tern_mac, tern_ip, port):
        self.iface, self.tern_ip, self.port = iface, tern_ip, port
        self.tern_mac = bytes.fromhex(tern_mac.replace(":", ""))
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
        self.sock.bind((iface, 0))
        self.lock = threading.Lock()
        self.synack = {}     # our port -> tern's ISN
        self.last_ack = {}   # our port -> highest ACK tern sent on it (its RCV.NXT)
        self.rst_seen = {}   # our port -> time of the last RST from tern
        self.arp_replies = 0
        self.frames_in = 0
        self.stop = False
        self.tmpl = self._template()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _template(self):
        from scapy.all import IP, TCP, Ether  # slow import: only here
        return bytes(Ether(src=HOSTILE_MAC, dst=self.tern_mac) / IP(src=HOSTILE_IP, dst=self.tern_ip, ttl=64) /
                     TCP(sport=1024, dport=self.port, flags="A", window=65535))

    def frame(self, sport, seq, ack, flags, payload=b"", options=b""):
        """A copy of the scapy template with ports, numbers, flags, options, payload and checksums set."""
        f = bytearray(self.tmpl[:34])
        hlen = 20 + len(options)
        tcp = bytearray(struct.pack("!HHIIBBHHH", sport, self.port, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                                    (hlen // 4) << 4, flags, 65535, 0, 0)) + options + payload
        struct.pack_into("!H", f, 16, 20 + len(tcp))
        struct.pack_into("!H", f, 18, random.getrandbits(16))
        struct.pack_into("!H", f, 24, 0)
        struct.pack_into("!H", f, 24, csum16(f[14:34]))
        pseudo = ip_bytes(HOSTILE_IP) + ip_bytes(self.tern_ip) + struct.pack("!BBH", 0, 6, len(tcp))
        struct.pack_into("!H", tcp, 16, csum16(pseudo + tcp))
        return bytes(f + tcp)

    def check_builder(self):
        """The first frame built must be what scapy makes of the same segment."""
        from scapy.all import IP, TCP, Ether
        mine = self.frame(4242, 1000, 2000, 0x18, b"x")
        ip_id = struct.unpack("!H", mine[18:20])[0]
        ref = bytes(Ether(src=HOSTILE_MAC, dst=self.tern_mac) /
                    IP(src=HOSTILE_IP, dst=self.tern_ip, ttl=64, id=ip_id) /
                    TCP(sport=4242, dport=self.port, flags="PA", seq=1000, ack=2000, window=65535) / b"x")
        return mine == ref

    def send_all(self, frames, rate=RATE):
        t0 = time.monotonic()
        for i, f in enumerate(frames):
            self.sock.send(f)
            if i % 64 == 63:
                ahead = t0 + (i + 1) / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)

    def _arp_reply(self, req):
        # RFC 826: our MAC for the address asked about, to the asker.
        tpa = req[38:42]
        rep = (req[6:12] + HOSTILE_MAC + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) +
               HOSTILE_MAC + tpa + req[22:28] + req[28:32])
        self.sock.send(rep)
        self.arp_replies += 1

    def _read(self):
        hostile = ip_bytes(HOSTILE_IP)
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                b = self.sock.recv(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(b) < 42 or b[6:12] != self.tern_mac:
                continue
            self.frames_in += 1
            etype = b[12:14]
            if etype == b"\x08\x06":
                if struct.unpack("!H", b[20:22])[0] == 1 and b[38:42] == hostile:
                    self._arp_reply(b)
                continue
            if etype == b"\x08\x00":
                self.ipv4_from_tern(b)

    def ipv4_from_tern(self, b):
        """An IPv4 frame tern sent (any destination: the tap is promiscuous); subclasses see them all."""
        if b[23] != 6 or b[30:34] != ip_bytes(HOSTILE_IP):
            return
        t = 14 + (b[14] & 0x0F) * 4
        if len(b) < t + 20:
            return
        sport, dport, seq, ack, _, flags = struct.unpack("!HHIIBB", b[t:t + 14])
        if sport != self.port:
            return
        with self.lock:
            if flags & 0x12 == 0x12:
                self.synack[dport] = seq
            if flags & 0x04:
                self.rst_seen[dport] = time.monotonic()
            elif flags & 0x10:
                prev = self.last_ack.get(dport)
                if prev is None or ((ack - prev) & 0xFFFFFFFF) < 0x80000000:
                    self.last_ack[dport] = ack

    def open(self, ports, rng):
        """Three-way handshakes from every port; returns {port: (our next seq, tern's ISN)}."""
        mss = struct.pack("!BBH", 2, 4, 1460)
        isn = {p: rng.getrandbits(32) for p in ports}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            missing = [p for p in ports if p not in self.synack]
            if not missing:
                break
            for p in missing:
                self.sock.send(self.frame(p, isn[p], 0, 0x02, options=mss))
            time.sleep(0.5)
        conns = {}
        for p in ports:
            if p in self.synack:
                conns[p] = ((isn[p] + 1) & 0xFFFFFFFF, (self.synack[p] + 1) & 0xFFFFFFFF)
                self.sock.send(self.frame(p, conns[p][0], conns[p][1], 0x10))
        return conns

    def wait_ack(self, port, want, limit):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            got = self.last_ack.get(port)
            if got is not None and ((got - want) & 0xFFFFFFFF) < 0x80000000:
                return got
            time.sleep(0.02)
        return self.last_ack.get(port)


def ping(ip, count, what):
    r = subprocess.run(["ping", "-c", str(count), "-i", "0.2", "-W", "1", ip], capture_output=True, text=True)
    got = sum(1 for line in r.stdout.splitlines() if "bytes from" in line)
    return say(got == count, f"{what}: {got} of {count} pings answered")


def kernel_client(ip, port, size, limit, rng):
    t0 = time.monotonic()
    data = rng.randbytes(size)
    try:
        s = socket.create_connection((ip, port), timeout=limit)
        s.settimeout(max(0.1, limit - (time.monotonic() - t0)))
        got = bytearray()
        sent = 0
        while sent < len(data):
            sent += s.send(data[sent:sent + 8192])
            while len(got) < sent:
                b = s.recv(65536)
                if not b:
                    break
                got += b
        s.shutdown(socket.SHUT_WR)
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
        s.close()
    except OSError as e:
        return say(False, f"kernel client during the pressure: {e!r} after {time.monotonic() - t0:.2f} s")
    dt = time.monotonic() - t0
    return say(bytes(got) == data and dt <= limit,
               f"kernel client during the pressure: connected, {size} bytes echoed "
               f"{'byte-exact' if bytes(got) == data else 'WRONG (%d bytes back)' % len(got)}, EOF, {dt:.2f} s "
               f"(limit {limit} s)")


def cmd_attack(iface, tern_mac, tern_ip, port, kernel_ip, seed):
    port, rng = int(port), random.Random(int(seed))
    random.seed(int(seed))
    peer = Peer(iface, tern_mac, tern_ip, port)
    failures = say(peer.check_builder(), "frames built from scapy's template equal scapy's own")

    # ---- 1. one connection: contiguous one-byte segments behind a one-byte hole
    print(f"\n== 1. one connection: a one-byte hole, then {ONE_CONN_SEGS} contiguous one-byte segments", flush=True)
    one = peer.open([40000], rng)
    if 40000 not in one:
        return say(False, "no SYN,ACK from tern for the first hostile connection")
    s0, a0 = one[40000]
    frames = [peer.frame(40000, s0 + 1 + i, a0, 0x10, bytes([0x41 + i % 26])) for i in range(ONE_CONN_SEGS)]
    t0 = time.monotonic()
    peer.send_all(frames)
    print(f"  sent {len(frames)} frames in {time.monotonic() - t0:.2f} s", flush=True)
    time.sleep(0.3)
    failures += ping(tern_ip, 3, "after the one-connection flood")
    peer.sock.send(peer.frame(40000, s0, a0, 0x18, b"!"))  # fill the hole
    want = (s0 + 1 + ONE_CONN_SEGS) & 0xFFFFFFFF
    got = peer.wait_ack(40000, want, 3.0)
    failures += say(got == want, f"hole filled: tern acknowledges every byte (ACK {got}, expected {want}, "
                                 f"{((got or 0) - s0) & 0xFFFFFFFF} of {ONE_CONN_SEGS + 1} bytes)")

    # ---- 2. many connections, in-order and gapped one-byte segments, interleaved
    print(f"\n== 2. {MANY_CONNS} connections: {IN_ORDER} in-order one-byte segments, then a hole and {GAPPED} "
          "gapped ones each, interleaved", flush=True)
    ports = list(range(40001, 40001 + MANY_CONNS))
    many = peer.open(ports, rng)
    failures += say(len(many) == MANY_CONNS, f"{len(many)} of {MANY_CONNS} hostile connections established")
    frames = []
    for i in range(IN_ORDER):
        for p, (s, a) in many.items():
            frames.append(peer.frame(p, s + i, a, 0x18, b"i"))
    for j in range(GAPPED):
        for p, (s, a) in many.items():
            frames.append(peer.frame(p, s + IN_ORDER + 1 + 2 * j, a, 0x10, b"o"))
    pinger = subprocess.Popen(["ping", "-c", "10", "-i", "0.2", "-W", "1", tern_ip], stdout=subprocess.PIPE,
                              text=True)
    t0 = time.monotonic()
    peer.send_all(frames)
    print(f"  sent {len(frames)} frames in {time.monotonic() - t0:.2f} s", flush=True)
    out = pinger.communicate()[0]
    got = sum(1 for line in out.splitlines() if "bytes from" in line)
    failures += say(got >= 9, f"during the flood: {got} of 10 pings answered")
    failures += kernel_client(tern_ip, port, 65536, 10.0, rng)
    failures += ping(tern_ip, 3, "after the flood")

    # ---- 3. reset every hostile connection, then probe: tern must answer RST (nothing left)
    print("\n== 3. RST every hostile connection at the sequence tern acknowledged last", flush=True)
    time.sleep(0.5)  # the reader has seen tern's last ACKs
    conns = dict(many)
    conns[40000] = one[40000]
    for p, (s, a) in conns.items():
        rcv_nxt = peer.last_ack.get(p, s)
        peer.sock.send(peer.frame(p, rcv_nxt, 0, 0x04))
    time.sleep(0.3)
    t_probe = time.monotonic()
    alive = []
    for attempt in range(3):
        for p, (s, a) in conns.items():
            if peer.rst_seen.get(p, 0) < t_probe:
                # An ACK far outside what tern sent: a live connection answers it with an ACK
                # (RFC 9293 §3.10.7.4), a closed port with RST (§3.10.7.1).
                peer.sock.send(peer.frame(p, peer.last_ack.get(p, s), a - 0x40000000, 0x10))
        time.sleep(0.5)
        alive = [p for p in conns if peer.rst_seen.get(p, 0) < t_probe]
        if not alive:
            break
        for p in alive:  # a challenge ACK moved RCV.NXT: reset at the new value
            peer.sock.send(peer.frame(p, peer.last_ack.get(p, conns[p][0]), 0, 0x04))
        time.sleep(0.3)
        t_probe = time.monotonic()
    failures += say(not alive, f"after the RSTs, {len(conns) - len(alive)} of {len(conns)} probes answered with RST "
                               f"(connection gone)" + (f"; still alive: {alive}" if alive else ""))
    peer.stop = True
    peer.reader.join(2)
    print(f"  (tern sent {peer.frames_in} frames to the hostile peer; {peer.arp_replies} ARP replies given)")
    return 1 if failures else 0


def cmd_counters(stdout_file, mbufs):
    mbufs = int(mbufs)
    lines = [l for l in open(stdout_file).read().splitlines() if l.startswith("{")]
    if not lines:
        return say(False, "tern-echo printed no JSON line of counters")
    d = json.loads(lines[-1])
    failures = say(d.get("mbufs_leaked") == 0, f"mbufs_leaked = {d.get('mbufs_leaked')}")
    for core in d["cores"]:
        t = core["tcp"]
        drops = t["drops"]
        keys = ("memory_used", "memory_limit", "mem_pressure", "compacted_bytes", "ooo_pruned_segs",
                "ooo_pruned_bytes", "ooo_pruned_others", "send_mem_blocked", "connections", "in_rsts", "out_rsts")
        print("  core %d tcp: %s" % (core["core"], ", ".join(f"{k} {t.get(k)}" for k in keys)))
        print("  core %d: pool_free %s pool_low %s pool_reclaimed %s buf %s; tcp drops: %s" % (
            core["core"], core.get("pool_free"), core.get("pool_low"), core.get("pool_reclaimed"), core.get("buf"),
            ", ".join(f"{k} {v}" for k, v in sorted(drops.items()) if v) or "none"))
        failures += say(t["memory_used"] == 0, f"TCP memory_used back to 0 (was limited to {t['memory_limit']})")
        failures += say(t["connections"] == 0, f"no connection left ({t['connections']})")
        pressure = t["ooo_pruned_segs"] + drops.get("no_rcv_memory", 0)
        failures += say(pressure > 0, f"memory pressure reached: {t['ooo_pruned_segs']} out-of-order segments "
                                      f"pruned, {drops.get('no_rcv_memory', 0)} segments refused for memory")
        failures += say(core["buf"]["alloc_failures"] == 0,
                        f"no mbuf allocation failed ({core['buf']['alloc_failures']})")
        idle = mbufs - 1024 - 1024 - 256 - 64  # what the RX ring, the TX ring and the cache may hold
        failures += say(core["pool_free"] >= idle, f"pool back at its idle level: {core['pool_free']} of {mbufs} "
                                                  f"mbufs free (at least {idle})")
    return 1 if failures else 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "attack" and len(sys.argv) == 8:
        return cmd_attack(*sys.argv[2:])
    if len(sys.argv) >= 2 and sys.argv[1] == "counters" and len(sys.argv) == 4:
        return cmd_counters(*sys.argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
