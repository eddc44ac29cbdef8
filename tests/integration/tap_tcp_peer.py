#!/usr/bin/python3
"""Kernel TCP peers for integration-tap_tcp_interop (run inside the test's namespace).

usage: tap_tcp_peer.py stream    TERN_IP PORT BYTES SEED
       tap_tcp_peer.py many      TERN_IP PORT CONNECTIONS BYTES SEED
       tap_tcp_peer.py server    PORT MESSAGE_SIZE RESULTS_FILE
       tap_tcp_peer.py client-result CLIENT_STDOUT RESULTS_FILE MIN_BYTES
       tap_tcp_peer.py keepalive TERN_IP PORT IFACE TERN_STDERR IDLE INTERVAL COUNT LIMIT_S
       tap_tcp_peer.py counters  TERN_STDOUT [NAME>=N ...]
       tap_tcp_peer.py synburst  IFACE TERN_MAC PEER_MAC TERN_IP PORT COUNT SEED LIMIT_S RATE

stream: one connection to tern's echo server; BYTES of seeded random data go out while a
  thread reads the echo. sha256(sent) must equal sha256(received); after shutdown(SHUT_WR)
  the echo side must end in EOF (tern closes once it has echoed everything).
many: CONNECTIONS connections are opened (all established before any data flows), then
  each sends BYTES of its own random data and reads them back (selectors, one thread);
  every byte is compared, and each connection must end in EOF after its SHUT_WR.
server: the kernel echo server for tern's client mode (--connect). Every connection is
  echoed; what it received is hashed, and compared with the bytes tern-echo's client sends
  on its connection 0 (pattern_byte() in apps/echo/echo.cpp: message after message,
  txn = 0, 1, ...). One JSON line per connection is appended to RESULTS_FILE when it
  ends, or at SIGTERM for those still open. Runs until SIGTERM.
client-result: checks tern-echo's client JSON line (CLIENT_STDOUT) and the server's
  RESULTS_FILE: errors, verify_errors, connect_failures and mbufs_leaked all 0,
  bytes_verified >= MIN_BYTES, and the kernel's sha256 of the received stream equal to
  the sha256 of tern's pattern of the same length.
keepalive: connect, echo 1 KiB, then take IFACE down (the kernel peer vanishes, tern's
  probes go unanswered) and watch TERN_STDERR for tern-echo's line "connection from
  IP:PORT failed: timed_out (keepalive...)" for this connection. It must come after at
  least IDLE seconds and within LIMIT_S seconds of the link going down
  (IDLE + COUNT * INTERVAL plus slack). Prints the measured time.
counters: the JSON line tern-echo printed at exit (Stack::stats_json): prints its TCP
  counters (summed over cores), checks mbufs_leaked == 0 and each NAME>=N given (if.NAME: an
  interface counter such as if.tso_frames, summed over cores and ports), NAME a
  counter of "tcp" (e.g. passive_opens>=501, syncookies_sent>=1).
synburst: COUNT SYNs built with scapy (random sources in 198.19.100.0/24, off-link,
  which nothing in the namespace answers: tern sends its SYN,ACKs via the gateway, the
  kernel, which does not forward and drops them) go out on IFACE at RATE frames/s. Once a
  fifth of them is out, a kernel client connects from the peer address, echoes 1 KiB and
  must see EOF after SHUT_WR, all within LIMIT_S seconds while the burst goes on.
Exit status 0 when everything passed.
"""
import hashlib
import json
import os
import random
import re
import resource
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time

CHUNK = 1 << 20


def say(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what, flush=True)
    return 0 if ok else 1


# ---- stream: one big transfer, sha256 both ways ----

