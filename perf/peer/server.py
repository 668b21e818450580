#!/usr/bin/env python3
"""The Python peer: what a Python user would write instead of this server.

FastAPI on uvicorn with PyTorch, serving the same TorchScript files of the model repository at the
same route (POST /v2/models/{name}/infer) and in the same encodings (KServe v2 JSON, and MessagePack
with raw little-endian tensor bytes). One worker process, torch.set_num_threads(1), like the server's
default. Run with Debian's Python (python3-fastapi, python3-uvicorn, python3-torch, python3-msgpack,
python3-numpy):

    /usr/bin/python3 perf/peer/server.py --port 8003 [--models models]
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


def load(root):
    models = {}
    for name in sorted(os.listdir(root)):
        config_path = os.path.join(root, name, "config.json")
        if not os.path.isfile(config_path):
            continue
        with open(config_path) as f:
            config = json.load(f)
        versions = sorted(int(v) for v in os.listdir(os.path.join(root, name)) if v.isdigit())
        module = torch.jit.load(os.path.join(root, name, str(versions[-1]), "model.pt"))
        module.eval()
        models[name] = (config, module, str(versions[-1]))
    return models


def create_app(root):
    torch.set_num_threads(1)
    models = load(root)
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
        config, module, version = models[name]
        body = await request.body()
        use_msgpack = "msgpack" in request.headers.get("content-type", "")
        doc = msgpack.unpackb(body) if use_msgpack else json.loads(body)
        by_name = {t["name"]: t for t in doc["inputs"]}
        args = []
        for spec in config["input"]:
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
    a = parser.parse_args()
    uvicorn.run(create_app(a.models), host="127.0.0.1", port=a.port, workers=1, log_level="warning", access_log=False)
