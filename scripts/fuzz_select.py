#!/usr/bin/env python3
"""Pick at most N inputs (and at most B bytes) of a libFuzzer corpus that keep as much of its
coverage as possible, for a seed directory small enough to commit.

    scripts/fuzz_select.py CONTROL_FILE OUT_DIR [MAX_FILES] [MAX_BYTES]

CONTROL_FILE is what `TARGET -merge=1 -merge_control_file=CONTROL_FILE EMPTY_DIR CORPUS...` leaves:
per input its coverage edges (COV) and features (FT). Greedy set cover: first the input adding the
most edges not yet covered, until no input adds an edge; then the most features, while the budget
lasts. Copies the chosen inputs into OUT_DIR (named by their hash, as libFuzzer names them) and
prints what share of the corpus's edges and features they keep. Used by scripts/fuzz.sh --merge.
"""
import os
import shutil
import sys


def read_control(path):
    with open(path) as f:
        lines = f.read().splitlines()
    n = int(lines[0])
    files = lines[2:2 + n]
    cov, ft = {}, {}
    for line in lines[2 + n:]:
        parts = line.split()
        if not parts or parts[0] not in ("COV", "FT"):
            continue
        (cov if parts[0] == "COV" else ft)[int(parts[1])] = set(map(int, parts[2:]))
    return files, cov, ft


def greedy(candidates, sets, chosen, covered, budget_ok):
    """Add from candidates the input adding most uncovered elements of sets, until none adds any."""
    while True:
        best, gain = None, 0
        for i in candidates:
            if i in chosen or not budget_ok(i):
                continue
            g = len(sets.get(i, ()) - covered)
            if g > gain:
                best, gain = i, g
        if best is None:
            return
        chosen.append(best)
        covered |= sets[best]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    ctl, out = sys.argv[1], sys.argv[2]
    max_files = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    max_bytes = int(sys.argv[4]) if len(sys.argv) > 4 else 2 << 20
    files, cov, ft = read_control(ctl)
    size = {i: os.path.getsize(f) for i, f in enumerate(files)}
    chosen = []
    used = lambda: sum(size[i] for i in chosen)  # noqa: E731
    ok = lambda i: len(chosen) < max_files and used() + size[i] <= max_bytes  # noqa: E731
    # Smaller inputs first among equals: sort so ties keep the smaller one.
    order = sorted(range(len(files)), key=lambda i: size[i])
    edges, feats = set(), set()
    greedy(order, cov, chosen, edges, ok)
    for i in chosen:
        feats |= ft.get(i, set())
    greedy(order, ft, chosen, feats, ok)
    os.makedirs(out, exist_ok=True)
    for i in chosen:
        shutil.copy(files[i], os.path.join(out, os.path.basename(files[i])))
    all_edges = set().union(*cov.values()) if cov else set()
    all_feats = set().union(*ft.values()) if ft else set()
    print(f"{len(chosen)} inputs, {used()} bytes: {len(edges)}/{len(all_edges)} edges, "
          f"{len(feats)}/{len(all_feats)} features of the corpus")


if __name__ == "__main__":
    main()
