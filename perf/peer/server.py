#!/usr/bin/env python3
"""The Python peer: what a Python user would write instead of this server.

FastAPI on uvicorn with PyTorch, serving the same TorchScript files of the model repository at the
same route (POST /v2/models/{name}/infer) and in the same encodings (KServe v2 JSON, and MessagePack
with raw little-endian tensor bytes). One worker process, torch.set_num_threads(1), like the server's
default. Run with Debian's Python (python3-fastapi, python3-uvicorn, python3-torch, python3-msgpack,
python3-numpy):

    /usr/bin/python3 perf/peer/server.py --port 8003 [--models models] [--feature-repository feature_repo]

A model whose config.json has a `features` block (docs/features.md, "Feature-joined inference") is
called with entity ids like the server's: with --feature-repository (a Redis store; python3-redis),
join.py reads its rows with one MGET per request and lays the joined inputs with numpy; without it,
such a model is not served (as the server leaves it unloaded).
"""
import argparse
import json
import os

import msgpack
import numpy as np
import torch
import uvicorn
from fastapi import FastAPI, Request, Response

DTYPES = {"BOOL": np.bool_, "UINT8": np.uint8, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32,
          "INT64": np.int64, "FP16": np.float16, "FP32": np.float32, "FP64": np.float64}


def load(root, repository=None):
    models = {}
    for name in sorted(os.listdir(root)):
        config_path = os.path.join(root, name, "config.json")
        if not os.path.isfile(config_path):
            continue
        with open(config_path) as f:
            config = json.load(f)
        join = None
        if "features" in config:
            if repository is None:
                print(f"{name}: not served (its config has features and no --feature-repository was given)")
                continue
            import join as joining  # redis-py only where a model joins
            join = joining.Join(config["features"], repository)
        versions = sorted(int(v) for v in os.listdir(os.path.join(root, name)) if v.isdigit())
        module = torch.jit.load(os.path.join(root, name, str(versions[-1]), "model.pt"))
        module.eval()
        models[name] = (config, module, str(versions[-1]), join)
    return models


def create_app(root, feature_repository=None):
    torch.set_num_threads(1)
    repository = None
    if feature_repository:
        import join as joining
        repository = joining.FeatureRepository(feature_repository)
    models = load(root, repository)
    app = FastAPI()

    # The models are loaded before the app exists: serving means ready (the side-by-side script
    # waits on this instead of posting an empty body to infer, which the peer answers with a 500).
    @app.get("/v2/health/ready")
    async def ready():
        return Response(status_code=200)

    @app.post("/v2/models/{name}/infer")
    async def infer(name: str, request: Request):
        if name not in models:
            return Response(status_code=404, content=json.dumps({"error": f"unknown model '{name}'"}), media_type="application/json")
        config, module, version, join = models[name]
        body = await request.body()
        use_msgpack = "msgpack" in request.headers.get("content-type", "")
        doc = msgpack.unpackb(body) if use_msgpack else json.loads(body)
        by_name = {t["name"]: t for t in doc["inputs"]}
        joined, statuses = {}, None
        if join is not None:
            ids = {}
            for input_name in join.entity_inputs:
                t = by_name[input_name]
                ids[input_name] = np.frombuffer(t["data"], dtype=np.int64) if use_msgpack else np.asarray(t["data"], dtype=np.int64)
            rows = len(ids[next(iter(ids))])
            joined, statuses = join.fill(ids, rows, {s["name"]: s["data_type"][5:] for s in config["input"]})
        args = []
        for spec in config["input"]:
            if spec["name"] in joined:
                args.append(torch.from_numpy(joined[spec["name"]]))
                continue
            t = by_name[spec["name"]]
            dtype = DTYPES[t["datatype"]]
            data = np.frombuffer(t["data"], dtype=dtype) if use_msgpack else np.asarray(t["data"], dtype=dtype)
            args.append(torch.from_numpy(data.reshape(t["shape"]).copy()))
        with torch.inference_mode():
            out = module(*args)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        outputs = []
        for spec, tensor in zip(config["output"], outs):
            arr = tensor.numpy()
            outputs.append({"name": spec["name"], "datatype": spec["data_type"][5:], "shape": list(arr.shape),
                            "data": arr.tobytes() if use_msgpack else arr.reshape(-1).tolist()})
        answer = {"model_name": name, "model_version": version, "outputs": outputs}
        if statuses is not None:
            answer["parameters"] = {"feature_statuses": statuses}
        if "id" in doc:
            answer["id"] = doc["id"]
        if use_msgpack:
            return Response(content=msgpack.packb(answer), media_type="application/msgpack")
        return Response(content=json.dumps(answer), media_type="application/json")

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8003)
    parser.add_argument("--models", default="models")
    parser.add_argument("--feature-repository", default=None)
    a = parser.parse_args()
    uvicorn.run(create_app(a.models, a.feature_repository), host="127.0.0.1", port=a.port, workers=1, log_level="warning", access_log=False)
