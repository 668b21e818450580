import sys,re,statistics as st
rows={}
for f in sys.argv[1:]:
    for l in open(f):
        m=re.match(r'(\w+) c=(\d+) wrk\s+(\d+) req/s\s+p50 (\d+) us\s+p90 (\d+) us\s+p99 (\d+) us',l)
        if not m: continue
        a,c,rps,p50,p90,p99=m.groups()
        rows.setdefault((a,int(c)),[]).append((int(rps),int(p50),int(p99)))
for (a,c),v in sorted(rows.items(), key=lambda kv:(kv[0][1],kv[0][0])):
    print(f"{a:6} c={c:<3} n={len(v)} req/s med {st.median(x[0] for x in v):8} [{', '.join(str(x[0]) for x in v)}]  p50 med {st.median(x[1] for x in v)}  p99 med {st.median(x[2] for x in v)} [{', '.join(str(x[2]) for x in v)}]")
