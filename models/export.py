#!/usr/bin/env python3
"""Builds the embedded model repository's TorchScript files and their golden cases.

Run with Debian's PyTorch 1.13 (the TorchScript it saves loads in TorchSharp 0.107 with identical
outputs; newer savers may emit operators libtorch 2.10 still reads, but 1.13 is what was verified):

    sudo apt-get install python3-torch python3-numpy
    /usr/bin/python3 models/export.py

Everything is seeded, so a re-run reproduces the committed files byte for byte: the weights and
goldens by torch's seeds, and the TorchScript code by Python's string hash seed (fixed at 0 below:
TorchScript writes a module's constants in the order of a Python set, which varies with it). The
files also record this script's absolute path in their debug info, so run it from a checkout at
/work/main to reproduce them exactly; elsewhere only that path differs. The weights are random:
these models exist to exercise the server with realistic shapes and operators, not to predict anything.

Each golden file is a KServe v2 JSON inference request plus the outputs PyTorch computed for it:
    {"request": {...}, "expected_outputs": [{"name", "datatype", "shape", "data"}]}
"""
import json
import os
import sys
from typing import List, Tuple

if os.environ.get("PYTHONHASHSEED") != "0":
    # Before torch is imported: the hash seed is read once, at interpreter start-up.
    os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, "PYTHONHASHSEED": "0"})

import numpy as np
import torch
from torch import nn

ROOT = os.path.dirname(os.path.abspath(__file__))


class CtrRanker(nn.Module):
    """DLRM-style click-through ranking: 26 hashed categorical features, 13 dense features."""

    def __init__(self, tables: int = 26, rows: int = 1500, dim: int = 16, dense: int = 13):
        super().__init__()
        self.tables = tables
        self.rows = rows
        # One fused table: feature i owns rows [i*rows, (i+1)*rows).
        self.embedding = nn.Embedding(tables * rows, dim)
        self.register_buffer("offsets", torch.arange(tables, dtype=torch.int64) * rows)
        self.bottom = nn.Sequential(nn.Linear(dense, 64), nn.ReLU(), nn.Linear(64, dim), nn.ReLU())
        pairs = (tables + 1) * tables // 2
        self.top = nn.Sequential(nn.Linear(pairs + dim, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 1))
        iu = torch.triu_indices(tables + 1, tables + 1, offset=1)
        self.register_buffer("iu0", iu[0])
        self.register_buffer("iu1", iu[1])

    def forward(self, sparse: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        # Ids are hashed into each table, so any int64 id is valid input.
        ids = torch.remainder(sparse, self.rows) + self.offsets
        emb = self.embedding(ids)                      # [B, 26, D]
        d = self.bottom(dense)                         # [B, D]
        x = torch.cat([d.unsqueeze(1), emb], dim=1)    # [B, 27, D]
        z = torch.bmm(x, x.transpose(1, 2))            # [B, 27, 27]
        inter = z[:, self.iu0, self.iu1]               # [B, 351]
        return torch.sigmoid(self.top(torch.cat([d, inter], dim=1)))  # [B, 1]


class TextEncoder(nn.Module):
    """Small Transformer encoder with masked mean pooling: [B, L] ids and mask -> [B, 128]."""

    def __init__(self, vocab: int = 1000, d: int = 128, heads: int = 4, layers: int = 2, ff: int = 256, max_len: int = 128):
        super().__init__()
        self.vocab = vocab
        self.max_len = max_len
        self.tokens = nn.Embedding(vocab, d)
        self.positions = nn.Embedding(max_len, d)
        layer = nn.TransformerEncoderLayer(d, heads, ff, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.norm = nn.LayerNorm(d)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        if input_ids.shape != attention_mask.shape:
            raise ValueError("input_ids and attention_mask must have the same shape")
        if input_ids.size(1) > self.max_len:
            raise ValueError("sequence longer than 128")
        if bool((attention_mask.sum(1) == 0).any()):
            raise ValueError("every sequence needs at least one token with attention_mask 1")
        ids = torch.remainder(input_ids, self.vocab)
        pos = torch.arange(ids.size(1), dtype=torch.int64).unsqueeze(0)
        x = self.tokens(ids) + self.positions(pos)
        h = self.encoder(x, src_key_padding_mask=attention_mask == 0)
        # In eval mode the encoder's fast path (nested tensors) returns only as many positions as
        # the longest unpadded row: padding at the end of every row is dropped, and the pooling
        # below failed on a lone padded sequence (found by the server's fuzz test). Put it back.
        if h.size(1) < ids.size(1):
            h = torch.nn.functional.pad(h, [0, 0, 0, ids.size(1) - h.size(1)])
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.norm(pooled)


class ImageClassifier(nn.Module):
    """Small CNN with BatchNorm: [B, 3, 64, 64] -> [B, 10] logits."""

    def __init__(self):
        super().__init__()

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2))

        self.features = nn.Sequential(block(3, 16), block(16, 32), block(32, 64), nn.AdaptiveAvgPool2d(1))
        self.head = nn.Linear(64, 10)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(self.features(image), 1))


