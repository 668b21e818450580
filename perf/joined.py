#!/usr/bin/env python3
"""Helpers of perf/joined.ps1 (feature-joined inference side by side), made from the model's golden.

    joined.py requests --model models/candidate-ranker --feature-repository feature_repo --rows 4 --out DIR
        DIR/ids-<rows>.json: an ids request whose every row is PRESENT (the first pushed user on every
        row, the first <rows> pushed items, the golden request's first <rows> context rows), and
        DIR/tensors-<rows>.json: the same request with the joined inputs laid from the pushed rows
        exactly as the join lays them (each input's features in the config's order), for a copy of the
        model without `features`. Both as {"request": ...}, what loadgen --golden reads; and
        DIR/keys-<rows>.txt, the Redis keys the join of the ids request reads.
    joined.py push --url http://127.0.0.1:8002 --model models/candidate-ranker
        the golden's push bodies, event_timestamp now, through the server's POST /push
    joined.py check --tolerance 0 NAME=URL=REQUEST.json ...
        posts each request in JSON and MessagePack; every output must equal the first one's within the
        tolerance (absolute); prints the largest difference. --golden NAME=URL posts the golden's own
        request (rows not found included) and compares outputs and feature statuses with the golden's.
    joined.py rtt --port P --keys K ... [--n 20000]
        redis-py's MGET of those keys in a loop on one connection: p50 / p99 µs
"""
import argparse
import datetime
import json
import os
import sys
import time
import urllib.request

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer"))


def golden(model):
    with open(os.path.join(model, "golden-joined", "joined.json")) as f:
        return json.load(f)


def requests(a):
    import join as joining
    g = golden(a.model)
    with open(os.path.join(a.model, "config.json")) as f:
        config = json.load(f)
    repository = joining.FeatureRepository(a.feature_repository)
    features = config["features"]
    # The pushed rows by view and id: a push body's df has the view's join key and its features.
    pushed = {}
    for view in repository.views.values():
        for p in g["push"]:
            df = p["df"]
            if view.join_key in df and all(f in df for f in view.features):
                pushed[view.name] = {df[view.join_key][i]: {f: df[f][i] for f in view.features} for i in range(len(df[view.join_key]))}
    entity_key = {e["input"]: repository.entity_keys[e["entity"]] for e in features["entities"]}
    view_of_key = {v.join_key: v.name for v in repository.views.values()}
    ids = {}
    for n, (input_name, key) in enumerate(entity_key.items()):
        known = list(pushed[view_of_key[key]])
        ids[input_name] = [known[0]] * a.rows if n == 0 else known[:a.rows]
        if len(ids[input_name]) < a.rows:
            raise SystemExit(f"{input_name}: only {len(known)} ids were pushed, {a.rows} rows asked")
    request_inputs = {t["name"]: t for t in g["request"]["inputs"]}
    others = [s for s in config["input"] if s["name"] not in {i["name"] for i in features["inputs"]}]
    passed = []
    for spec in others:
        t = request_inputs[spec["name"]]
        width = int(np.prod(spec["dims"]))
        passed.append({"name": spec["name"], "datatype": t["datatype"], "shape": [a.rows] + spec["dims"], "data": t["data"][:a.rows * width]})
    by_key = {key: ids[name] for name, key in entity_key.items()}
    joined = []
    datatype = {s["name"]: s["data_type"][5:] for s in config["input"]}
    for spec in features["inputs"]:
        data = []
        for r in range(a.rows):
            for ref in spec["features"]:
                view, feature = ref.split(":", 1)
                value = pushed[view][by_key[repository.views[view].join_key][r]][feature]
                data.extend(np.asarray(value).reshape(-1).tolist())
        width = len(data) // a.rows
        joined.append({"name": spec["name"], "datatype": datatype[spec["name"]], "shape": [a.rows, width], "data": data})
    entity_inputs = [{"name": name, "datatype": "INT64", "shape": [a.rows, 1], "data": ids[name]} for name in entity_key]
    os.makedirs(a.out, exist_ok=True)
    # The keys a join of the ids request reads (each view's distinct ids): for the round-trip floor.
    keys = []
    for view in repository.views.values():
        for i in dict.fromkeys(by_key[view.join_key]):
            keys.append(view.key(i).decode())
    with open(os.path.join(a.out, f"keys-{a.rows}.txt"), "w") as f:
        f.write("\n".join(keys) + "\n")
    for kind, inputs in (("ids", entity_inputs + passed), ("tensors", joined + passed)):
        path = os.path.join(a.out, f"{kind}-{a.rows}.json")
        with open(path, "w") as f:
            json.dump({"request": {"inputs": inputs}}, f)
        print(path)


