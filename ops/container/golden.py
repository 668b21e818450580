#!/usr/bin/python3
"""Sends every golden case of a model repository to a running server and compares the answers.

    golden.py --url http://127.0.0.1:PORT [--api-key KEY] models

Each models/<model>/golden/<case>.json holds a request and PyTorch's outputs; the answer must match
them within the tolerance the end-to-end tests use (|e - a| <= 1e-5 + 1e-4 |e|). A feature-joined
model's models/<model>/golden-joined/<case>.json also holds the rows to push first (Feast's
POST /push, event time now) and the feature statuses the answer must report. Standard library
only, so Debian's /usr/bin/python3 runs it with nothing installed. Exit code 0 when all pass.
"""
import argparse
import datetime
import glob
import json
import os
import sys
import urllib.error
import urllib.request

RTOL, ATOL = 1e-4, 1e-5


def flatten(data):
    if isinstance(data, list):
        for item in data:
            yield from flatten(item)
    else:
        yield data


def post(url, api_key, path, body):
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["X-Api-Key"] = api_key
    req = urllib.request.Request(f"{url}{path}", data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(req, timeout=30) as response:
        return json.loads(response.read())


def infer(url, api_key, model, request):
    return post(url, api_key, f"/v2/models/{model}/infer", request)


def push(url, api_key, golden):
    """A joined case's rows, pushed with event time now (the user view has a max age of a day)."""
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    for body in golden["push"]:
        rows = len(next(iter(body["df"].values())))
        post(url, api_key, "/push", {**body, "df": {**body["df"], "event_timestamp": [now] * rows}})


def mismatch(expected, actual):
    """Why the actual output differs from the expected one, or None."""
    for field in ("name", "datatype", "shape"):
        if expected[field] != actual.get(field):
            return f"{field}: expected {expected[field]}, got {actual.get(field)}"
    want, got = list(flatten(expected["data"])), list(flatten(actual["data"]))
    if len(want) != len(got):
        return f"{len(got)} values, expected {len(want)}"
    for i, (e, a) in enumerate(zip(want, got)):
        if abs(e - a) > ATOL + RTOL * abs(e):
            return f"[{i}]: expected {e}, got {a}"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--api-key")
    parser.add_argument("repository")
    args = parser.parse_args()

    files = sorted(glob.glob(os.path.join(args.repository, "*", "golden", "*.json"))
                   + glob.glob(os.path.join(args.repository, "*", "golden-joined", "*.json")))
    if not files:
        print(f"golden: no cases under {args.repository}/*/golden/", file=sys.stderr)
        return 1
    failed = 0
    for path in files:
        model = os.path.basename(os.path.dirname(os.path.dirname(path)))
        case = os.path.splitext(os.path.basename(path))[0]
        with open(path, encoding="utf-8") as f:
            golden = json.load(f)
        try:
            if "push" in golden:
                push(args.url, args.api_key, golden)
            answer = infer(args.url, args.api_key, model, golden["request"])
            outputs = {o["name"]: o for o in answer["outputs"]}
            problems = [f"{e['name']} {why}" for e in golden["expected_outputs"]
                        if (why := mismatch(e, outputs.get(e["name"], {"data": []}))) is not None]
            if answer.get("id") != golden["request"].get("id"):
                problems.append(f"id {answer.get('id')!r}")
            statuses = answer.get("parameters", {}).get("feature_statuses")
            if statuses != golden.get("expected_feature_statuses"):
                problems.append(f"feature_statuses {statuses!r}")
        except urllib.error.HTTPError as e:
            problems = [f"HTTP {e.code}: {e.read()[:300]!r}"]
        except (urllib.error.URLError, OSError, ValueError, KeyError) as e:
            problems = [repr(e)]
        print(f"golden {model}/{case}: {'ok' if not problems else 'FAILED ' + '; '.join(problems)}")
        failed += bool(problems)
    print(f"golden: {len(files) - failed} of {len(files)} cases match PyTorch's outputs")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
