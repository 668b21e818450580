# summary.py <dir>: medians of the off/on runs of ab.sh, per scenario (and each run's overhead p99).
import json, glob, re, statistics as st, sys
d = sys.argv[1] if len(sys.argv) > 1 else 'engine'
def load(side):
    files = sorted(glob.glob(f'{d}/{side}-*.json'), key=lambda x: int(re.findall(r'-(\d+)\.json', x)[0]))
    return [{r['scenario']: r for r in json.load(open(f))} for f in files]
off, on = load('off'), load('on')
keys = ['throughput_per_s', 'overhead_us_p50', 'overhead_us_p99', 'overhead_us_p999', 'submit_to_complete_us_p50',
        'submit_to_complete_us_p99', 'worker_wake_us_p99', 'compute_us_p50', 'answered_to_poller', 'failed', 'gc_collections']
print(f'{len(off)} runs off, {len(on)} on')
for sc in off[0]:
    if 'executor' in sc:
        continue
    print(sc)
    for k in keys:
        a = [r[sc].get(k, 0) for r in off]; b = [r[sc].get(k, 0) for r in on]
        extra = f'   off {a}  on {b}' if k == 'overhead_us_p99' else ''
        print(f'  {k:42s} off {st.median(a):>10} on {st.median(b):>10}{extra}')
