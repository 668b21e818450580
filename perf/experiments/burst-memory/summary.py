#!/usr/bin/env python3
"""summary.py <arms.sh output>: per arm, medians over the rounds of the memory after a burst and of the speed."""
import re, statistics, sys
from collections import defaultdict

mem = defaultdict(lambda: defaultdict(list))
speed = defaultdict(lambda: defaultdict(list))
for line in open(sys.argv[1]):
    m = re.match(r'(\w+)-r\d+ before (\d+) MiB peak (\d+) MiB .*?after: (.*?) MiB', line)
    if m:
        arm = m.group(1)
        mem[arm]['before'].append(int(m.group(2)))
        mem[arm]['peak'].append(int(m.group(3)))
        for at, v in re.findall(r'\+(\d+)s (\d+)', m.group(4)):
            mem[arm]['+' + at + 's'].append(int(v) - int(m.group(2)))
        continue
    m = re.match(r'(\w+) r\d+ speed run\tc=(\d+)\t(\d+) req/s\tp50 (\d+) us\tp90 \d+ us\tp99 (\d+) us', line)
    if m:
        arm, c = m.group(1), m.group(2)
        speed[arm]['c' + c + ' req/s'].append(int(m.group(3)))
        speed[arm]['c' + c + ' p50'].append(int(m.group(4)))
        speed[arm]['c' + c + ' p99'].append(int(m.group(5)))
        continue
    m = re.match(r'(\w+) r\d+ rss-after-speed (\d+)', line)
    if m:
        speed[m.group(1)]['rss after c16+c1'].append(int(m.group(2)))

med = lambda xs: statistics.median(xs) if xs else float('nan')
print('| arm | rounds | RSS before (MiB) | peak | above before at +2 s | +10 s | +30 s | c=16 req/s | c=16 p99 us | c=1 req/s | c=1 p99 us | RSS after the speed runs |')
print('|---|---|---|---|---|---|---|---|---|---|---|---|')
for arm in mem:
    m, s = mem[arm], speed[arm]
    print(f"| {arm} | {len(m['before'])} | {med(m['before']):.0f} | {med(m['peak']):.0f} | {med(m['+2s']):+.0f} | {med(m['+10s']):+.0f} | {med(m['+30s']):+.0f} | "
          f"{med(s['c16 req/s']):,.0f} | {med(s['c16 p99']):,.0f} | {med(s['c1 req/s']):,.0f} | {med(s['c1 p99']):,.0f} | {med(s['rss after c16+c1']):.0f} |")