def cmd_stream(tern_ip, port, size, seed):
    size, seed = int(size), int(seed)
    data = random.Random(seed).randbytes(size)
    want = hashlib.sha256(data).hexdigest()
    s = socket.create_connection((tern_ip, int(port)), timeout=10)
    s.settimeout(30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    got = hashlib.sha256()
    state = {"n": 0, "eof": False, "err": None}

    def reader():
        try:
            while True:
                b = s.recv(CHUNK)
                if not b:
                    state["eof"] = True
                    return
                got.update(b)
                state["n"] += len(b)
        except OSError as e:
            state["err"] = e

    t = threading.Thread(target=reader, daemon=True)
    t0 = time.monotonic()
    t.start()
    send_err = None
    try:
        mv = memoryview(data)
        for off in range(0, size, CHUNK):
            s.sendall(mv[off:off + CHUNK])
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        send_err = e
    t.join(60)
    dt = time.monotonic() - t0
    s.close()
    have = got.hexdigest()
    failures = 0
    if send_err:
        failures += say(False, f"sending failed: {send_err!r}")
    if state["err"]:
        failures += say(False, f"receiving failed after {state['n']} bytes: {state['err']!r}")
    failures += say(state["n"] == size and have == want,
                    f"{size} bytes (seed {seed}) echoed in {dt:.2f} s ({size / dt / 1e6:.1f} MB/s each way): "
                    f"received {state['n']}, sha256 sent {want[:16]} received {have[:16]}")
    failures += say(state["eof"], "EOF after SHUT_WR: tern closed once it had echoed everything"
                    if state["eof"] else "no EOF from tern after SHUT_WR")
    return 1 if failures else 0


# ---- many: N concurrent connections ----

def cmd_many(tern_ip, port, conns, size, seed):
    conns, size, seed, port = int(conns), int(size), int(seed), int(port)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < conns + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, conns + 256), hard))
    rng = random.Random(seed)
    sel = selectors.DefaultSelector()
    socks = []
    t0 = time.monotonic()
    for i in range(conns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((tern_ip, port))
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE, i)
    up, refused = set(), {}
    deadline = time.monotonic() + 20
    while len(up) + len(refused) < conns and time.monotonic() < deadline:
        for key, _ in sel.select(0.5):
            i = key.data
            err = socks[i].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            sel.unregister(socks[i])
            if err:
                refused[i] = os.strerror(err)
            else:
                up.add(i)
    t_up = time.monotonic() - t0
    failures = say(len(up) == conns, f"{len(up)} of {conns} connections established in {t_up:.2f} s, before any "
                   f"data flows ({len(refused)} failed{': ' + next(iter(refused.values())) if refused else ''}, "
                   f"{conns - len(up) - len(refused)} pending)")
    if len(up) != conns:
        for s in socks:
            s.close()
        return 1

    data = [rng.randbytes(size) for _ in range(conns)]
    sent = [0] * conns
    got = [0] * conns
    bad = set()
    eof = set()
    errs = {}
    for i, s in enumerate(socks):
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, i)
    t1 = time.monotonic()
    deadline = t1 + 40
    open_n = conns
    while open_n and time.monotonic() < deadline:
        for key, ev in sel.select(0.5):
            i, s = key.data, key.fileobj
            try:
                if ev & selectors.EVENT_WRITE and sent[i] < size:
                    sent[i] += s.send(data[i][sent[i]:sent[i] + 65536])
                    if sent[i] == size:
                        s.shutdown(socket.SHUT_WR)
                        sel.modify(s, selectors.EVENT_READ, i)
                if ev & selectors.EVENT_READ:
                    b = s.recv(65536)
                    if not b:
                        eof.add(i)
                        sel.unregister(s)
                        open_n -= 1
                    elif b != data[i][got[i]:got[i] + len(b)]:
                        bad.add(i)
                        got[i] += len(b)
                        sel.unregister(s)
                        open_n -= 1
                    else:
                        got[i] += len(b)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as e:
                errs[i] = repr(e)
                sel.unregister(s)
                open_n -= 1
    dt = time.monotonic() - t1
    exact = sum(1 for i in range(conns) if got[i] == size and i not in bad and i in eof)
    short = [i for i in range(conns) if got[i] != size and i not in bad]
    total = sum(got)
    failures += say(exact == conns,
                    f"{exact} of {conns} connections echoed their {size} bytes byte-exact and ended in EOF "
                    f"({total} bytes back in {dt:.2f} s, {total / max(dt, 1e-9) / 1e6:.1f} MB/s): "
                    f"{len(bad)} mismatched, {len(short)} short, {len(errs)} errors, {conns - len(eof)} without EOF")
    for i in short[:5]:
        print(f"        connection #{i} (local port {socks[i].getsockname()[1]}): sent {sent[i]}, got {got[i]}")
    for i, e in list(errs.items())[:5]:
        print(f"        connection #{i}: {e}")
    for s in socks:
        s.close()
    return 1 if failures else 0


