#!/usr/bin/env python3
# ab-summary.py <ab.sh output>: per scenario and arm, the medians over the rounds of req/s and of the
# overhead's p50 and p99 (µs), the engine's targets beside them.
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    m = re.match(r'(new|old) r(\d+) (.+?): ([\d.]+) req/s; overhead p50 (\d+) us p99 (\d+) us', line)
    if m:
        runs.setdefault((m.group(3), m.group(1)), []).append((float(m.group(4)), int(m.group(5)), int(m.group(6))))
for scenario in dict.fromkeys(k[0] for k in runs):
    for arm in ('old', 'new'):
        v = runs.get((scenario, arm), [])
        if v:
            print(f"{scenario} | {arm} | {statistics.median(x[0] for x in v):,.0f} req/s | overhead p50 {statistics.median(x[1] for x in v)} us"
                  f" | p99 {statistics.median(x[2] for x in v)} us (runs: {', '.join(str(x[2]) for x in v)}) | {len(v)} runs")
