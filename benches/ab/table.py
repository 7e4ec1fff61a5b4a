"""Reads the output of benches/ab/run.sh and prints, per row, every round's
median of each side and the geometric mean of the per-round new/old ratios,
then their geomean over all rows."""
import collections
import math
import re
import sys

UNITS = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}
TIME = r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]"


def read(path):
    side, pending = None, None
    rows = collections.defaultdict(lambda: collections.defaultdict(list))
    for line in open(path, encoding="utf-8"):
        if m := re.match(r"=== (old|new) round", line):
            side = m.group(1)
        elif m := re.match(r"^(\S+)\s+" + TIME, line):
            rows[m.group(1)][side].append(float(m.group(2)) * UNITS[m.group(3)])
        elif m := re.match(r"^\s+" + TIME, line):
            if pending:
                rows[pending][side].append(float(m.group(1)) * UNITS[m.group(2)])
            pending = None
        elif re.match(r"^\S+/\S+\s*$", line):
            pending = line.strip()
    return rows


def main():
    rows = read(sys.argv[1])
    ratios = []
    print("| row | old (s) | new (s) | new/old |\n| --- | --- | --- | --- |")
    for name, sides in rows.items():
        old, new = sides["old"], sides["new"]
        if not old or not new:
            continue
        r = math.exp(sum(math.log(n / o) for o, n in zip(old, new)) / min(len(old), len(new)))
        ratios.append(r)
        show = lambda xs: " / ".join(f"{x:.4g}" for x in xs)
        print(f"| {name} | {show(old)} | {show(new)} | {r:.3f} |")
    geomean = math.exp(sum(map(math.log, ratios)) / len(ratios))
    print(f"\ngeomean new/old over {len(ratios)} rows: {geomean:.3f}")


main()
