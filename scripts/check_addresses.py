#!/usr/bin/env python3
"""Fail when a test, benchmark, script, config, doc or app uses an IPv4 address outside
198.18.0.0/15 (RFC 2544 benchmarking range) and loopback.

usage: check_addresses.py [--root DIR] [--rev REV] [-v] [PATH...]

PATHs (files or directories, relative to the root) default to DEFAULT_PATHS. With --rev the
files are read from that git revision (`git ls-tree` / `git cat-file`) instead of the
working tree, so an older tree can be checked without touching the checkout.

What counts as an address:
  - a dotted quad A.B.C.D (optionally /N) that is not part of a longer dotted number and not
    an RFC section number (preceded by a section sign or "Section");
  - Ipv4Addr::from_octets(A, B, C, D) and the route tests' ip(A, B, C, D) / pfx(A, B, C, D, N)
    with decimal literals;
  - an 8-hex-digit literal whose value lies in one of the RFC 1918 private ranges
    (0x0a......, 0xac1....., 0xc0a8....): the host-order form tests use for addresses.
Allowed everywhere: 198.18.0.0/15, 127.0.0.0/8, and the addresses that are special by
protocol rather than somebody's network: 0.0.0.0/8 (this network, the default route),
224.0.0.0/4 (multicast), 240.0.0.0/4 (reserved, and 255.255.255.255). A quad whose first
octet is above 255 is not an address (an invalid-input test) and is skipped; one with a
later octet above 255 is judged by its valid leading octets.
ALLOW lists the files that may use other addresses, each with its reason; in the files of
CODE_EXEMPT (lib/) only comments and string literals are checked.
Exit status: 0 clean, 1 when anything is outside, 2 on a usage error.
"""
import argparse
import fnmatch
import os
import re
import subprocess
import sys

DEFAULT_PATHS = ["tests", "perf", "scripts", "config", "docs", "apps", "drivers", "lib", "README.md", ".ci"]

# Files that may use other addresses: (path glob, reason). Keep it short: in each, the address
# itself is data that cannot be changed.
ALLOW = [
    ("tests/unit/wire/toeplitz_test.cpp",
     "the Microsoft RSS verification suite's published vectors: the expected hashes are of these addresses"),
]
# Files whose code may name any range (lib/: the classification of special addresses, RFC 1122
# §3.2.1.3, RFC 5771...). Only their comments and string literals (examples, error messages,
# --help) are checked.
CODE_EXEMPT = [
    ("lib/*", "library code classifies addresses; its examples and messages still use 198.18.0.0/15"),
]

SKIP_SUFFIXES = (".bin", ".pcap", ".png", ".jpg", ".gz")

QUAD = re.compile(r"(?<![\w.])(\d{1,4})\.(\d{1,4})\.(\d{1,4})\.(\d{1,4})(?![\w]|\.\d)")
SECTION = re.compile(r"(§|[Ss]ection|RFC \d+)\s*$")
OCTETS = re.compile(r"\b(?:from_octets|ip|pfx)\(\s*(\d{1,3}),\s*(\d{1,3}),\s*(\d{1,3}),\s*(\d{1,3})\s*[,)]")
HEX = re.compile(r"\b0[xX](0[aA][0-9a-fA-F]{6}|[aA][cC]1[0-9a-fA-F]{5}|[cC]0[aA]8[0-9a-fA-F]{4})[uU]?\b")


def allowed(o):
    """o: the octets that are valid (<= 255), 1 to 4 of them. True when inside the allowed set."""
    a = o[0]
    if a == 127 or a == 0 or a >= 224:
        return True
    if a == 198 and len(o) >= 2:
        return o[1] in (18, 19)
    return False


def judge(octets):
    """None when fine (or not an address), else the reason it is outside."""
    vals = [int(x) for x in octets]
    if vals[0] > 255:
        return None  # not an address at all: invalid-input text
    valid = []
    for v in vals:
        if v > 255:
            break
        valid.append(v)
    if allowed(valid):
        return None
    return "outside 198.18.0.0/15 and loopback"


