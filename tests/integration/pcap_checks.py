"""Helpers shared by the golden-pcap tests (pcap_golden.py, l3fwd_pcap.py):
a check recorder and the RFC 1071 checksum. Imported from the scripts' own folder."""
import struct

failures = []


def check(ok, what, quiet=False):
    """Record a check; @p quiet ones (per-frame details) are printed only when they fail."""
    if not ok or not quiet:
        print(("  ok    " if ok else "  FAIL  ") + what)
    if not ok:
        failures.append(what)
    return ok


def csum16(data: bytes) -> int:
    """One's complement sum of 16-bit words (RFC 1071), folded, not inverted."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s
