#!/usr/bin/python3
"""EdgeLoop trainer contract, in PyTorch: an example to copy into your own pipeline.

    train.py <dataset-dir> <params.json> <out-dir>
    train.py --describe

Reads an EdgeLoop dataset folder (manifest.json, labels.jsonl, images/), trains a small
camera-frame -> distance (mm) regressor, and writes what the fleet server expects in out-dir:
model.onnx, metrics.json, baseline.json, meta.json and train.log. Progress goes to stdout as
JSON lines; any other stdout line is log. Exit 0: done; 2: bad input (the message says what to
fix); anything else: a failed run.

Needs only Debian's python3-torch, python3-onnx and python3-pil (numpy comes with them).
"""
import hashlib
import json
import math
import os
import sys
import time

DESCRIPTION = {
    "name": "pytorch-example",
    "version": "1",
    "description": "PyTorch example: average pooling, then a dense hidden layer; exported with torch.onnx.export.",
    "params": {
        "epochs": {"type": "integer", "default": 40, "min": 1, "max": 1000, "description": "passes over the training split"},
        "learningRate": {"type": "number", "default": 0.002, "min": 0.00001, "max": 1, "description": "Adam step size"},
        "hidden": {"type": "integer", "default": 64, "min": 4, "max": 1024, "description": "hidden units"},
        "batchSize": {"type": "integer", "default": 64, "min": 1, "max": 4096, "description": "samples per step"},
    },
}

# What the agent feeds the model (the registry's meta.json): 64x48 RGB, stretched, /255, NCHW.
WIDTH, HEIGHT = 64, 48
META = {
    "preprocessing": {
        "kind": "image", "input": "image", "width": WIDTH, "height": HEIGHT, "layout": "NCHW",
        "colorOrder": "RGB", "resize": "fill", "scale": 1 / 255, "mean": [0, 0, 0], "std": [1, 1, 1],
    },
    "postprocessing": {"kind": "regression", "output": "distance", "unit": "mm"},
}
SPLIT_RATIOS = {"train": 80, "validation": 10, "holdout": 10}
# protocol's FEATURE_EDGES and VALUE_BINS: fixed edges, so histograms compare bin by bin.
UNIT_EDGES = [round(i * 5) / 100 for i in range(21)]
FEATURE_EDGES = {name: UNIT_EDGES for name in ["mean_r", "mean_g", "mean_b", "brightness", "saturation", "contrast"]}
FEATURE_EDGES["sharpness"] = [i / 2 for i in range(33)]
VALUE_BINS = 32


class InputError(Exception):
    """Bad input: reported on stderr, exit 2."""


def progress(**fields):
    print(json.dumps(fields), flush=True)


class Log:
    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8")

    def __call__(self, line):
        self.file.write(line + "\n")
        self.file.flush()
        print(line, flush=True)


def read_params(path):
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read params file {path}: {err}; it must hold one JSON object")
    if not isinstance(raw, dict):
        raise InputError(f"params file {path} must hold one JSON object")
    errors, params = [], {}
    seed = raw.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        errors.append(f"seed must be an integer, got {json.dumps(seed)}")
    for name, value in raw.items():
        if name == "seed":
            continue
        spec = DESCRIPTION["params"].get(name)
        if spec is None:
            errors.append(f'unknown parameter "{name}" (it takes: {", ".join(DESCRIPTION["params"])})')
        elif not isinstance(value, (int, float)) or isinstance(value, bool) or (spec["type"] == "integer" and not float(value).is_integer()):
            errors.append(f"{name} must be {'an integer' if spec['type'] == 'integer' else 'a number'}, got {json.dumps(value)}")
        elif not spec["min"] <= value <= spec["max"]:
            errors.append(f"{name} must be between {spec['min']} and {spec['max']}, got {value}")
        else:
            params[name] = value
    if errors:
        raise InputError(f"params file {path}:\n  " + "\n  ".join(errors))
    for name, spec in DESCRIPTION["params"].items():
        params.setdefault(name, spec["default"])
    params["seed"] = seed
    return params


def split_of(sha256, ratios):
    """protocol's splitOf: the first 32 bits of the image hash mod 100 against the ratios."""
    bucket = int(sha256[:8], 16) % 100
    if bucket < ratios["train"]:
        return "train"
    if bucket < ratios["train"] + ratios["validation"]:
        return "validation"
    return "holdout"


