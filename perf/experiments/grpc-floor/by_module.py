#!/usr/bin/python3
"""CPU µs per call by module from two `perf record` files (4 s each) and their call rates: managed
frames by assembly, the thread pool's waiting and dispatch apart, native frames by library.
Usage: by_module.py grpc.data grpc-rate http.data http-rate"""
import collections
import re
import subprocess
import sys

SECONDS = 4


def per_call(data, rate):
    out = subprocess.run(['perf', 'report', '-i', data, '--no-children', '--sort', 'dso,sym', '--stdio', '-g', 'none'],
                         capture_output=True, text=True).stdout
    cpu_us = int(re.search(r'Event count \(approx.\): (\d+)', out).group(1)) / 1000  # cpu-clock counts ns
    spent = collections.Counter()
    for line in out.splitlines():
        m = re.match(r'\s+([\d.]+)%\s+(.+?)\s+\[(.)\] (.*)', line)
        if not m:
            continue
        share, dso, sym = float(m.group(1)) / 100, m.group(2), m.group(4)
        if 'JIT' in dso:
            assembly = re.match(r'(?:instance |static )?.*?\[([\w.]+)\] ', sym)
            key = assembly.group(1) if assembly else 'managed, other'
            if re.search(r'LowLevelLifoSemaphore|SpinWait|ThreadPoolWorkQueue::Dispatch|WorkerThread', sym):
                key = 'thread pool: waiting, dispatch'
        else:
            key = 'sched_yield' if 'sched_yield' in sym else dso
        spent[key] += share * cpu_us
    calls = float(rate) * SECONDS
    return {k: v / calls for k, v in spent.items()}


grpc, http = per_call(sys.argv[1], sys.argv[2]), per_call(sys.argv[3], sys.argv[4])
print(f'calls/s: gRPC {sys.argv[2]}, HTTP {sys.argv[4]}')
print('| module | gRPC µs/call | HTTP µs/call | difference |')
print('|---|---|---|---|')
for k in sorted(set(grpc) | set(http), key=lambda k: -(grpc.get(k, 0) - http.get(k, 0))):
    if max(grpc.get(k, 0), http.get(k, 0)) >= 0.5:
        print(f'| {k} | {grpc.get(k, 0):.1f} | {http.get(k, 0):.1f} | {grpc.get(k, 0) - http.get(k, 0):+.1f} |')
print(f'| total | {sum(grpc.values()):.1f} | {sum(http.values()):.1f} | {sum(grpc.values()) - sum(http.values()):+.1f} |')
