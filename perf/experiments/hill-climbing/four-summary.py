import json,sys,glob,statistics as st,os
d=sys.argv[1]; arms=sys.argv[2].split(',')
keys=[("identity, 1 producer, realtime","idlow"),("identity, saturation","idsat"),("balanced","bal"),("ctr-ranker, 1","ctrlow"),("ctr-ranker, saturation","ctrsat")]
for a in arms:
    files=sorted(glob.glob(f"{d}/{a}-*.json"), key=lambda f:int(f.rsplit('-',1)[1].split('.')[0]))
    res={k[1]:[] for k in keys}; thr={k[1]:[] for k in keys}
    for f in files:
        for r in json.load(open(f)):
            if "overhead_us_p99" not in r: continue
            for k,s in keys:
                if k in r["scenario"]:
                    res[s].append(r["overhead_us_p99"]); thr[s].append(r["throughput_per_s"])
    print(f"{a:6} n={len(files)}")
    for k,s in keys:
        v=res[s]
        if v: print(f"   {s:7} p99 med {st.median(v):6} [{', '.join(str(x) for x in v)}]  req/s med {int(st.median(thr[s]))}")
