#!/usr/bin/env python3
# summary.py <runs.txt>: medians per arm and concurrency, and new/old ratios per round.
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    m = re.match(r'(new|old) r(\d+) c(\d+) wrk\t([\d.]+) req/s\tp50 (\d+) us\tp90 (\d+) us\tp99 (\d+) us', line)
    if m:
        arm, r, c = m.group(1), int(m.group(2)), int(m.group(3))
        runs[(arm, r, c)] = tuple(float(x) for x in m.group(4, 5, 7))
for c in sorted({k[2] for k in runs}):
    rounds = sorted({k[1] for k in runs if k[2] == c and ('new', k[1], c) in runs and ('old', k[1], c) in runs})
    for arm in ('old', 'new'):
        v = [runs[(arm, r, c)] for r in rounds]
        print(f"c={c} {arm}: req/s {statistics.median(x[0] for x in v):,.0f}  p50 {statistics.median(x[1] for x in v):.0f} us  p99 {statistics.median(x[2] for x in v):.0f} us  ({len(v)} rounds)")
    ratios = [runs[('new', r, c)][0] / runs[('old', r, c)][0] for r in rounds]
    p50 = [runs[('new', r, c)][1] - runs[('old', r, c)][1] for r in rounds]
    print(f"c={c} new/old req/s per round: {', '.join(f'{x:.2f}' for x in ratios)}; median {statistics.median(ratios):.2f}; p50 new-old us: {', '.join(f'{x:+.0f}' for x in p50)}")
