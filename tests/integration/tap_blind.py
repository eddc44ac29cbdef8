#!/usr/bin/python3
"""Blind (off-path) attacks on shared state, for integration-tap_blind (run inside the test's namespace).

usage: tap_blind.py sidechannel IFACE TERN_MAC TERN_IP PORT KERNEL_IP KERNEL_MAC
       tap_blind.py flap        IFACE TERN_MAC TERN_IP PORT KERNEL_IP KERNEL_MAC NEW_MAC
       tap_blind.py counters    TERN_STDOUT

sidechannel: the challenge-ACK side channel of CVE-2016-5696, as the attacker runs it. A victim
  connection from the kernel (KERNEL_IP) to tern-echo stays open. The attacker, 198.18.0.10 (a
  packet socket; it answers tern's ARP itself), holds a connection of its own. Each trial spoofs
  600 RSTs at the victim, from the kernel's address and port, either inside tern's receive window
  (each would earn a challenge ACK) or far outside it (dropped), then at once sends 600 SYNs on its
  own connection (each would earn a challenge ACK, RFC 5961 section 4.2) and counts the challenge
  ACKs it gets. With one budget of 1,000 per second the in-window trials count 400, the others
  600. tern must give the same count in every trial, and the victim must still echo byte-exact.
flap: MAC flapping. While the kernel client moves 2 MB after 2 MB through tern-echo, unsolicited ARP replies
  and gratuitous ARPs claim KERNEL_IP for a made-up MAC, alternating with the real one, every 10 ms
  for 2.5 s. tern (lock time 60 s in this test's config) must not send one frame to the made-up MAC
  and the transfer must finish byte-exact. Then the kernel's interface really changes its MAC to
  NEW_MAC: tern must find it by asking (stale entry, unicast polls, a broadcast last) and a new
  64 KiB echo must finish within 15 s, tern's frames now going to NEW_MAC.
counters: the JSON tern-echo printed at SIGTERM: ARP updates were locked out and one MAC change
  was taken, challenge ACKs were limited per connection, no mbuf leaked.
Exit status 0 when everything passed.
"""
import json
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap_pressure import HOSTILE_IP, Peer, csum16, ip_bytes, say  # noqa: E402

FAKE_MAC = bytes.fromhex("02deadbeef01")
TRIALS = 6
SPOOFS = 600
TRIGGERS = 600


def mac_bytes(text):
    return bytes.fromhex(text.replace(":", ""))


def tcp_frame(src_mac, dst_mac, src_ip, dst_ip, sport, dport, seq, ack, flags, window=65535):
    tcp = bytearray(struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags,
                                window, 0, 0))
    pseudo = ip_bytes(src_ip) + ip_bytes(dst_ip) + struct.pack("!BBH", 0, 6, len(tcp))
    struct.pack_into("!H", tcp, 16, csum16(pseudo + tcp))
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0x4000, 64, 6, 0,
                               ip_bytes(src_ip), ip_bytes(dst_ip)))
    struct.pack_into("!H", ip, 10, csum16(ip))
    return dst_mac + src_mac + b"\x08\x00" + bytes(ip) + bytes(tcp)


def arp_frame(eth_dst, op, sha, spa, tha, tpa):
    return (eth_dst + sha + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + ip_bytes(spa) + tha +
            ip_bytes(tpa))


class Watcher(Peer):
    """The attacker's packet socket; also watches everything tern sends (the tap is promiscuous)."""

    def __init__(self, iface, tern_mac, tern_ip, port, kernel_ip):
        self.kernel_ip = ip_bytes(kernel_ip)
        self.by_dst_mac = {}  # IPv4 frames tern sent, by destination MAC
        self.victim_port = None
        self.victim_ack = None  # tern's last ACK on the victim connection (its RCV.NXT)
        self.own_acks = []  # (time, flags) of segments tern sent to the attacker's port
        super().__init__(iface, tern_mac, tern_ip, port)

    def ipv4_from_tern(self, b):
        with self.lock:
            self.by_dst_mac[b[0:6]] = self.by_dst_mac.get(b[0:6], 0) + 1
        super().ipv4_from_tern(b)  # the attacker's own connections (SYN,ACKs, ACKs)
        if b[23] != 6:
            return
        t = 14 + (b[14] & 0x0F) * 4
        if len(b) < t + 20:
            return
        sport, dport, _, ack, _, flags = struct.unpack("!HHIIBB", b[t:t + 14])
        if sport != self.port:
            return
        with self.lock:
            if b[30:34] == ip_bytes(HOSTILE_IP):
                self.own_acks.append((time.monotonic(), dport, flags))
            elif b[30:34] == self.kernel_ip and dport == self.victim_port and flags & 0x10:
                self.victim_ack = ack