def read_dataset(folder):
    """The dataset folder's items, every line checked; all problems reported at once."""
    from PIL import Image
    import numpy as np

    ratios = SPLIT_RATIOS
    manifest_path = os.path.join(folder, "manifest.json")
    if os.path.exists(manifest_path):
        with open(manifest_path, encoding="utf-8") as f:
            ratios = json.load(f).get("split", {}).get("ratios", SPLIT_RATIOS)
    labels_path = os.path.join(folder, "labels.jsonl")
    if not os.path.exists(labels_path):
        raise InputError(f"no labels.jsonl in {folder}: a dataset folder holds one {{\"file\", \"label\"}} object per line")
    items, problems = [], []
    with open(labels_path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"labels.jsonl line {number}"
            try:
                item = json.loads(line)
            except ValueError:
                problems.append(f"{where}: not valid JSON")
                continue
            file, label = item.get("file"), item.get("label")
            if not isinstance(file, str) or ".." in file.split("/") or file.startswith("/"):
                problems.append(f"{where}: file must be a relative path inside the dataset folder")
                continue
            if not isinstance(label, (int, float)) or isinstance(label, bool) or not math.isfinite(label):
                problems.append(f"{where}: label must be a number")
                continue
            path = os.path.join(folder, file)
            try:
                with open(path, "rb") as img:
                    data = img.read()
            except OSError:
                problems.append(f"{where}: image {file} is missing")
                continue
            sha256 = hashlib.sha256(data).hexdigest()
            try:
                with Image.open(path) as img:
                    # The agent stretches the frame to 64x48 with sharp (Lanczos-3); PIL's LANCZOS is
                    # the closest it offers. Your own pipeline must resize the way the agent will.
                    rgb = np.asarray(img.convert("RGB").resize((WIDTH, HEIGHT), Image.LANCZOS), dtype=np.uint8)
            except OSError as err:
                problems.append(f"{where}: image {file} cannot be decoded ({err})")
                continue
            items.append({"label": float(label), "split": item.get("split") or split_of(sha256, ratios), "rgb": rgb})
    if problems:
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise InputError(f"dataset {folder} has {len(problems)} bad item(s); fix or remove these lines:\n  " + "\n  ".join(problems[:10]) + more)
    for split in ("train", "validation"):
        if not any(i["split"] == split for i in items):
            raise InputError(f"dataset {folder} has no {split} items ({len(items)} in all)")
    return items


def image_features(rgb):
    """protocol's image-features.ts on 8-bit RGB (values /255): the same names and definitions."""
    import numpy as np

    x = rgb.astype(np.float64)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    mx, mn = x.max(axis=2), x.min(axis=2)
    sat = np.where(mx > 0, (mx - mn) / np.where(mx > 0, mx, 1), 0)
    luma = (0.299 * r + 0.587 * g + 0.114 * b) / 255
    lap = luma[1:-1, :-2] + luma[1:-1, 2:] + luma[:-2, 1:-1] + luma[2:, 1:-1] - 4 * luma[1:-1, 1:-1]
    return {
        "mean_r": r.mean() / 255, "mean_g": g.mean() / 255, "mean_b": b.mean() / 255,
        "brightness": 0.299 * r.mean() / 255 + 0.587 * g.mean() / 255 + 0.114 * b.mean() / 255,
        "saturation": sat.mean(), "contrast": luma.std(), "sharpness": lap.var(),
    }


def histogram(values, edges):
    """protocol's histogramOf: out-of-range values count in the outer bins, none dropped."""
    import bisect

    counts = [0] * (len(edges) - 1)
    for v in values:
        counts[min(max(bisect.bisect_right(edges, v) - 1, 0), len(counts) - 1)] += 1
    return {"edges": list(edges), "counts": counts}


def value_edges(lo, hi):
    """protocol's valueEdges: the training range widened by half its span each side."""
    span = max(hi - lo, 1)
    start, end = math.floor(lo - span / 2), math.ceil(hi + span / 2)
    step = (end - start) / VALUE_BINS
    return [end if i == VALUE_BINS else start + i * step for i in range(VALUE_BINS + 1)]


def errors(pred, truth):
    n = len(truth)
    if n == 0:
        return {"mae": 0, "rmse": 0, "count": 0}
    d = [p - t for p, t in zip(pred, truth)]
    return {"mae": round(sum(abs(x) for x in d) / n, 4), "rmse": round(math.sqrt(sum(x * x for x in d) / n), 4), "count": n}


def train(dataset_dir, params_file, out_dir):
    params = read_params(params_file)
    os.makedirs(out_dir, exist_ok=True)
    if os.listdir(out_dir):
        raise InputError(f"out-dir {out_dir} is not empty; give an empty or new folder")
    log = Log(os.path.join(out_dir, "train.log"))
    started = time.monotonic()
    try:
        run(dataset_dir, params, out_dir, log, started)
    except InputError as err:
        log(f"error: {err}")
        raise


def run(dataset_dir, params, out_dir, log, started):
    import numpy as np
    import torch
    from torch import nn

    torch.manual_seed(params["seed"])
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    log(f"pytorch-example: torch {torch.__version__}, params {json.dumps(params, sort_keys=True)}")

    progress(type="phase", phase="loading")
    items = read_dataset(dataset_dir)
    by_split = {s: [i for i in items if i["split"] == s] for s in ("train", "validation", "holdout")}
    log(", ".join(f"{s} {len(v)}" for s, v in by_split.items()))

    def tensors(rows):
        x = np.stack([r["rgb"] for r in rows]).astype(np.float32) / 255  # N,H,W,C
        return torch.from_numpy(x.transpose(0, 3, 1, 2).copy()), torch.tensor([[r["label"]] for r in rows], dtype=torch.float32)

    train_x, train_y = tensors(by_split["train"])
    val_x, val_y = tensors(by_split["validation"])
    pool = nn.AvgPool2d(4)
    with torch.no_grad():
        pooled = pool(train_x).flatten(1)
        f_mean, f_std = pooled.mean(0), pooled.std(0).clamp_min(1e-3)
        y_mean, y_std = train_y.mean(), train_y.std().clamp_min(1e-3)

    class Model(nn.Module):
        """Pooling, standardisation and the label scale live in the graph: ONNX in, mm out."""

        def __init__(self):
            super().__init__()
            self.pool = pool
            self.register_buffer("f_mean", f_mean)
            self.register_buffer("f_std", f_std)
            self.register_buffer("y_mean", y_mean)
            self.register_buffer("y_std", y_std)
            self.mlp = nn.Sequential(nn.Linear(pooled.shape[1], params["hidden"]), nn.ReLU(), nn.Linear(params["hidden"], 1))

        def forward(self, image):
            z = self.mlp((self.pool(image).flatten(1) - self.f_mean) / self.f_std)
            return z * self.y_std + self.y_mean

    model = Model()
    optimizer = torch.optim.Adam(model.parameters(), lr=params["learningRate"])
    generator = torch.Generator().manual_seed(params["seed"])
    best = (math.inf, 0, None)
    for epoch in range(1, params["epochs"] + 1):
        model.train()
        order = torch.randperm(len(train_x), generator=generator)
        total = 0.0
        for start in range(0, len(order), params["batchSize"]):
            idx = order[start:start + params["batchSize"]]
            optimizer.zero_grad()
            loss = nn.functional.huber_loss((model(train_x[idx]) - y_mean) / y_std, (train_y[idx] - y_mean) / y_std)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            val_mae = (model(val_x) - val_y).abs().mean().item()
        progress(type="epoch", epoch=epoch, epochs=params["epochs"], loss=round(total / len(order), 6), valMae=round(val_mae, 4))
        if val_mae < best[0]:
            best = (val_mae, epoch, {k: v.clone() for k, v in model.state_dict().items()})
    model.load_state_dict(best[2])
    model.eval()
    log(f"best validation MAE at epoch {best[1]}")

    progress(type="phase", phase="evaluating")
    predictions = {}
    with torch.no_grad():
        for split, rows in by_split.items():
            predictions[split] = model(tensors(rows)[0]).flatten().tolist() if rows else []
    truth = {s: [r["label"] for r in rows] for s, rows in by_split.items()}
    train_mean = sum(truth["train"]) / len(truth["train"])
    baseline_on = truth["holdout"] or truth["validation"]
    metrics = {
        "validation": errors(predictions["validation"], truth["validation"]),
        "train": errors(predictions["train"], truth["train"]),
        "meanBaselineMae": round(sum(abs(t - train_mean) for t in baseline_on) / len(baseline_on), 4),
        "epochs": params["epochs"],
        "durationMs": round((time.monotonic() - started) * 1000),
        "extra": {"bestEpoch": best[1]},
    }
    if truth["holdout"]:
        metrics["holdout"] = errors(predictions["holdout"], truth["holdout"])

    progress(type="phase", phase="exporting")
    torch.onnx.export(
        model, torch.zeros(1, 3, HEIGHT, WIDTH), os.path.join(out_dir, "model.onnx"),
        input_names=["image"], output_names=["distance"],
        dynamic_axes={"image": {0: "batch"}, "distance": {0: "batch"}}, opset_version=13,
    )
    import onnx

    onnx.checker.check_model(onnx.load(os.path.join(out_dir, "model.onnx")))

    features = [image_features(r["rgb"]) for r in by_split["train"]]
    edges = value_edges(min(truth["train"]), max(truth["train"]))
    baseline = {
        "count": len(features),
        "features": {name: histogram([f[name] for f in features], e) for name, e in FEATURE_EDGES.items()},
        "prediction": histogram(predictions["train"], edges),
        "reference": histogram(truth["train"], edges),
    }
    for name, value in (("metrics.json", metrics), ("baseline.json", baseline), ("meta.json", META)):
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2)
    log(f"validation MAE {metrics['validation']['mae']} mm, holdout MAE {metrics.get('holdout', {}).get('mae', '-')} mm "
        f"(predicting the mean: {metrics['meanBaselineMae']} mm)")


def main(argv):
    if argv == ["--describe"]:
        print(json.dumps(DESCRIPTION))
        return 0
    if len(argv) != 3:
        raise InputError(f"expected 3 arguments, got {len(argv)}; usage: train.py <dataset-dir> <params.json> <out-dir> | --describe")
    train(*argv)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except InputError as err:
        print(str(err), file=sys.stderr)
        sys.exit(2)
