#!/usr/bin/python3
"""The ctr-ranker batch1 golden (or identity's one row of 16 FP32, perf/models/identity) as two
request bodies for h2load: MessagePack (HTTP/1.1) and a gRPC-framed ModelInferRequest with
raw_input_contents (h2c). Usage: make_bodies.py OUT_DIR [ctr-ranker|identity]"""
import json
import os
import struct
import sys

import msgpack
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
import grpc_golden  # noqa: E402  (generates the protocol's stubs)

out = sys.argv[1]
model = sys.argv[2] if len(sys.argv) > 2 else "ctr-ranker"
if model == "identity":
    case = {"request": {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 16], "data": [float(i) for i in range(16)]}]}}
else:
    case = json.load(open(os.path.join(ROOT, "models", model, "golden", "batch1.json")))
pb, _ = grpc_golden.generate_stubs(os.path.join(ROOT, "protocol"))
message = grpc_golden.request_of(pb, model, case).SerializeToString()
with open(os.path.join(out, "grpc.bin"), "wb") as f:
    f.write(b"\x00" + struct.pack(">I", len(message)) + message)
types = {"INT64": np.int64, "FP32": np.float32}
inputs = [{"name": t["name"], "datatype": t["datatype"], "shape": t["shape"],
           "data": np.asarray(t["data"], dtype=types[t["datatype"]]).tobytes()} for t in case["request"]["inputs"]]
with open(os.path.join(out, "msgpack.bin"), "wb") as f:
    f.write(msgpack.packb({"id": "batch1", "inputs": inputs}))
