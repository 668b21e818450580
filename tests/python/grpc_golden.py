#!/usr/bin/python3
"""The server through gRPC from Python, as a Triton user's own client would call it: stubs generated
from the protocol's proto files (protocol/) with Debian's python3-grpc-tools, then every golden case
of every model in raw_input_contents, a typed-contents request, a stream of them, the unary metadata
RPCs and errors with their status codes. Exit status 0 when every check passed.

    /usr/bin/python3 tests/python/grpc_golden.py --target 127.0.0.1:8001 [--models models] [--api-key KEY]

With --api-key, every call carries it as x-api-key metadata (the key needs infer scopes and admin,
for RepositoryIndex).
"""
import argparse
import glob
import json
import os
import sys
import tempfile

import grpc
import numpy as np
from grpc_tools import protoc

DTYPES = {"BOOL": np.bool_, "UINT8": np.uint8, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32,
          "INT64": np.int64, "FP16": np.float16, "FP32": np.float32, "FP64": np.float64}
# The typed field of InferTensorContents each datatype travels in.
CONTENTS = {"BOOL": "bool_contents", "UINT8": "uint_contents", "INT8": "int_contents", "INT16": "int_contents",
            "INT32": "int_contents", "INT64": "int64_contents", "FP32": "fp32_contents", "FP64": "fp64_contents"}


def generate_stubs(proto_dir):
    """Generates the Python stubs from the proto files into a temporary folder and imports them."""
    out = tempfile.mkdtemp(prefix="ll-grpc-stubs-")
    protos = [os.path.join(proto_dir, "grpc_service.proto"), os.path.join(proto_dir, "model_config.proto")]
    code = protoc.main(["protoc", "-I" + proto_dir, "--python_out=" + out, "--grpc_python_out=" + out] + protos)
    if code != 0:
        sys.exit(f"protoc failed with {code}")
    sys.path.insert(0, out)
    import grpc_service_pb2 as pb
    import grpc_service_pb2_grpc as pb_grpc
    return pb, pb_grpc


class Checks:
    def __init__(self):
        self.failed = 0
        self.passed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL", what)


def request_of(pb, model, case, typed=False):
    """A ModelInferRequest for a golden case: raw_input_contents, or typed contents where the datatype has a field."""
    req = pb.ModelInferRequest(model_name=model, id=case["request"].get("id", ""))
    for tensor in case["request"]["inputs"]:
        t = req.inputs.add(name=tensor["name"], datatype=tensor["datatype"], shape=tensor["shape"])
        data = np.asarray(tensor["data"], dtype=DTYPES[tensor["datatype"]]).reshape(tensor["shape"])
        if typed:
            getattr(t.contents, CONTENTS[tensor["datatype"]]).extend(data.flatten().tolist())
        else:
            req.raw_input_contents.append(data.tobytes())
    return req


def compare(checks, label, case, response):
    expected = case["expected_outputs"]
    by_name = {o.name: i for i, o in enumerate(response.outputs)}
    for out in expected:
        i = by_name.get(out["name"])
        checks.check(i is not None, f"{label}: output {out['name']} missing")
        if i is None:
            continue
        meta = response.outputs[i]
        checks.check(list(meta.shape) == out["shape"], f"{label}: {out['name']} shape {list(meta.shape)} != {out['shape']}")
        got = np.frombuffer(response.raw_output_contents[i], dtype=DTYPES[meta.datatype])
        want = np.asarray(out["data"], dtype=np.float64).flatten()
        close = got.shape == want.shape and np.allclose(got.astype(np.float64), want, rtol=1e-4, atol=1e-5)
        checks.check(close, f"{label}: {out['name']} values differ")


class ApiKey(grpc.UnaryUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Adds x-api-key to every call's metadata."""

    def __init__(self, key):
        self.key = key

    def _with_key(self, details):
        metadata = list(details.metadata or []) + [("x-api-key", self.key)]
        return details._replace(metadata=metadata) if hasattr(details, "_replace") else _Details(details, metadata)

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._with_key(details), request)

    def intercept_stream_stream(self, continuation, details, requests):
        return continuation(self._with_key(details), requests)