def hex_octets(h):
    v = int(h, 16)
    return [v >> 24, (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF]


def strings_and_comments(line):
    """The parts of a C++ line that are comment or string literal."""
    s = line.lstrip()
    if s.startswith(("//", "/*", "*")):
        return line
    parts = re.findall(r'"(?:[^"\\]|\\.)*"', line)
    i = min((j for j in (line.find("//"), line.find("/*")) if j >= 0), default=-1)
    if i >= 0:
        parts.append(line[i:])
    return " ".join(parts)


def scan_text(path, text):
    """Yields (line number, address text, reason)."""
    lib = any(fnmatch.fnmatch(path, glob) for glob, _ in CODE_EXEMPT)
    for n, line in enumerate(text.splitlines(), 1):
        body = strings_and_comments(line) if lib else line
        for m in QUAD.finditer(body):
            if SECTION.search(body[:m.start()]):
                continue
            why = judge(m.groups())
            if why:
                yield n, m.group(0), why
        if lib:
            continue
        for m in OCTETS.finditer(line):
            why = judge(m.groups())
            if why:
                yield n, m.group(0), why
        for m in HEX.finditer(line):
            quad = ".".join(str(o) for o in hex_octets(m.group(1)))
            yield n, m.group(0), f"RFC 1918 address in host-order hex ({quad})"


def is_allowed_file(path):
    return any(fnmatch.fnmatch(path, glob) for glob, _ in ALLOW)


def worktree_files(root, paths):
    for p in paths:
        full = os.path.join(root, p)
        if os.path.isfile(full):
            yield p
        for d, dirs, files in os.walk(full):
            dirs[:] = sorted(x for x in dirs if not x.startswith(".") or x == ".ci")
            for f in sorted(files):
                yield os.path.relpath(os.path.join(d, f), root)


def git_files(root, rev, paths):
    out = subprocess.run(["git", "-C", root, "ls-tree", "-r", "--name-only", rev, "--"] + paths,
                         check=True, capture_output=True, text=True).stdout
    return out.splitlines()


def read(root, rev, path):
    if rev:
        r = subprocess.run(["git", "-C", root, "cat-file", "blob", f"{rev}:{path}"], capture_output=True)
        data = r.stdout
    else:
        with open(os.path.join(root, path), "rb") as f:
            data = f.read()
    if b"\0" in data[:4096]:
        return None
    return data.decode("utf-8", errors="replace")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--rev", help="check the files of this git revision instead of the working tree")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list the allow-listed hits")
    ap.add_argument("paths", nargs="*", default=DEFAULT_PATHS)
    args = ap.parse_args()
    files = git_files(args.root, args.rev, args.paths) if args.rev else worktree_files(args.root, args.paths)
    bad = 0
    nfiles = 0
    for path in files:
        if path.endswith(SKIP_SUFFIXES):
            continue
        text = read(args.root, args.rev, path)
        if text is None:
            continue
        nfiles += 1
        waived = is_allowed_file(path)
        for n, addr, why in scan_text(path, text):
            if waived:
                if args.verbose:
                    print(f"{path}:{n}: {addr}: allowed ({why})")
                continue
            print(f"{path}:{n}: {addr}: {why}")
            bad += 1
    where = f"revision {args.rev}" if args.rev else "the working tree"
    if bad:
        print(f"check_addresses: FAIL: {bad} address(es) outside 198.18.0.0/15 and loopback in {where} "
              f"({nfiles} files); tests, benchmarks, scripts, configs and docs use 198.18.0.0/15 "
              f"(RFC 2544), or add the file to ALLOW in scripts/check_addresses.py with its reason")
        return 1
    print(f"check_addresses: ok: {nfiles} files in {where}, every address in 198.18.0.0/15, loopback or special")
    return 0


if __name__ == "__main__":
    sys.exit(main())
