import json,sys,glob,statistics as st
d=sys.argv[1]; arms=sys.argv[2].split(',')
keys=[("identity, 1 producer, realtime","idlow"),("identity, 1 producer, default","iddef"),("identity, saturation","idsat"),("balanced","bal"),("ctr-ranker, 1","ctrlow"),("ctr-ranker, saturation","ctrsat")]
for a in arms:
    files=sorted(glob.glob(f"{d}/{a}-*.json"), key=lambda f:int(f.rsplit('-',1)[1].split('.')[0]))
    print(f"{a} n={len(files)}")
    for k,s in keys:
        rows=[r for f in files for r in json.load(open(f)) if "overhead_us_p99" in r and k in r["scenario"]]
        if not rows: continue
        g=lambda f: st.median(r[f] for r in rows)
        print(f"   {s:7} p50 {g('overhead_us_p50'):4} p99 {g('overhead_us_p99'):5} [{', '.join(str(r['overhead_us_p99']) for r in rows)}] s2c p99 {g('submit_to_complete_us_p99')} compute p99 {g('compute_us_p99')} req/s {int(g('throughput_per_s'))} pool [{','.join(str(r.get('pool_threads','?')) for r in rows)}]")