class _Details(grpc.ClientCallDetails):
    def __init__(self, details, metadata):
        self.method, self.timeout, self.credentials = details.method, details.timeout, details.credentials
        self.wait_for_ready, self.compression = getattr(details, "wait_for_ready", None), getattr(details, "compression", None)
        self.metadata = metadata


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", default="127.0.0.1:8001")
    parser.add_argument("--models", default="models")
    parser.add_argument("--protocol", default=os.path.join(os.path.dirname(__file__), "..", "..", "protocol"))
    parser.add_argument("--api-key")
    args = parser.parse_args()

    pb, pb_grpc = generate_stubs(os.path.abspath(args.protocol))
    channel = grpc.insecure_channel(args.target)
    if args.api_key:
        channel = grpc.intercept_channel(channel, ApiKey(args.api_key))

    stub = pb_grpc.GRPCInferenceServiceStub(channel)
    checks = Checks()

    checks.check(stub.ServerLive(pb.ServerLiveRequest(), timeout=10).live, "ServerLive")
    checks.check(stub.ServerReady(pb.ServerReadyRequest(), timeout=10).ready, "ServerReady")
    index = stub.RepositoryIndex(pb.RepositoryIndexRequest(ready=True), timeout=10)
    served = sorted(m.name for m in index.models)

    cases = []
    for path in sorted(glob.glob(os.path.join(args.models, "*", "golden", "*.json"))):
        model = os.path.basename(os.path.dirname(os.path.dirname(path)))
        if model not in served:
            continue
        with open(path) as f:
            cases.append((model, os.path.basename(path), json.load(f)))
    checks.check(len(cases) > 0, f"no golden case for the served models {served}")

    for model in sorted({c[0] for c in cases}):
        checks.check(stub.ModelReady(pb.ModelReadyRequest(name=model), timeout=10).ready, f"ModelReady {model}")
        meta = stub.ModelMetadata(pb.ModelMetadataRequest(name=model), timeout=10)
        checks.check(meta.name == model and len(meta.inputs) > 0, f"ModelMetadata {model}")
        config = stub.ModelConfig(pb.ModelConfigRequest(name=model), timeout=10)
        checks.check(config.config.name == model, f"ModelConfig {model}")

    for model, name, case in cases:
        label = f"{model}/{name}"
        response = stub.ModelInfer(request_of(pb, model, case), timeout=30)
        checks.check(response.model_name == model, f"{label}: model_name {response.model_name}")
        checks.check(response.id == case["request"].get("id", ""), f"{label}: id {response.id}")
        compare(checks, label, case, response)
        if all(t["datatype"] in CONTENTS for t in case["request"]["inputs"]):
            compare(checks, label + " (typed contents)", case, stub.ModelInfer(request_of(pb, model, case, typed=True), timeout=30))

    # Many requests on one stream, answered in completion order and matched by id.
    sent = {}
    def requests():
        for n in range(64):
            model, name, case = cases[n % len(cases)]
            req = request_of(pb, model, case)
            req.id = f"s{n}"
            sent[req.id] = (model, name, case)
            yield req
    answered = 0
    for answer in stub.ModelStreamInfer(requests(), timeout=60):
        checks.check(answer.error_message == "", f"stream: {answer.error_message}")
        if answer.error_message == "":
            model, name, case = sent[answer.infer_response.id]
            compare(checks, f"stream {answer.infer_response.id} {model}/{name}", case, answer.infer_response)
            answered += 1
    checks.check(answered == 64, f"stream: {answered} of 64 answered")

    # Errors carry the protocol's status codes and name what is wrong.
    def status_of(call):
        try:
            call()
            return grpc.StatusCode.OK, ""
        except grpc.RpcError as e:
            return e.code(), e.details()
    code, _ = status_of(lambda: stub.ModelInfer(pb.ModelInferRequest(model_name="no-such-model"), timeout=10))
    checks.check(code == grpc.StatusCode.NOT_FOUND, f"unknown model: {code}")
    model, name, case = cases[0]
    bad = request_of(pb, model, case)
    bad.raw_input_contents[0] = bad.raw_input_contents[0][:-1]
    code, details = status_of(lambda: stub.ModelInfer(bad, timeout=10))
    checks.check(code == grpc.StatusCode.INVALID_ARGUMENT and bad.inputs[0].name in details, f"short raw input: {code} {details}")

    print(f"grpc_golden: {checks.passed} checks passed, {checks.failed} failed ({len(cases)} golden cases of {len({c[0] for c in cases})} models)")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
