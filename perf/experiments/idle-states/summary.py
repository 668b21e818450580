#!/usr/bin/env python3
"""summary.py <dir>: medians per arm and scenario of the engine benchmark's overhead p50/p99 (and req/s), from <dir>/*.txt (arms.sh)."""
import glob, re, statistics, sys, os
d = sys.argv[1]
line = re.compile(r"^(?P<scn>[^:]+(?::[^:]+)?): (?P<rate>\d+) req/s; overhead p50 (?P<p50>\d+) us p99 (?P<p99>\d+) us .*submit->complete p50 \d+ us p99 (?P<sc>\d+) us")
rows = {}
for f in sorted(glob.glob(os.path.join(d, "*.txt"))):
    name = os.path.basename(f)
    if name == "steal.txt":
        continue
    arm, rnd = name[:-4].rsplit("-", 1)
    for l in open(f):
        m = line.match(l.strip())
        if m:
            scn = m["scn"].split(": its")[0]
            scn = re.sub(r": \d+ producers.*", "", scn)
            rows.setdefault(scn, {}).setdefault(arm, []).append((int(rnd), int(m["p50"]), int(m["p99"]), int(m["rate"]), int(m["sc"])))
arms = sorted({a for s in rows.values() for a in s})
for scn, per in rows.items():
    print(scn)
    for arm in arms:
        v = sorted(per.get(arm, []))
        if not v:
            continue
        p99 = [x[2] for x in v]
        print(f"  {arm:5} overhead p99 median {statistics.median(p99):>6} (per round {', '.join(map(str, p99))}); p50 median {statistics.median([x[1] for x in v])}; "
              f"submit->complete p99 median {statistics.median([x[4] for x in v])}; req/s median {statistics.median([x[3] for x in v]):.0f}")
