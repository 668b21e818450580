#!/usr/bin/env python3
"""http-summary.py <http-ab.sh output>: per phase and measure, each arm's median and per-round values (rounds in order)."""
import re, statistics as st, sys
rows = {}
for l in open(sys.argv[1]):
    m = re.match(r"spin(\d+) r(\d+) (c=1|c=16) wrk\s+(\d+) req/s\s+p50 (\d+) us\s+p90 \d+ us\s+p99 (\d+)", l)
    if m:
        rows.setdefault((m[3], m[1]), {})[int(m[2])] = {"req/s": int(m[4]), "p50": int(m[5]), "p99": int(m[6])}
    m = re.match(r"spin(\d+) r(\d+) rate=500 run.*?p50 (\d+) us\s+p90 \d+ us\s+p99 (\d+) us.*overhead (\d+)/(\d+)", l)
    if m:
        rows.setdefault(("rate=500", m[1]), {})[int(m[2])] = {"p50": int(m[3]), "p99": int(m[4]), "server overhead p50": int(m[5]), "server overhead p99": int(m[6])}
    m = re.match(r"spin(\d+) r(\d+) cpu_s (\S+)", l)
    if m:
        rows.setdefault(("server CPU", m[1]), {})[int(m[2])] = {"s": float(m[3])}
arms = sorted({a for _, a in rows}, key=int)
for ph in ("c=1", "c=16", "rate=500", "server CPU"):
    for k in rows[(ph, arms[0])][1]:
        cells = [f"spin {a}: {st.median(v[k] for v in rows[(ph, a)].values())} {[rows[(ph, a)][r][k] for r in sorted(rows[(ph, a)])]}" for a in arms]
        print(f"{ph:10} {k:20} " + "  ".join(cells))
