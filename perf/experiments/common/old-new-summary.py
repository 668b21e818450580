#!/usr/bin/env python3
"""old-new-summary.py <file>: medians per arm of lib.sh old_new's lines (content-length/ab.sh, statistics-cost/ab.sh): wrk c=1 and c=16 req/s and p50/p99, the open loop's p50/p99, server CPU s; rounds where new beat old."""
import re, statistics, sys, os
f = sys.argv[1]
v = {}
for l in open(f):
    m = re.match(r"(\w+) r(\d+) (c=1|c=16) wrk\t(\d+) req/s\tp50 (\d+) us\tp90 \d+ us\tp99 (\d+) us", l)
    if m:
        for k, x in (("req/s", 4), ("p50", 5), ("p99", 6)):
            v.setdefault((m[3], k), {}).setdefault(m[1], {})[int(m[2])] = int(m[x])
    m = re.match(r"(\w+) r(\d+) rate=500 .*p50 (\d+) us\tp90 \d+ us\tp99 (\d+) us", l)
    if m:
        for k, x in (("p50", 3), ("p99", 4)):
            v.setdefault(("open 500/s", k), {}).setdefault(m[1], {})[int(m[2])] = int(m[x])
    m = re.match(r"(\w+) r(\d+) cpu_s ([\d.]+)", l)
    if m:
        v.setdefault(("server", "cpu s"), {}).setdefault(m[1], {})[int(m[2])] = float(m[3])
for (phase, k), arms in v.items():
    old, new = arms["old"], arms["new"]
    better = sum(1 for r in old if r in new and ((new[r] > old[r]) if k == "req/s" else (new[r] < old[r])))
    print(f"{phase:11} {k:6} old {statistics.median(old.values()):>9} new {statistics.median(new.values()):>9}  new better in {better} of {len(old)}")
