#!/usr/bin/env python3
"""summary.py <runs.sh output>: ctr-ranker low-load overhead p99 grouped by the host's steal during the run."""
import re, statistics, sys, os
f = sys.argv[1]
rows = []
for l in open(f):
    m = re.search(r"overhead p50 (\d+) us p99 (\d+) us.*wake p50/p99 \d+/(\d+).*host steal ([\d.]+) %", l)
    if m:
        rows.append((float(m[4]), int(m[2]), int(m[1]), int(m[3])))
for lo, hi in ((0, 1), (1, 5), (5, 100)):
    g = sorted(r for r in rows if lo <= r[0] < hi)
    if g:
        print(f"steal [{lo}, {hi}) %: {len(g)} runs, overhead p99 median {statistics.median(r[1] for r in g)} us "
              f"(per run, by steal: {', '.join(f'{r[1]} at {r[0]}' for r in g)}); p50 median {statistics.median(r[2] for r in g)}")
print(f"runs with p99 <= 10 us: {sum(1 for r in rows if r[1] <= 10)} of {len(rows)}")
