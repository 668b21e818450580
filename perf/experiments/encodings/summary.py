#!/usr/bin/env python3
"""summary.py <runs.txt> (ab.sh's output): per encoding and concurrency, median req/s, p50 and p99 over the rounds, and each round's req/s."""
import os, re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\w+)\tr(\d+)\tc=(\d+)\t(\d+) req/s\tp50 (\d+) us\tp90 \d+ us\tp99 (\d+) us", line)
    if m:
        rows.setdefault((m[1], int(m[3])), []).append((int(m[2]), int(m[4]), int(m[5]), int(m[6])))
for c in (1, 16):
    for e in ("msgpack", "json", "binary"):
        if (e, c) not in rows:
            continue
        r = sorted(rows[(e, c)])
        print(f"c={c:<2} {e:<8} req/s median {statistics.median(x[1] for x in r):>7.0f}  p50 {statistics.median(x[2] for x in r):>5.0f} us  p99 {statistics.median(x[3] for x in r):>5.0f} us  (req/s per round {[x[1] for x in r]})")
