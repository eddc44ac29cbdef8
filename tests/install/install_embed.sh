#!/usr/bin/env bash
# `meson install` into a staging dir, then build docs/examples/embed_udp_echo.cpp
# against the installed headers and libtern.pc only (no source tree include
# paths), and run it for a moment on a net_pcap device: proves the install is
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
pcdir=$(dirname "$(find "$root" -name libtern.pc | head -1)")
[ -n "$pcdir" ] || { echo "libtern.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH="$pcdir"
cflags=$(pkg-config --cflags libtern | sed "s|-I$prefix|-I$root|g")
libs=$(pkg-config --libs libtern | sed "s|-L$prefix|-L$root|g")
echo "pkg-config libtern: $cflags $libs"
c++ -std=c++20 -o "$stage/embed" "$src/docs/examples/embed_udp_echo.cpp" $cflags $libs
# The TCP/Poller example of docs/api.md must build against the installed headers too.
c++ -std=c++20 -o "$stage/tcp_echo_poller" "$src/docs/examples/tcp_echo_poller.cpp" $cflags $libs
libdir=$(dirname "$(find "$root" -name 'libtern.so' | head -1)")
/usr/bin/python3 - "$stage/in.pcap" <<'PY'
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
PY
out=$(LD_LIBRARY_PATH="$libdir" "$stage/embed" \
  "net_pcap_embed0,rx_pcap=$stage/in.pcap,tx_pcap=$stage/out.pcap" 198.18.0.2/24 1 2>&1)
echo "$out" | tail -2
echo "$out" | grep -q "leaked mbufs: 0" || { echo "embedded server did not shut down cleanly"; exit 1; }
out=$(LD_LIBRARY_PATH="$libdir" "$stage/tcp_echo_poller" \
  "net_pcap_embed1,rx_pcap=$stage/in.pcap,tx_pcap=$stage/out2.pcap" 198.18.0.2/24 1 2>&1)
echo "$out" | tail -1
echo "$out" | grep -q "leaked mbufs: 0" || { echo "the TCP Poller example did not shut down cleanly"; exit 1; }
echo "install + embed OK"