def echo(ip, port, data, limit, what, quiet=False):
    t0 = time.monotonic()
    try:
        s = socket.create_connection((ip, port), timeout=limit)
        s.settimeout(limit)
        got = bytearray()
        sent = 0
        while sent < len(data):
            sent += s.send(data[sent:sent + 16384])
            while len(got) < sent - 262144 or (sent == len(data) and len(got) < sent):
                b = s.recv(65536)
                if not b:
                    break
                got += b
        s.close()
    except OSError as e:
        return say(False, f"{what}: {e!r} after {time.monotonic() - t0:.2f} s")
    dt = time.monotonic() - t0
    if quiet and bytes(got) == data and dt <= limit:
        return 0
    return say(bytes(got) == data and dt <= limit, f"{what}: {len(data)} bytes echoed "
               f"{'byte-exact' if bytes(got) == data else 'WRONG'} in {dt:.2f} s (limit {limit} s)")


def cmd_sidechannel(iface, tern_mac, tern_ip, port, kernel_ip, kernel_mac):
    port = int(port)
    rng = random.Random(14)
    w = Watcher(iface, tern_mac, tern_ip, port, kernel_ip)
    kmac = mac_bytes(kernel_mac)
    failures = 0
    # The victim: an ordinary kernel connection, idle between its exchanges.
    victim = socket.create_connection((tern_ip, port), timeout=5)
    w.victim_port = victim.getsockname()[1]
    victim.sendall(b"v" * 100)
    got = b""
    while len(got) < 100:
        got += victim.recv(100)
    time.sleep(0.2)
    if w.victim_ack is None:
        return say(False, "saw no ACK from tern on the victim connection")
    rcv_nxt = w.victim_ack
    # The attacker's own connection.
    own = w.open([41000], rng)
    if 41000 not in own:
        return say(False, "no SYN,ACK from tern for the attacker's own connection")
    own_seq, _ = own[41000]
    print(f"  victim {kernel_ip}:{w.victim_port} (tern's RCV.NXT {rcv_nxt}); attacker {HOSTILE_IP}:41000", flush=True)
    counts = {True: [], False: []}
    for trial in range(TRIALS):
        hit = trial % 2 == 0
        time.sleep(1.1)  # past the per-connection interval (500 ms) since the last trial
        spoofs = [tcp_frame(kmac, w.tern_mac, kernel_ip, tern_ip, w.victim_port, port,
                            (rcv_nxt + 1 + i) if hit else (rcv_nxt + (1 << 30) + i), 0, 0x04)
                  for i in range(SPOOFS)]
        triggers = [w.frame(41000, own_seq, 0, 0x02) for _ in range(TRIGGERS)]
        t0 = time.monotonic()
        w.send_all(spoofs + triggers)
        time.sleep(0.3)
        with w.lock:
            n = sum(1 for (t, dport, flags) in w.own_acks if t >= t0 and dport == 41000 and flags == 0x10)
        counts[hit].append(n)
        print(f"  trial {trial}: {SPOOFS} RSTs {'inside' if hit else 'outside'} the victim's window, "
              f"{TRIGGERS} SYNs on our own connection: {n} challenge ACKs back", flush=True)
    failures += say(sorted(counts[True]) == sorted(counts[False]) and len(set(counts[True] + counts[False])) == 1,
                    f"the attacker's counts are the same whether its RSTs hit the window or not "
                    f"(inside {counts[True]}, outside {counts[False]})")
    failures += say(max(counts[True] + counts[False]) <= 1, "one challenge ACK per connection per 500 ms")
    # The victim survived every in-window RST and still works.
    try:
        data = bytes(rng.getrandbits(8) for _ in range(1000))
        victim.sendall(data)
        got = b""
        while len(got) < len(data):
            b = victim.recv(65536)
            if not b:
                break
            got += b
        victim.close()
        failures += say(got == data, "the victim connection still echoes byte-exact")
    except OSError as e:
        failures += say(False, f"the victim connection: {e!r}")
    w.sock.send(w.frame(41000, own_seq, 0, 0x04))  # reset our own connection (exact RCV.NXT)
    w.stop = True
    return 1 if failures else 0


