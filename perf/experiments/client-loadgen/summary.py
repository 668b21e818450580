#!/usr/bin/env python3
"""summary.py <runs.txt> (ab.sh's output): per mode and concurrency, median req/s, p50 and p99 over the rounds, LoadGen's allocation per request, and each round's req/s."""
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\w+)\tr(\d+)\tc=(\d+)\t(\d+) req/s\tp50 (\d+) us\tp90 \d+ us\tp99 (\d+) us.*?(?:allocated: (\d+) B)?$", line.rstrip("\n"))
    if m:
        rows.setdefault((m[1], int(m[3])), []).append((int(m[2]), int(m[4]), int(m[5]), int(m[6]), int(m[7]) if m[7] else None))
print("| mode | c | req/s (median) | p50 µs | p99 µs | B/request (LoadGen) | req/s per round |")
print("|---|---|---|---|---|---|---|")
for c in (1, 16):
    for mode in ("old", "raw", "client", "binary"):
        if (mode, c) not in rows:
            continue
        r = sorted(rows[(mode, c)])
        alloc = [x[4] for x in r if x[4] is not None]
        print(f"| {mode} | {c} | {statistics.median(x[1] for x in r):.0f} | {statistics.median(x[2] for x in r):.0f} | {statistics.median(x[3] for x in r):.0f} | {statistics.median(alloc):.0f} | {[x[1] for x in r]} |" if alloc else
              f"| {mode} | {c} | {statistics.median(x[1] for x in r):.0f} | {statistics.median(x[2] for x in r):.0f} | {statistics.median(x[3] for x in r):.0f} | - | {[x[1] for x in r]} |")
