"""The Python peer's feature join: what a Python service in front of a model would do with redis-py.

Reads the feature repository (docs/features.md: feature_store.json and the definition files), and for
a model whose config.json has a `features` block fills its joined inputs from Redis, in the server's
key and value layout (docs/features.md, "The online store"):

    key    <project>:<view>:{<join key>=<id>}            ranking:user_activity:{user_id=1001}
    value  16-byte header (version 1, revision, fingerprint, event time µs, little-endian), then the
           view's features packed little-endian in schema order

One MGET per request for every (view, entity id) the request needs, each id read once per view; a
row missing, of another length or version, or older than its view's max age takes the view's
defaults (the fingerprint is not recomputed: that needs XxHash32). The values are laid per row in
the order the model's `features.inputs` names them, with numpy, as the server lays them.
"""
import json
import os
import time

import numpy as np
import redis

DTYPES = {"BOOL": np.dtype("bool"), "UINT8": np.dtype("<u1"), "INT8": np.dtype("<i1"), "INT16": np.dtype("<i2"),
          "INT32": np.dtype("<i4"), "INT64": np.dtype("<i8"), "FP16": np.dtype("<f2"), "BF16": np.dtype("<u2"),
          "FP32": np.dtype("<f4"), "FP64": np.dtype("<f8")}
HEADER = 16


def _default_bytes(dtype, count, default):
    values = np.asarray(default if default is not None else 0, dtype=np.float64 if dtype != "BOOL" else np.bool_).reshape(-1)
    if values.size == 1:
        values = np.repeat(values, count)
    if values.size != count:
        raise ValueError(f"a default of {values.size} values for {count} elements")
    if dtype == "BF16":
        # bfloat16: the upper half of the FP32 bits, rounded to nearest even.
        bits = values.astype("<f4").view("<u4").astype(np.uint64)
        return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2").tobytes()
    return values.astype(DTYPES[dtype]).tobytes()


class View:
    def __init__(self, project, definition, entities):
        self.name = definition["name"]
        entity = entities[definition["entities"][0]]
        self.join_key = entity["join_keys"][0]
        self.prefix = f"{project}:{self.name}:{{{self.join_key}=".encode()
        self.ttl_us = int(definition.get("ttl_seconds", 0)) * 1_000_000
        self.features = {}  # name -> (byte offset in the row, byte length)
        defaults = []
        offset = 0
        for f in definition["schema"]:
            count = int(np.prod(f.get("shape", []), dtype=np.int64))
            length = count * DTYPES[f["dtype"]].itemsize
            self.features[f["name"]] = (offset, length)
            defaults.append(_default_bytes(f["dtype"], count, f.get("default", 0)))
            offset += length
        self.row_bytes = offset
        self.default_row = np.frombuffer(b"".join(defaults), dtype=np.uint8)

    def key(self, entity_id):
        return self.prefix + str(int(entity_id)).encode() + b"}"


class FeatureRepository:
    def __init__(self, root):
        with open(os.path.join(root, "feature_store.json")) as f:
            store = json.load(f)
        self.project = store["project"]
        self.stores = store.get("online_stores", {"default": {"type": "embedded"}})
        entities, views = {}, []
        for name in sorted(os.listdir(root)):
            if not name.endswith(".json") or name == "feature_store.json":
                continue
            with open(os.path.join(root, name)) as f:
                doc = json.load(f)
            for e in doc.get("entities", []):
                entities[e["name"]] = e
            views.extend(doc.get("feature_views", []))
        self.views = {v["name"]: View(self.project, v, entities) for v in views}
        self.view_store = {v["name"]: v.get("online_store", "default") for v in views}
        self.entity_keys = {name: e["join_keys"][0] for name, e in entities.items()}

    def redis(self, store_name):
        store = self.stores[store_name]
        if store.get("type") != "redis":
            raise ValueError(f"online store '{store_name}' is {store.get('type')}: the peer reads Redis only")
        parts = store["connection_string"].split(",")
        host, port = parts[0].rsplit(":", 1)
        options = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        return redis.Redis(host=host, port=int(port), password=options.get("password"), socket_keepalive=True)


class Join:
    """One model's join: entity inputs, and for each joined input its (view, byte range) pieces."""

    def __init__(self, features, repository):
        self.entity_inputs = {e["input"]: e["entity"] for e in features["entities"]}
        self.views = []  # views in first use order
        self.inputs = {}  # joined input name -> (dtype name, [(view, src offset, length, dst offset)], row bytes)
        stores = set()
        for spec in features["inputs"]:
            pieces, dst = [], 0
            for ref in spec["features"]:
                view_name, feature = ref.split(":", 1)
                view = repository.views[view_name]
                if view not in self.views:
                    self.views.append(view)
                    stores.add(repository.view_store[view_name])
                offset, length = view.features[feature]
                # Adjacent features of one view that keep their order: one copy.
                if pieces and pieces[-1][0] is view and pieces[-1][1] + pieces[-1][2] == offset:
                    v, o, n, d = pieces[-1]
                    pieces[-1] = (v, o, n + length, d)
                else:
                    pieces.append((view, offset, length, dst))
                dst += length
            self.inputs[spec["name"]] = (pieces, dst)
        if len(stores) != 1:
            raise ValueError(f"the peer joins from one store; this model's views use {sorted(stores)}")
        self.redis = repository.redis(stores.pop())
        # Each view's entity input (the request input that carries its ids).
        by_entity = {entity: name for name, entity in self.entity_inputs.items()}
        entity_of_key = {key: entity for entity, key in repository.entity_keys.items()}
        self.view_input = {v.name: by_entity[entity_of_key[v.join_key]] for v in self.views}

    def fill(self, ids_by_input, rows, datatypes):
        """The joined inputs as numpy arrays [rows, ...], and the per-view statuses when some row was not PRESENT."""
        keys, plan = [], []
        for view in self.views:
            ids = ids_by_input[self.view_input[view.name]].reshape(-1)
            unique, index = np.unique(ids, return_inverse=True)
            plan.append((view, len(keys), len(unique), index))
            keys.extend(view.key(i) for i in unique)
        values = self.redis.mget(keys)
        now_us = time.time_ns() // 1000
        tables, statuses, all_present = {}, {}, True
        for view, first, count, index in plan:
            table = np.empty((count + 1, view.row_bytes), dtype=np.uint8)
            table[count] = view.default_row
            status = []
            for j in range(count):
                v = values[first + j]
                if v is None or len(v) != HEADER + view.row_bytes or v[0] != 1:
                    table[j] = view.default_row
                    status.append("NOT_FOUND")
                elif view.ttl_us and now_us - int.from_bytes(v[8:16], "little", signed=True) > view.ttl_us:
                    table[j] = view.default_row
                    status.append("OUTSIDE_MAX_AGE")
                else:
                    table[j] = np.frombuffer(v, dtype=np.uint8, offset=HEADER)
                    status.append("PRESENT")
            all_present = all_present and all(s == "PRESENT" for s in status)
            tables[view.name] = table[index]
            statuses[view.name] = [status[i] for i in index]
        out = {}
        for name, (pieces, row_bytes) in self.inputs.items():
            buffer = np.empty((rows, row_bytes), dtype=np.uint8)
            for view, src, length, dst in pieces:
                buffer[:, dst:dst + length] = tables[view.name][:, src:src + length]
            out[name] = buffer.view(DTYPES[datatypes[name]])
        text = None if all_present else ";".join(f"{v}:{','.join(s)}" for v, s in statuses.items())
        return out, text