# ---- server: kernel echo server for tern's client mode ----

# tern-echo's client payload (apps/echo/echo.cpp pattern_byte):
#   byte(conn, txn, off) = conn*131 + txn*17 + off*7 + (off >> 8)  (mod 256)
# For off = 256*b + i that is K + b + 7*i with K = conn*131 + txn*17, so a message is a
# 65,536-byte period of 256 shifted copies of the block 7*i.
_BLOCK = bytes((7 * i) & 0xFF for i in range(256))
_SHIFT = [bytes((x + k) & 0xFF for x in range(256)) for k in range(256)]


def tern_message(conn, txn, size):
    k = (conn * 131 + txn * 17) & 0xFF
    period = b"".join(_BLOCK.translate(_SHIFT[(k + b) & 0xFF]) for b in range(256))
    return (period * (size // len(period) + 1))[:size]


def tern_stream_sha256(conn, msg_size, n):
    h = hashlib.sha256()
    txn = 0
    while n > 0:
        m = tern_message(conn, txn, msg_size)
        h.update(m[:n])
        n -= min(n, msg_size)
        txn += 1
    return h.hexdigest()


def cmd_server(port, msg_size, results):
    msg_size = int(msg_size)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", int(port)))
    ls.listen(16)
    # Reentrant: the SIGTERM handler runs in the main thread, which may hold it.
    lock = threading.RLock()
    conns = {}  # peer -> state; "done" once its line is written

    def report(st, err):
        with lock:  # held throughout, so SIGTERM waits for a report being written
            if st["done"]:
                return
            n = st["n"]
            r = {"peer": st["peer"], "bytes": n, "seconds": round(time.monotonic() - st["t0"], 3),
                 "sha256": st["h"].hexdigest(), "tern_pattern_sha256": tern_stream_sha256(0, msg_size, n),
                 "error": err}
            with open(results, "a") as f:
                f.write(json.dumps(r) + "\n")
            st["done"] = True

    def on_term(*_):
        # A connection still open (tern-echo exited with an echo in flight): report what it got.
        for st in list(conns.values()):
            report(st, "still open when the server was stopped")
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)

    def serve(c, st):
        err = None
        try:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            c.settimeout(30)
            while True:
                b = c.recv(CHUNK)
                if not b:
                    break
                with lock:
                    st["h"].update(b)
                    st["n"] += len(b)
                c.sendall(b)
            c.shutdown(socket.SHUT_WR)
        except OSError as e:
            err = repr(e)
        c.close()
        report(st, err)

    print(f"  kernel echo server listening on port {port}", flush=True)
    while True:
        c, peer = ls.accept()
        st = {"peer": f"{peer[0]}:{peer[1]}", "n": 0, "h": hashlib.sha256(), "t0": time.monotonic(), "done": False}
        with lock:
            conns[st["peer"]] = st
        threading.Thread(target=serve, args=(c, st), daemon=True).start()


def cmd_client_result(client_stdout, results, min_bytes):
    min_bytes = int(min_bytes)
    failures = 0
    lines = [l for l in open(client_stdout).read().splitlines() if l.startswith("{")]
    if not lines:
        return say(False, "tern-echo's client printed no JSON line")
    d = json.loads(lines[-1])
    tcp = d.get("stack", {}).get("cores", [{}])[0].get("tcp", {})
    print(f"  client: {d.get('transactions')} transactions of {d.get('message_size')} bytes in "
          f"{d.get('seconds', 0):.2f} s, latency p50 {d.get('latency_us', {}).get('p50')} us, "
          f"bytes_verified {d.get('bytes_verified')}; tcp active_opens {tcp.get('active_opens')} "
          f"retrans_segs {tcp.get('retrans_segs')} rto_timeouts {tcp.get('rto_timeouts')}")
    for k in ("errors", "verify_errors", "connect_failures", "mbufs_leaked"):
        failures += say(d.get(k) == 0, f"client {k} = {d.get(k)}")
    failures += say((d.get("bytes_verified") or 0) >= min_bytes,
                    f"bytes_verified = {d.get('bytes_verified')} >= {min_bytes} (each byte compared by tern)")
    rs = [json.loads(l) for l in open(results).read().splitlines() if l.strip()] if os.path.exists(results) else []
    if len(rs) != 1:
        return 1 + say(False, f"the kernel server reported {len(rs)} connection(s), expected 1")
    r = rs[0]
    if r["error"]:
        # At the end of --duration tern-echo's client close()s with an echo in flight: what
        # arrives after close draws a reset (RFC 1122 §4.2.2.13), or tern-echo is gone first.
        print(f"  note: the kernel server's connection from {r['peer']}: {r['error']} "
              f"(tern-echo's client closes at the end of --duration with an echo in flight)")
    failures += say(r["bytes"] >= min_bytes and r["sha256"] == r["tern_pattern_sha256"],
                    f"kernel server received {r['bytes']} bytes in {r['seconds']} s, sha256 {r['sha256'][:16]} == "
                    f"sha256 of tern's pattern {r['tern_pattern_sha256'][:16]}")
    return 1 if failures else 0


# ---- counters: tern-echo's JSON at exit ----

TCP_SHOWN = ("active_opens", "passive_opens", "attempt_fails", "estab_resets", "in_segs", "out_segs", "retrans_segs",
             "rto_timeouts", "fast_retransmits", "in_rsts", "out_rsts", "ooo_segs", "dup_segs", "syncookies_sent",
             "syncookies_validated", "syncookies_failed", "keepalive_probes", "keepalive_drops")


def cmd_counters(stdout_file, *reqs):
    lines = [l for l in open(stdout_file).read().splitlines() if l.startswith("{")]
    if not lines:
        return say(False, "tern-echo printed no JSON line of counters")
    try:
        d = json.loads(lines[-1])
    except ValueError as e:
        return say(False, f"the JSON line does not parse: {e}")
    tcp, drops = {}, {}
    for core in d["cores"]:
        for k, v in core["tcp"].items():
            if isinstance(v, int):
                tcp[k] = tcp.get(k, 0) + v
        for k, v in core["tcp"]["drops"].items():
            drops[k] = drops.get(k, 0) + v
    print("  tcp: " + ", ".join(f"{k} {tcp.get(k, 0)}" for k in TCP_SHOWN))
    print("  tcp drops: " + (", ".join(f"{k} {v}" for k, v in sorted(drops.items()) if v) or "none"))
    failures = say(d.get("mbufs_leaked") == 0, f"mbufs_leaked = {d.get('mbufs_leaked')}")
    ifaces = {}  # interface counters (offloads), summed over cores and ports: "if.NAME>=N"
    for core in d["cores"]:
        for i in core.get("interfaces", []):
            for k, v in i.items():
                if isinstance(v, int):
                    ifaces[k] = ifaces.get(k, 0) + v
    for req in reqs:
        name, n = req.split(">=")
        if name.startswith("if."):
            v = ifaces.get(name[3:], 0)
            failures += say(v >= int(n), f"interface {name[3:]} = {v} >= {n}")
            continue
        failures += say(tcp.get(name, 0) >= int(n), f"tcp {name} = {tcp.get(name, 0)} >= {n}")
    return 1 if failures else 0


# ---- keepalive: the kernel peer vanishes ----

def cmd_keepalive(tern_ip, port, iface, tern_stderr, idle, interval, count, limit):
    idle, interval, count, limit = float(idle), float(interval), int(count), float(limit)
    failures = 0
    s = socket.create_connection((tern_ip, int(port)), timeout=5)
    lport = s.getsockname()[1]
    msg = os.urandom(1024)
    s.sendall(msg)
    back = b""
    while len(back) < len(msg):
        b = s.recv(4096)
        if not b:
            break
        back += b
    failures += say(back == msg, f"1 KiB echoed on connection {s.getsockname()[0]}:{lport} before the link goes down")
    t_down = time.monotonic()
    subprocess.run(["ip", "link", "set", iface, "down"], check=True)
    pat = re.compile(rf"connection from [0-9.]+:{lport} failed: (\S+) \((.*)\)")
    line = None
    while time.monotonic() - t_down < limit + 2:
        with open(tern_stderr, errors="replace") as f:
            for l in f:
                if pat.search(l):
                    line = l.strip()
        if line:
            break
        time.sleep(0.02)
    dt = time.monotonic() - t_down
    nominal = idle + count * interval
    if line is None:
        failures += say(False, f"no failure line for port {lport} from tern-echo within {limit + 2:.1f} s of "
                        f"the link going down (idle + count x interval = {nominal:.2f} s)")
    else:
        m = pat.search(line)
        print(f"  | {line}")
        failures += say(m.group(1) == "timed_out" and "keepalive" in m.group(2),
                        f"tern reports '{m.group(1)}' with reason '{m.group(2)}'")
        # The last segment tern received (the ACK of its echo) came just before the link went down, so
        # the verdict is due at about idle + count x interval from here: never much earlier, and later
        # only by scheduling delays (limit).
        low = nominal - 0.3
        failures += say(low <= dt <= limit,
                        f"reported {dt:.2f} s after the link went down (idle + count x interval = {nominal:.2f} s; "
                        f"accepted {low:.2f}..{limit:.2f} s)")
    s.close()
    return 1 if failures else 0


def csum16(data):
    if len(data) % 2:
        data = bytes(data) + b"\0"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


# ---- synburst: a SYN flood, and a legitimate client during it ----

def cmd_synburst(iface, tern_mac, peer_mac, tern_ip, port, count, seed, limit, rate):
    count, port, limit, rate = int(count), int(port), float(limit), float(rate)
    from scapy.all import IP, TCP, Ether, conf  # slow import: only here
    rng = random.Random(int(seed))
    # One SYN built by scapy; the copies differ in source address, IP id, source port and
    # sequence number, with both checksums recomputed (scapy per frame would take ~30 s).
    tmpl = bytes(Ether(src=peer_mac, dst=tern_mac) / IP(src="198.19.100.1", dst=tern_ip, ttl=64) /
                 TCP(sport=1024, dport=port, flags="S", window=64240,
                     options=[("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]))
    ihl = (tmpl[14] & 0x0F) * 4
    ip0, tcp0 = 14, 14 + ihl
    frames = []
    for _ in range(count):
        f = bytearray(tmpl)
        f[ip0 + 4:ip0 + 6] = rng.getrandbits(16).to_bytes(2, "big")
        f[ip0 + 15] = rng.randint(1, 254)
        f[ip0 + 10:ip0 + 12] = b"\0\0"
        f[ip0 + 10:ip0 + 12] = csum16(f[ip0:tcp0]).to_bytes(2, "big")
        f[tcp0:tcp0 + 2] = rng.randint(1024, 65535).to_bytes(2, "big")
        f[tcp0 + 4:tcp0 + 8] = rng.getrandbits(32).to_bytes(4, "big")
        f[tcp0 + 16:tcp0 + 18] = b"\0\0"
        seg = bytes(f[tcp0:])
        pseudo = bytes(f[ip0 + 12:ip0 + 20]) + bytes([0, 6]) + len(seg).to_bytes(2, "big")
        f[tcp0 + 16:tcp0 + 18] = csum16(pseudo + seg).to_bytes(2, "big")
        frames.append(bytes(f))
    if count:  # the first copy must be what scapy itself makes of it
        chk = Ether(frames[0])
        ref = bytes(Ether(src=peer_mac, dst=tern_mac) /
                    IP(src=chk[IP].src, dst=tern_ip, ttl=64, id=chk[IP].id) /
                    TCP(sport=chk[TCP].sport, dport=port, flags="S", seq=chk[TCP].seq, window=64240,
                        options=[("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]))
        if ref != frames[0]:
            return say(False, "internal: the patched SYN differs from scapy's")
    sock = conf.L2socket(iface=iface)
    state = {"sent": 0, "t_end": None, "err": None}
    start_client = threading.Event()

    def burst():
        try:
            for i, f in enumerate(frames):
                sock.send(f)
                state["sent"] = i + 1
                if i % 50 == 49:  # paced: the tap's queue (txqueuelen 1000) must not overflow
                    ahead = t0 + (i + 1) / rate - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)
                if i + 1 == count // 5:
                    start_client.set()
        except OSError as e:
            state["err"] = e
        state["t_end"] = time.monotonic()
        start_client.set()

    t0 = time.monotonic()
    th = threading.Thread(target=burst, daemon=True)
    th.start()
    start_client.wait()
    c_start, sent_at_start = time.monotonic(), state["sent"]
    result, err, sent_at_up, phase, lport = None, None, None, "connect", None
    try:
        s = socket.create_connection((tern_ip, port), timeout=limit)
        sent_at_up = state["sent"]
        lport = s.getsockname()[1]
        t_up = time.monotonic() - c_start
        s.settimeout(max(0.1, limit - (time.monotonic() - c_start)))
        msg = os.urandom(1024)
        phase = "send"
        s.sendall(msg)
        phase = "echo"
        back = b""
        while len(back) < len(msg):
            b = s.recv(4096)
            if not b:
                break
            back += b
        phase = "EOF"
        s.shutdown(socket.SHUT_WR)
        eof = s.recv(1) == b""
        s.close()
        result = (back == msg, eof, t_up)
    except OSError as e:
        err = e
    c_dt = time.monotonic() - c_start
    sent_at_done = state["sent"]
    th.join(120)
    sock.close()
    b_dt = (state["t_end"] or time.monotonic()) - t0
    failures = 0
    failures += say(state["err"] is None and state["sent"] == count,
                    f"burst: {state['sent']} of {count} SYNs sent in {b_dt:.2f} s ({state['sent'] / b_dt:.0f}/s)"
                    + (f", error {state['err']!r}" if state["err"] else ""))
    if err is not None:
        failures += say(False, f"legitimate client (started after {sent_at_start} SYNs"
                        f"{', local port ' + str(lport) if lport else ''}): {err!r} after {c_dt:.2f} s "
                        f"waiting for {phase}" + (f" (connected when {sent_at_up} SYNs were out)" if sent_at_up else ""))
    else:
        good, eof, t_up = result
        failures += say(good and eof and c_dt <= limit,
                        f"legitimate client during the burst: connected in {t_up * 1000:.0f} ms (SYNs sent: "
                        f"{sent_at_start} at start, {sent_at_up} when connected), 1 KiB echoed "
                        f"{'byte-exact' if good else 'WRONG'}, {'EOF' if eof else 'no EOF'} after SHUT_WR, "
                        f"{c_dt:.2f} s in all (limit {limit:.0f} s)")
        failures += say(sent_at_done < count, f"the client was done before the burst ended "
                        f"({sent_at_done} of {count} SYNs sent by then)")
    return 1 if failures else 0


def main():
    cmds = {"stream": cmd_stream, "many": cmd_many, "server": cmd_server,
            "client-result": cmd_client_result, "keepalive": cmd_keepalive, "synburst": cmd_synburst,
            "counters": cmd_counters}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__)
        return 2
    return cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
