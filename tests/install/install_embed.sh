#!/usr/bin/env bash
# `meson install` into a staging dir, then build docs/examples/embed_udp_echo.cpp
# and docs/examples/tcp_echo_poller.cpp against the installed headers and
# libtern.pc only (no source tree include paths), and run each on a net_pcap
# device fed an ARP request and a UDP echo request: the UDP example must answer
# both (ARP reply, UDP echo with the same payload), the TCP example the ARP
# request; both must report their port and leak no mbuf. Proves the install is
# usable by another project.
set -euo pipefail
build=$1
src=$2
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
DESTDIR="$stage" meson install -C "$build" --no-rebuild --quiet >/dev/null
prefix=$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c \
  'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
root="$stage$prefix"
pc=$(find "$root" -name libtern.pc | head -1)
[ -n "$pc" ] || { echo "libtern.pc was not installed"; exit 1; }
so=$(find "$root" -name 'libtern.so' | head -1)
[ -n "$so" ] || { echo "libtern.so was not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
cflags=$(pkg-config --cflags libtern | sed "s|-I$prefix|-I$root|g")
libs=$(pkg-config --libs libtern | sed "s|-L$prefix|-L$root|g")
echo "pkg-config libtern: $cflags $libs"
c++ -std=c++20 -o "$stage/embed" "$src/docs/examples/embed_udp_echo.cpp" $cflags $libs
# The TCP/Poller example of docs/api.md must build against the installed headers too.
c++ -std=c++20 -o "$stage/tcp_echo_poller" "$src/docs/examples/tcp_echo_poller.cpp" $cflags $libs
libdir=$(dirname "$so")
# A peer (198.18.0.1) asks for 198.18.0.2's MAC, then sends a UDP echo request (broadcast
# frame, so the examples need not know their port's MAC).
/usr/bin/python3 - "$stage/in.pcap" <<'PY'
import sys
from scapy.all import ARP, IP, UDP, Ether, wrpcap
peer = "02:00:00:00:00:01"
wrpcap(sys.argv[1], [
    Ether(src=peer, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=peer, psrc="198.18.0.1", pdst="198.18.0.2"),
    Ether(src=peer, dst="ff:ff:ff:ff:ff:ff") / IP(src="198.18.0.1", dst="198.18.0.2") / UDP(sport=5555, dport=7)
    / b"hello from the install test",
])
PY
run() {  # run EXAMPLE NAME OUT_PCAP: prints its output, fails without a port or with a leak
  local out
  out=$(LD_LIBRARY_PATH="$libdir" "$stage/$1" "net_pcap_$1,rx_pcap=$stage/in.pcap,tx_pcap=$stage/$2" \
    198.18.0.2/24 1 2>&1)
  echo "$out" | tail -2
  echo "$out" | grep -q '"ports":\[{' || { echo "$1: its stats name no port: the stack never ran"; exit 1; }
  echo "$out" | grep -q "leaked mbufs: 0" || { echo "$1 did not shut down cleanly"; exit 1; }
}
check() {  # check OUT_PCAP WANT_UDP_ECHO
  /usr/bin/python3 - "$stage/$1" "$2" <<'PY'
import sys
from scapy.all import ARP, UDP, rdpcap
frames = rdpcap(sys.argv[1])
arp = [f for f in frames if ARP in f and f[ARP].op == 2 and f[ARP].psrc == "198.18.0.2"]
echo = [f for f in frames if UDP in f and f[UDP].sport == 7 and bytes(f[UDP].payload) == b"hello from the install test"]
ok = bool(arp) and (bool(echo) or sys.argv[2] == "0")
print("%s: %d frames, ARP reply %s, UDP echo %s" % (sys.argv[1].rsplit("/", 1)[-1], len(frames),
      "yes" if arp else "NO", "yes" if echo else ("NO" if sys.argv[2] == "1" else "not expected")))
sys.exit(0 if ok else 1)
PY
}
run embed out.pcap
check out.pcap 1 || { echo "the UDP example did not answer"; exit 1; }
run tcp_echo_poller out2.pcap
check out2.pcap 0 || { echo "the TCP Poller example did not answer ARP"; exit 1; }
echo "install + embed OK"
