#!/usr/bin/env python3
"""summary.py <ab.sh output>: medians per side (off, on) and how often `on` was better, rounds paired."""
import re, statistics as st, sys
rows = {}
for l in open(sys.argv[1]):
    m = re.match(r"(off|on) r(\d+) (c=1|c=16) wrk\s+(\d+) req/s\s+p50 (\d+) us\s+p90 (\d+) us\s+p99 (\d+) us", l)
    if m:
        side, r, ph = m[1], int(m[2]), m[3]
        rows.setdefault((ph, side), {})[r] = {"req/s": int(m[4]), "p50": int(m[5]), "p99": int(m[7])}
    m = re.match(r"(off|on) r(\d+) rate=500 run.*?p50 (\d+) us\s+p90 \d+ us\s+p99 (\d+) us", l)
    if m:
        rows.setdefault(("rate=500", m[1]), {})[int(m[2])] = {"p50": int(m[3]), "p99": int(m[4])}
    m = re.match(r"(off|on) r(\d+) cpu_s (\S+)", l)
    if m:
        rows.setdefault(("server CPU s", m[1]), {})[int(m[2])] = {"s": float(m[3])}
for ph in ("c=1", "c=16", "rate=500", "server CPU s"):
    a, b = rows[(ph, "off")], rows[(ph, "on")]
    rs = sorted(set(a) & set(b))
    for k in a[rs[0]]:
        x, y = [a[r][k] for r in rs], [b[r][k] for r in rs]
        better = sum((yy > xx) if k == "req/s" else (yy < xx) for xx, yy in zip(x, y))
        word = "lower" if k == "s" else "better"
        print(f"{ph:12} {k:6} off {st.median(x):>8} on {st.median(y):>8}  on {word} in {better}/{len(rs)}  off {x} on {y}")
