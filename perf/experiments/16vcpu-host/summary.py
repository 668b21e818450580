#!/usr/bin/env python3
"""summary.py <dir>: medians of the device calls of run3.sh and run4.sh (<dir>/call3/log.txt, <dir>/call4/log.txt);
the calls of 2026-11-28 are in perf/results/archive/2026-11-28/16vcpu-host-6966b44.
HTTP: answer polling off (0) against on (500 µs) per server CPU set and phase, rounds paired;
engine: overhead p99 per saturation arm and per side of the lone balanced request."""
import os, re, statistics as st, sys

def http(path):
    rows = {}
    for l in open(path):
        m = re.match(r"http cpus=(\S+) poll=(\d+) r(\d) (c=1|c=16|rate=500|rate=2000) run\s+\S+(?: constant)?\s+(\d+) req/s\s+p50 (\d+) us\s+p90 (\d+) us\s+p99 (\d+) us\s+p99.9 (\d+)", l)
        if m:
            cpus, poll, r, ph, rps, p50, _, p99, p999 = m.groups()
            rows.setdefault((cpus, ph, poll), {})[int(r)] = (int(rps), int(p50), int(p99), int(p999))
        m = re.match(r"http cpus=(\S+) poll=(\d+) r(\d) server_cpu_s (\S+)", l)
        if m:
            rows.setdefault((m[1], "server CPU s", m[2]), {})[int(m[3])] = (round(float(m[4]), 2),)
    for c, ph in sorted({(c, ph) for c, ph, _ in rows}):
        a, b = rows.get((c, ph, "0"), {}), rows.get((c, ph, "500"), {})
        rs = sorted(set(a) & set(b))
        for i, name in enumerate(["req/s", "p50", "p99", "p99.9"]):
            if (ph.startswith("rate") and name == "req/s") or (ph == "server CPU s" and i > 0):
                continue
            x, y = [a[r][i] for r in rs], [b[r][i] for r in rs]
            better = sum((yy > xx) if name == "req/s" else (yy < xx) for xx, yy in zip(x, y))
            label = ph if ph == "server CPU s" else f"{ph} {name}"
            verdict = "higher" if ph == "server CPU s" else "better"
            print(f"cpus {c:4} {label:16} off {st.median(x):>9} on {st.median(y):>9}  on {verdict} in {better}/{len(rs)}  off {x} on {y}")

def engine(path):
    cur, d = None, {}
    for l in open(path):
        m = re.match(r"== (sat \w+|balanced) r(\d) (\w+)", l)
        if m:
            cur = m[1] if m[1] != "balanced" else f"balanced {'new' if m[3] == 'pub' else 'old'}"
            continue
        if l.startswith("== whole"):
            cur = None
        m = re.match(r"(identity|ctr-ranker), (saturation|1 producer, balanced).*?: (\d+) req/s; overhead p50 (\d+) us p99 (\d+) us p99.9 (\d+)", l)
        if m and cur:
            d.setdefault((cur, m[1]), []).append((int(m[3]), int(m[5]), int(m[6])))
    for (arm, model), v in sorted(d.items()):
        print(f"{arm:17} {model:10} req/s {st.median(x[0] for x in v):>9}  overhead p99 {[x[1] for x in v]} median {st.median(x[1] for x in v)}  p99.9 {[x[2] for x in v]}")

d = sys.argv[1] if len(sys.argv) > 1 else "."
print("== call3 (run3.sh): HTTP, 2 rounds"); http(os.path.join(d, "call3/log.txt"))
print("== call4 (run4.sh): HTTP, server on 2 CPUs, 5 rounds"); http(os.path.join(d, "call4/log.txt"))
print("== call3 (run3.sh): engine, 3 rounds per arm"); engine(os.path.join(d, "call3/log.txt"))
