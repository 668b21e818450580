#!/usr/bin/python3
"""The medians of a grpc-floor run (runs.tsv: label, round, p50, p99, ok) and what the floors split
gRPC's extra time into. Usage: medians.py runs.tsv > medians.md"""
import statistics
import sys

rows = {}
for line in open(sys.argv[1]):
    f = line.split('\t')
    rows.setdefault(f[0], []).append((int(f[2].split()[1]), int(f[3].split()[1])))
m = {k: statistics.median(x[0] for x in v) for k, v in rows.items()}
print('| target | runs | median p50 µs | median p99 µs |')
print('|---|---|---|---|')
for k in ['floor-http', 'floor-h2', 'floor-grpc', 'server-http', 'server-grpc']:
    print(f'| {k} | {len(rows[k])} | {m[k]:g} | {statistics.median(x[1] for x in rows[k]):g} |')
print()
print(f"- Kestrel's HTTP/2 over HTTP/1.1 (floor-h2 − floor-http): {m['floor-h2'] - m['floor-http']:g} µs")
print(f"- Grpc.AspNetCore over hand-written HTTP/2 (floor-grpc − floor-h2), which the server's ModelInfer, "
      f"written by hand, does not pay: {m['floor-grpc'] - m['floor-h2']:g} µs")
print(f"- the server, gRPC over HTTP (server-grpc − server-http): {m['server-grpc'] - m['server-http']:g} µs, "
      f"{m['server-grpc'] / m['server-http']:.2f}×")
print(f"- the server over its own floor: HTTP (server-http − floor-http) {m['server-http'] - m['floor-http']:g} µs, "
      f"gRPC (server-grpc − floor-h2) {m['server-grpc'] - m['floor-h2']:g} µs")