class Strided(nn.Module):
    """Answers in strided memory of its own (a transposed product): a test model, for outputs the
    server must copy into its preallocated buffers before it can serve them."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * 2.0).transpose(1, 2)


class Pair(nn.Module):
    """Answers with a tuple of two tensors: a test model, for a model with two outputs."""

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return x * 2.0, x + 1.0


class PairList(nn.Module):
    """Answers with a list of two tensors: a test model, for outputs returned as a list."""

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        return [x + 1.0, x * 3.0]


class TensorAndCount(nn.Module):
    """Answers with a tensor and an int: a test model, for an answer that is not only tensors."""

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, int]:
        return x, 3


class CandidateRanker(nn.Module):
    """Ranks a user's candidate items from features the server joins: [B, 16] dense (user activity,
    item price, quality and title embedding), [B, 7] sparse ids (recent categories, item category,
    subcategory, brand) and [B, 2] request-time context -> [B, 1] click probability."""

    def __init__(self, sparse: int = 7, rows: int = 1000, dim: int = 16, dense: int = 16, context: int = 2):
        super().__init__()
        self.rows = rows
        self.embedding = nn.Embedding(sparse * rows, dim)
        self.register_buffer("offsets", torch.arange(sparse, dtype=torch.int64) * rows)
        self.bottom = nn.Sequential(nn.Linear(dense + context, 64), nn.ReLU(), nn.Linear(64, dim), nn.ReLU())
        pairs = (sparse + 1) * sparse // 2
        self.top = nn.Sequential(nn.Linear(pairs + dim, 64), nn.ReLU(), nn.Linear(64, 1))
        iu = torch.triu_indices(sparse + 1, sparse + 1, offset=1)
        self.register_buffer("iu0", iu[0])
        self.register_buffer("iu1", iu[1])

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        ids = torch.remainder(sparse, self.rows) + self.offsets
        emb = self.embedding(ids)                                   # [B, 7, D]
        d = self.bottom(torch.cat([dense, context], dim=1))         # [B, D]
        x = torch.cat([d.unsqueeze(1), emb], dim=1)                 # [B, 8, D]
        inter = torch.bmm(x, x.transpose(1, 2))[:, self.iu0, self.iu1]  # [B, 28]
        return torch.sigmoid(self.top(torch.cat([d, inter], dim=1)))


class UserCtr(nn.Module):
    """Scores a user's chance to click next from the stream processor's one-minute window
    (streams/feature_repo's user_ctr_1m): [B, 3] impressions, clicks and click-through rate ->
    [B, 1] probability."""

    def __init__(self):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))

    def forward(self, activity: torch.Tensor) -> torch.Tensor:
        x = torch.cat([torch.log1p(activity[:, :2]), activity[:, 2:]], dim=1)
        return torch.sigmoid(self.mlp(x))


class Identity(nn.Module):
    """Returns its input: the engine benchmarks' model, so that what they time is the engine."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def randomise_batchnorm(model: nn.Module, gen: torch.Generator) -> None:
    # Fresh BatchNorm layers are the identity in eval mode; give them real statistics.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=gen) * 0.1)


DTYPES = {torch.float32: "FP32", torch.int64: "INT64"}


def tensor_doc(name: str, t: torch.Tensor) -> dict:
    t = t.contiguous()
    if t.dtype == torch.float32:
        # '%.9g' round-trips every float32 exactly.
        data = [float("%.9g" % v) for v in t.reshape(-1).tolist()]
    else:
        data = [int(v) for v in t.reshape(-1).tolist()]
    return {"name": name, "datatype": DTYPES[t.dtype], "shape": list(t.shape), "data": data}


def write_golden(model_dir: str, case: str, inputs: dict, outputs: dict) -> None:
    os.makedirs(os.path.join(model_dir, "golden"), exist_ok=True)
    doc = {
        "request": {"id": case, "inputs": [tensor_doc(k, v) for k, v in inputs.items()]},
        "expected_outputs": [tensor_doc(k, v) for k, v in outputs.items()],
    }
    with open(os.path.join(model_dir, "golden", case + ".json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


def save(model: nn.Module, name: str) -> torch.jit.ScriptModule:
    model.eval()
    scripted = torch.jit.script(model)
    d = os.path.join(ROOT, name, "1")
    os.makedirs(d, exist_ok=True)
    scripted.save(os.path.join(d, "model.pt"))
    return scripted


def f32(values: torch.Tensor) -> list:
    # '%.9g' round-trips every float32 exactly.
    return [float("%.9g" % v) for v in values.reshape(-1).tolist()]


def write_joined_golden(model: torch.jit.ScriptModule, gen: torch.Generator) -> None:
    """The candidate ranker's golden: rows to push into feature_repo's views, a request of entity
    ids and context, the tensors the join must build (the views' defaults where a row is missing)
    and PyTorch's answer over them. Push event times are left to the test (the user view has a max
    age of a day)."""
    users = {1001: None, 1002: None}
    for u in users:
        counts = torch.randint(0, 50, (4,), generator=gen).to(torch.float32)
        ctrs = torch.rand(2, generator=gen) * 0.1
        users[u] = {"dense": torch.cat([counts, ctrs]), "recent": torch.randint(1, 500, (4,), generator=gen, dtype=torch.int64)}
    items = {}
    for i in (1, 2, 3, 4, 5):
        items[i] = {"ids": torch.randint(1, 5000, (3,), generator=gen, dtype=torch.int64),
                    "dense": torch.cat([torch.rand(1, generator=gen) * 100, torch.rand(1, generator=gen), torch.randn(8, generator=gen)])}
    user_default = {"dense": torch.tensor([0, 0, 0, 0, 0.02, 0.02], dtype=torch.float32), "recent": torch.zeros(4, dtype=torch.int64)}
    item_default = {"ids": torch.zeros(3, dtype=torch.int64), "dense": torch.cat([torch.tensor([0.0, 0.5]), torch.zeros(8)])}

    # User 1001 with four candidates (item 999 was never pushed), then user 4040 (never pushed) with two.
    user_ids = [1001, 1001, 1001, 1001, 4040, 4040]
    item_ids = [1, 2, 3, 999, 4, 5]
    context = torch.randn(len(user_ids), 2, generator=gen)
    dense, sparse = [], []
    for u, i in zip(user_ids, item_ids):
        us, it = users.get(u, user_default), items.get(i, item_default)
        dense.append(torch.cat([us["dense"], it["dense"]]))
        sparse.append(torch.cat([us["recent"], it["ids"]]))
    dense, sparse = torch.stack(dense), torch.stack(sparse)

    doc = {
        "push": [
            {"push_source_name": "user_activity_push", "df": {
                "user_id": list(users),
                "clicks_1h": [f32(users[u]["dense"][0])[0] for u in users],
                "impressions_1h": [f32(users[u]["dense"][1])[0] for u in users],
                "clicks_24h": [f32(users[u]["dense"][2])[0] for u in users],
                "impressions_24h": [f32(users[u]["dense"][3])[0] for u in users],
                "ctr_24h": [f32(users[u]["dense"][4])[0] for u in users],
                "ctr_7d": [f32(users[u]["dense"][5])[0] for u in users],
                "recent_categories": [users[u]["recent"].tolist() for u in users]}},
            {"push_source_name": "item_catalog_push", "df": {
                "item_id": list(items),
                "category": [int(items[i]["ids"][0]) for i in items],
                "subcategory": [int(items[i]["ids"][1]) for i in items],
                "brand": [int(items[i]["ids"][2]) for i in items],
                "price": [f32(items[i]["dense"][0])[0] for i in items],
                "quality_score": [f32(items[i]["dense"][1])[0] for i in items],
                "title_embedding": [f32(items[i]["dense"][2:]) for i in items]}},
        ],
        "request": {"id": "joined", "inputs": [
            tensor_doc("user_id", torch.tensor(user_ids, dtype=torch.int64).unsqueeze(1)),
            tensor_doc("item_id", torch.tensor(item_ids, dtype=torch.int64).unsqueeze(1)),
            tensor_doc("context", context)]},
        "joined_inputs": [tensor_doc("dense", dense), tensor_doc("sparse", sparse)],
        "expected_feature_statuses": "user_activity:PRESENT,PRESENT,PRESENT,PRESENT,NOT_FOUND,NOT_FOUND;"
                                     "item_static:PRESENT,PRESENT,PRESENT,NOT_FOUND,PRESENT,PRESENT",
        "expected_outputs": [tensor_doc("probability", model(dense, sparse, context))],
    }
    d = os.path.join(ROOT, "candidate-ranker", "golden-joined")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "joined.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


def write_streamed_golden(model: torch.jit.ScriptModule) -> None:
    """The streaming example's golden: an event log in ms after a minute boundary the test chooses
    (events, then heartbeats that every partition gets), the features of user_ctr_1m its events
    imply, a request of user ids and PyTorch's answer over those features.

    Which events count is computed here from the view's own definition: the window of an event,
    and whether it is still open by the watermark (the largest time seen minus the delay minus 1 ms).
    The log is built so that only heartbeats, which reach every partition, ever close a window: all
    events before the first heartbeat lie in the first window, early enough to keep it open; so the
    partition an event hashes to does not matter."""
    with open(os.path.join(ROOT, "..", "streams", "feature_repo", "user_events.json")) as f:
        definition = json.load(f)
    source = definition["stream_sources"][0]
    view = next(v for v in definition["feature_views"] if v["name"] == "user_ctr_1m")
    size = view["stream"]["window"]["size_ms"]
    lateness = view["stream"]["allowed_lateness_ms"]
    delay = source["watermark_delay_threshold_ms"]
    ctr_default = next(f["default"] for f in view["schema"] if f["name"] == "ctr_1m")

    def ev(t: int, user: int, kind: str, item: int, dwell: int) -> dict:
        return {"ts": t, "user_id": user, "type": kind, "item_id": item, "dwell_ms": dwell}

    log = [
        # User 7: impressions and clicks, one click before the impression it follows (out of order, within the delay).
        ev(1000, 7, "impression", 11, 300), ev(2500, 7, "click", 11, 4200), ev(2400, 7, "impression", 12, 150),
        ev(9000, 7, "impression", 13, 800), ev(15000, 7, "impression", 14, 90),
        # User 8: clicks with no impression in the window: no ratio, so the click-through rate's default.
        ev(3000, 8, "click", 21, 2000), ev(42000, 8, "click", 22, 1500),
        # User 9: impressions only.
        ev(5000, 9, "impression", 31, 100), ev(20000, 9, "impression", 32, 120), ev(55000, 9, "impression", 33, 80),
        ev(58000, 9, "impression", 34, 60),
        # The watermark passes the window's end: it fires.
        {"_wm": size + delay + 1},
        # Late but within the allowed lateness: user 7's row is replaced by one counting it.
        ev(30000, 7, "click", 13, 5000),
        # The watermark passes the end plus the lateness: the window is closed...
        {"_wm": size + lateness + delay + 1000},
        # ...so this click is too late: dropped, to the dead letters.
        ev(40000, 9, "click", 33, 700),
    ]

    watermark = -(2**62)
    rows = {}
    dropped = 0
    for e in log:
        if "_wm" in e:
            watermark = max(watermark, e["_wm"] - delay - 1)
            continue
        assert e["ts"] < size, "every event lies in the first window"
        if watermark >= size - 1 + lateness:
            dropped += 1
            continue
        row = rows.setdefault(e["user_id"], {"impressions": 0, "clicks": 0})
        row["impressions" if e["type"] == "impression" else "clicks"] += 1
    assert dropped == 1

    # User 404 sent no event: no row, so the view's defaults (0 for a count without one).
    users = [7, 8, 9, 404]
    activity = []
    for u in users:
        r = rows.get(u)
        if r is None:
            activity.append([0.0, 0.0, ctr_default])
        else:
            ctr = r["clicks"] / r["impressions"] if r["impressions"] > 0 else ctr_default
            activity.append([float(r["impressions"]), float(r["clicks"]), ctr])
    activity = torch.tensor(activity, dtype=torch.float32)

    doc = {
        "window_ms": size,
        "log": log,
        "request": {"id": "streamed", "inputs": [tensor_doc("user_id", torch.tensor(users, dtype=torch.int64).unsqueeze(1))]},
        "features": ["user_ctr_1m:impressions_1m", "user_ctr_1m:clicks_1m", "user_ctr_1m:ctr_1m"],
        "joined_inputs": [tensor_doc("activity", activity)],
        "expected_feature_statuses": "user_ctr_1m:PRESENT,PRESENT,PRESENT,NOT_FOUND",
        "expected_outputs": [tensor_doc("probability", model(activity))],
    }
    d = os.path.join(ROOT, "..", "streams", "models", "user-ctr", "golden-streamed")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "streamed.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


def main() -> None:
    torch.manual_seed(20261127)
    gen = torch.Generator().manual_seed(7)

    with torch.no_grad():
        ctr = save(CtrRanker(), "ctr-ranker")
        for case, b in (("batch1", 1), ("batch8", 8)):
            sparse = torch.randint(-(2**40), 2**40, (b, 26), generator=gen, dtype=torch.int64)
            dense = torch.randn(b, 13, generator=gen)
            write_golden(os.path.join(ROOT, "ctr-ranker"), case, {"sparse": sparse, "dense": dense},
                         {"probability": ctr(sparse, dense)})

        enc = save(TextEncoder(), "text-encoder")
        d = os.path.join(ROOT, "text-encoder")

        def seq(n: int) -> torch.Tensor:
            return torch.randint(1, 1000, (n,), generator=gen, dtype=torch.int64)

        ids = seq(17).unsqueeze(0)
        write_golden(d, "batch1", {"input_ids": ids, "attention_mask": torch.ones_like(ids)},
                     {"embedding": enc(ids, torch.ones_like(ids))})
        # One request, four sequences of different lengths padded to 32 inside it.
        lengths = [32, 20, 9, 1]
        ids = torch.zeros(4, 32, dtype=torch.int64)
        mask = torch.zeros(4, 32, dtype=torch.int64)
        for i, n in enumerate(lengths):
            ids[i, :n] = seq(n)
            mask[i, :n] = 1
        write_golden(d, "batch4-padded", {"input_ids": ids, "attention_mask": mask}, {"embedding": enc(ids, mask)})
        # Separate requests of different lengths, each computed alone and unpadded: the server
        # must give the same answers when it pads them into one batch.
        for n in (5, 40, 77, 128):
            ids = seq(n).unsqueeze(0)
            write_golden(d, "single-len%d" % n, {"input_ids": ids, "attention_mask": torch.ones_like(ids)},
                         {"embedding": enc(ids, torch.ones_like(ids))})

        # The benchmarks' identity model lives with them, outside the served repository.
        identity = torch.jit.script(Identity().eval())
        d = os.path.join(ROOT, "..", "perf", "models", "identity", "1")
        os.makedirs(d, exist_ok=True)
        identity.save(os.path.join(d, "model.pt"))

        cnn_model = ImageClassifier()
        randomise_batchnorm(cnn_model, gen)
        cnn = save(cnn_model, "image-classifier")
        for case, b in (("batch1", 1), ("batch3", 3)):
            image = torch.randn(b, 3, 64, 64, generator=gen)
            write_golden(os.path.join(ROOT, "image-classifier"), case, {"image": image}, {"logits": cnn(image)})

        # Last, so the random stream of every case above is unchanged: one sequence with padding
        # at its end, alone, which must give the embedding of its unpadded prefix.
        d = os.path.join(ROOT, "text-encoder")
        ids = torch.zeros(1, 32, dtype=torch.int64)
        mask = torch.zeros(1, 32, dtype=torch.int64)
        ids[0, :24] = seq(24)
        mask[0, :24] = 1
        write_golden(d, "single-trailing-padding", {"input_ids": ids, "attention_mask": mask}, {"embedding": enc(ids, mask)})

        # The tests' strided-output model, outside the served repository.
        d = os.path.join(ROOT, "..", "tests", "models", "strided", "1")
        os.makedirs(d, exist_ok=True)
        torch.jit.script(Strided().eval()).save(os.path.join(d, "model.pt"))

        # The tests' scripts of other answer shapes, bare files outside any repository.
        d = os.path.join(ROOT, "..", "tests", "scripts")
        os.makedirs(d, exist_ok=True)
        for name, module in (("pair", Pair()), ("pair-list", PairList()), ("tensor-and-count", TensorAndCount())):
            torch.jit.script(module.eval()).save(os.path.join(d, name + ".pt"))

        # The feature-joined ranker, seeded on its own so that adding it changed nothing above.
        torch.manual_seed(20261207)
        ranker = save(CandidateRanker(), "candidate-ranker")
        write_joined_golden(ranker, torch.Generator().manual_seed(11))

        # The streaming example's model, in its own repository beside streams/feature_repo.
        torch.manual_seed(20261208)
        user_ctr = UserCtr().eval()
        scripted = torch.jit.script(user_ctr)
        d = os.path.join(ROOT, "..", "streams", "models", "user-ctr", "1")
        os.makedirs(d, exist_ok=True)
        scripted.save(os.path.join(d, "model.pt"))
        write_streamed_golden(scripted)


if __name__ == "__main__":
    main()
