#!/usr/bin/env python3
"""summary.py <dir>: <dir>/run*.json (enginebench --out, runs.sh): per scenario, the median and each run's value of the issue's measures."""
import glob, json, os, statistics, sys
here = sys.argv[1]
runs = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(here, "run*.json")), key=lambda f: int(os.path.basename(f)[3:-5]))]
print(f"{len(runs)} runs; machine: {runs[0][0].get('machine', '?')}")
for i, row in enumerate(runs[0]):
    name = row["scenario"]
    if "overhead_us_p99" not in row:
        print(f"{name}: allocated per batch {[r[i]['allocated_bytes_per_batch'] for r in runs]} B")
        continue
    def col(k):
        return [r[i][k] for r in runs]
    def med(k):
        return statistics.median(col(k))
    print(f"{name}\n  overhead p50 median {med('overhead_us_p50')} us; p99 median {med('overhead_us_p99')} us (per run {col('overhead_us_p99')})"
          f"\n  submit->complete p99 median {med('submit_to_complete_us_p99')} us, compute p99 median {med('compute_us_p99')} us; {med('throughput_per_s'):.0f} req/s;"
          f" allocated {med('allocated_bytes_per_request_all_threads')} B/request (all threads); steal per run {col('host_steal_percent')} %")
