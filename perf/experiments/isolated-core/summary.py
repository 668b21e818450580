# summary.py <dir>: per scenario and arm, the overhead p99 median and req/s median of engine-arms.sh runs, each run as p99/steal ticks.
import sys,re,glob,os,statistics
d=sys.argv[1]
steal={}
for l in open(d+'/steal.txt'):
    a,r,_,s=l.split(); steal[(a,r)]=int(s)
rows={}
for f in sorted(glob.glob(d+'/*-*.txt')):
    a,r=os.path.basename(f)[:-4].split('-')
    for l in open(f):
        m=re.match(r'(.*?): ([\d.]+) req/s; overhead p50 (\d+) us p99 (\d+) us',l)
        if m:
            name=m.group(1)[:45]
            rows.setdefault(name,{}).setdefault(a,[]).append((int(r),int(m.group(4)),float(m.group(2)),steal[(a,r)]))
for name,arms in rows.items():
    print(name)
    for a,v in sorted(arms.items()):
        v.sort()
        print(f"  {a}: p99 median {statistics.median([x[1] for x in v])}  req/s median {statistics.median([x[2] for x in v]):.0f}  runs(p99/steal) {' '.join(f'{x[1]}/{x[3]}' for x in v)}")