def cmd_flap(iface, tern_mac, tern_ip, port, kernel_ip, kernel_mac, new_mac):
    port = int(port)
    w = Watcher(iface, tern_mac, tern_ip, port, kernel_ip)
    kmac = mac_bytes(kernel_mac)
    failures = 0
    stop = threading.Event()
    sent_forged = [0]

    def flapper():
        # Every 10 ms: an unsolicited reply to tern, or a gratuitous ARP, naming the kernel's address,
        # for the made-up MAC and for the real one in turn.
        i = 0
        end = time.monotonic() + 2.5
        while not stop.is_set() and time.monotonic() < end:
            sha = FAKE_MAC if i % 2 == 0 else kmac
            if i % 4 < 2:
                f = arp_frame(w.tern_mac, 2, sha, kernel_ip, w.tern_mac, tern_ip)
            else:
                f = arp_frame(b"\xff" * 6, 1, sha, kernel_ip, b"\0" * 6, kernel_ip)
            w.sock.send(f)
            sent_forged[0] += sha == FAKE_MAC
            i += 1
            time.sleep(0.01)

    th = threading.Thread(target=flapper, daemon=True)
    th.start()
    data = random.Random(7).randbytes(2 << 20)
    rounds, t0 = 0, time.monotonic()
    while th.is_alive() or rounds == 0:  # transfers for as long as the flapping lasts
        rounds += 1
        if echo(tern_ip, port, data, 20, f"2 MB through tern-echo while the MAC flaps (round {rounds})", True):
            failures += 1
            break
    else:
        say(True, f"{rounds} x 2 MB echoed byte-exact through tern-echo while the MAC flapped "
                  f"({time.monotonic() - t0:.2f} s)")
    th.join()
    time.sleep(0.2)
    with w.lock:
        fake, real = w.by_dst_mac.get(FAKE_MAC, 0), w.by_dst_mac.get(kmac, 0)
    failures += say(sent_forged[0] > 100 and fake == 0 and real > 0,
                    f"{sent_forged[0]} forged ARP packets: tern sent {fake} frames to the made-up MAC, "
                    f"{real} to the confirmed one")
    # A genuine change: the kernel's interface takes a new MAC. tern finds it by asking.
    nmac = mac_bytes(new_mac)
    subprocess.run(["ip", "link", "set", iface, "address", new_mac], check=True)
    t0 = time.monotonic()
    failures += echo(tern_ip, port, random.Random(8).randbytes(65536), 15,
                     "after the kernel's MAC really changed, 64 KiB through tern-echo")
    with w.lock:
        to_new = w.by_dst_mac.get(nmac, 0)
    failures += say(to_new > 0, f"tern sends to the new MAC ({to_new} frames, {time.monotonic() - t0:.2f} s "
                                "after the change, inside its 60 s lock time: it answered tern's broadcast)")
    w.stop = True
    return 1 if failures else 0


def cmd_counters(stdout_file):
    lines = [line for line in open(stdout_file).read().splitlines() if line.startswith("{")]
    if not lines:
        return say(False, "tern-echo printed no JSON line of counters")
    d = json.loads(lines[-1])
    failures = say(d.get("mbufs_leaked") == 0, f"mbufs_leaked = {d.get('mbufs_leaked')}")
    locked = changes = conn_limited = 0
    for core in d["cores"]:
        for i in core.get("interfaces", []):
            locked += i["arp"]["updates_locked"]
            changes += i["arp"]["mac_changes"]
        conn_limited += core["tcp"]["challenge_acks_conn_limited"]
    failures += say(locked > 100, f"ARP updates ignored within the lock time: {locked}")
    failures += say(changes >= 1, f"MAC changes taken: {changes} (the genuine one)")
    failures += say(conn_limited > 0, f"challenge ACKs limited per connection: {conn_limited}")
    return 1 if failures else 0


def main():
    if len(sys.argv) == 8 and sys.argv[1] == "sidechannel":
        return cmd_sidechannel(*sys.argv[2:])
    if len(sys.argv) == 9 and sys.argv[1] == "flap":
        return cmd_flap(*sys.argv[2:])
    if len(sys.argv) == 3 and sys.argv[1] == "counters":
        return cmd_counters(sys.argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