def push(a):
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    for body in golden(a.model)["push"]:
        df = dict(body["df"])
        df["event_timestamp"] = [now] * len(next(iter(df.values())))
        r = urllib.request.urlopen(urllib.request.Request(f"{a.url}/push", json.dumps({**body, "df": df}).encode(), {"Content-Type": "application/json"}))
        print(body["push_source_name"], r.read().decode())


def infer(url, request, encoding):
    import msgpack
    if encoding == "json":
        body, kind = json.dumps(request).encode(), "application/json"
    else:
        inputs = []
        for t in request["inputs"]:
            dtype = {"INT64": "<i8", "FP32": "<f4"}[t["datatype"]]
            inputs.append({**t, "data": np.asarray(t["data"], dtype=dtype).tobytes()})
        body, kind = msgpack.packb({"inputs": inputs}), "application/msgpack"
    with urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": kind})) as r:
        raw = r.read()
    answer = json.loads(raw) if encoding == "json" else msgpack.unpackb(raw)
    out = answer["outputs"][0]
    # JSON writes each FP32 as its shortest decimal: read back as FP32 it is the same number as MessagePack's bytes.
    data = (np.asarray(out["data"], dtype=np.float32) if encoding == "json" else np.frombuffer(out["data"], dtype="<f4")).astype(np.float64)
    return data, (answer.get("parameters") or {}).get("feature_statuses")


def check(a):
    failed = False
    reference = None
    for item in a.targets:
        name, url, path = item.split("=", 2)
        with open(path) as f:
            request = json.load(f)["request"]
        for encoding in ("json", "msgpack"):
            data, statuses = infer(url, request, encoding)
            if reference is None:
                reference = (name, data)
            diff = float(np.max(np.abs(data - reference[1]))) if data.shape == reference[1].shape else float("inf")
            ok = diff <= a.tolerance and statuses is None
            failed |= not ok
            print(f"{name} {encoding} ({os.path.basename(path)}): {data.size} outputs, largest difference from {reference[0]} {diff:.3g}{'' if statuses is None else ', statuses ' + statuses}: {'equal' if ok else 'DIFFERENT'}")
    for item in a.golden or []:
        name, url = item.split("=", 1)
        g = golden(a.model)
        expected = np.asarray(g["expected_outputs"][0]["data"], dtype=np.float64)
        for encoding in ("json", "msgpack"):
            data, statuses = infer(url, g["request"], encoding)
            diff = float(np.max(np.abs(data - expected)))
            ok = diff <= a.golden_tolerance and statuses == g["expected_feature_statuses"]
            failed |= not ok
            print(f"{name} {encoding} golden request: largest difference from the golden {diff:.3g}, statuses {'as the golden' if statuses == g['expected_feature_statuses'] else statuses}: {'equal' if ok else 'DIFFERENT'}")
    sys.exit(1 if failed else 0)


def rtt(a):
    import redis
    r = redis.Redis(host="127.0.0.1", port=a.port)
    keys = [k.encode() for k in a.keys]
    for _ in range(1000):
        r.mget(keys)
    samples = np.empty(a.n)
    for i in range(a.n):
        t = time.perf_counter_ns()
        r.mget(keys)
        samples[i] = time.perf_counter_ns() - t
    print(f"redis-py MGET of {len(keys)} keys, 1 connection, {a.n} calls: p50 {np.percentile(samples, 50) / 1000:.1f} us p99 {np.percentile(samples, 99) / 1000:.1f} us")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("requests")
    p.add_argument("--model", default="models/candidate-ranker")
    p.add_argument("--feature-repository", default="feature_repo")
    p.add_argument("--rows", type=int, default=4)
    p.add_argument("--out", required=True)
    p = sub.add_parser("push")
    p.add_argument("--model", default="models/candidate-ranker")
    p.add_argument("--url", required=True)
    p = sub.add_parser("check")
    p.add_argument("--model", default="models/candidate-ranker")
    p.add_argument("--tolerance", type=float, default=0.0)
    p.add_argument("--golden", action="append")
    p.add_argument("--golden-tolerance", type=float, default=1e-5)
    p.add_argument("targets", nargs="*")
    p = sub.add_parser("rtt")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--keys", nargs="+", required=True)
    p.add_argument("--n", type=int, default=20000)
    a = parser.parse_args()
    {"requests": requests, "push": push, "check": check, "rtt": rtt}[a.command](a)
