"""Latency of serving: exported SavedModels at batch 1 and 64, against model.predict and a direct eager call.

Usage:
    python benchmarks/serving_latency.py [--calls 200] [--run NAME=RUN_DIR ...] [--output-dir DIR]

Part 1 builds Embedding(20000, 128) → LSTM(128) → Dense(2) twice, on our
`LSTM` and on `keras.layers.LSTM` with the same weights, exports both with
`model.export()`, and times, for each: the SavedModel's `serve` at batch 1
and 64 (p50 and p99), `model.predict` on one example, and a direct eager
call `model(x)` on one example. Sequences are 200 tokens long. Ours and
Keras' calls of a path alternate in blocks, so that drift of the machine
hits both.

Part 2 times each pipeline run given with `--run` (such as
`--run sentiment=saved_models/sentiment/mine`): its `serving_default` at
batch 1 against the same graph exported without the signature's input
checks, `Task.predict` and a direct eager call of its end-to-end model, on
a synthetic raw input of the right type.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from toolkit.layers import LSTM

LENGTH, UNITS, VOCABULARY = 200, 128, 20_000


def build(ours: bool) -> keras.Model:
    inputs = keras.Input((LENGTH,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(VOCABULARY, 128)(inputs)
    x = (LSTM if ours else keras.layers.LSTM)(UNITS)(x)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))


def percentiles(call, calls: int) -> dict:
    """p50 and p99 in milliseconds of about `calls` timed calls, each block after a warm-up call."""
    return interleaved_percentiles({"call": call}, calls)["call"]


def force(outputs):
    """Waits for every output, so that asynchronous execution is timed in full."""
    for value in tf.nest.flatten(outputs):
        np.asarray(value)


def layer_latency(calls: int) -> dict:
    """Each serving path's latency, ours and Keras' timed in alternating blocks (see `interleaved_percentiles`)."""
    rng = np.random.default_rng(0)
    one = rng.integers(1, VOCABULARY, (1, LENGTH)).astype("int32")
    batch = rng.integers(1, VOCABULARY, (64, LENGTH)).astype("int32")
    models = {"ours": build(True), "keras": build(False)}
    models["keras"].set_weights(models["ours"].get_weights())
    with tempfile.TemporaryDirectory() as folder:
        loaded = {}  # kept: a SavedModel's variables live as long as its loaded object
        for name, model in models.items():
            model.export(f"{folder}/{name}", verbose=False)
            loaded[name] = tf.saved_model.load(f"{folder}/{name}")
            served = loaded[name].serve(tf.constant(batch)).numpy()
            np.testing.assert_allclose(served, models["ours"].predict_on_batch(batch), atol=1e-4)
        paths = {
            "saved_model_batch_1": (lambda name: lambda: force(loaded[name].serve(tf.constant(one))), calls),
            "saved_model_batch_64": (lambda name: lambda: force(loaded[name].serve(tf.constant(batch))), max(calls // 10, 10)),
            "predict_batch_1": (lambda name: lambda: force(models[name].predict(one, verbose=0)), max(calls // 10, 10)),
            "eager_call_batch_1": (lambda name: lambda: force(models[name](one)), max(calls // 10, 10)),
        }
        timed = {path: interleaved_percentiles({name: call(name) for name in models}, count) for path, (call, count) in paths.items()}
    return {name: {path: timed[path][name] for path in paths} for name in models}


def interleaved_percentiles(calls_by_name: dict, calls: int, blocks: int = 10) -> dict:
    """p50 and p99 in milliseconds of `calls` timed calls of each, in alternating blocks.

    Each takes its turn for a block of `calls // blocks` timed calls, after
    one untimed call: a slow spell of the machine hits every call alike,
    while within a block a model serves warm, as a server serving it would.
    """
    times = {name: [] for name in calls_by_name}
    for _ in range(blocks):
        for name, call in calls_by_name.items():
            call()
            for _ in range(max(calls // blocks, 1)):
                started = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - started)
    return {name: _percentiles(values) for name, values in times.items()}


def _percentiles(times: list[float]) -> dict:
    return {"p50_ms": 1000 * float(np.percentile(times, 50)), "p99_ms": 1000 * float(np.percentile(times, 99))}


def synthetic_input(spec: tf.TensorSpec) -> np.ndarray:
    """A batch of one raw input matching a serving signature's spec."""
    shape = [1, *[dim or 8 for dim in spec.shape[1:]]]
    if spec.dtype == tf.string:
        return np.array(["A moving, beautiful film with a clever script."] * shape[0], dtype=object)
    if spec.dtype == tf.uint8:
        return np.random.default_rng(0).integers(0, 256, shape).astype("uint8")
    return (100 * np.exp(np.random.default_rng(0).normal(0, 0.01, shape))).astype(spec.dtype.as_numpy_dtype)


def pipeline_latency(run_dir: str, calls: int) -> dict:
    import toolkit

    task = toolkit.load(run_dir)
    spec = task.model.raw_input_spec()
    raw = synthetic_input(spec)
    serve = tf.saved_model.load(str(Path(run_dir) / "serving")).signatures["serving_default"]
    model = task.model
    # A captioner's end-to-end model also takes captions (for teacher forcing): no eager call to compare.
    single_input = len(model.inputs) == 1
    with tempfile.TemporaryDirectory() as folder:
        # The same graph without the signature's input checks and empty-batch guard: what they cost.
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serving_default", tf.function(model.serving_outputs, input_signature=[spec]))
        archive.write_out(folder, verbose=False)
        unchecked = tf.saved_model.load(folder).signatures["serving_default"]
        served = interleaved_percentiles(
            {
                "checked": lambda: force(serve(**{spec.name: tf.constant(raw)})),
                "unchecked": lambda: force(unchecked(**{spec.name: tf.constant(raw)})),
            },
            calls,
        )
    return {
        "saved_model_batch_1": served["checked"],
        "unchecked_saved_model_batch_1": served["unchecked"],
        "task_predict_batch_1": percentiles(lambda: force(task.predict(raw)), max(calls // 10, 5)),
        "eager_call_batch_1": percentiles(lambda: force(model(raw)), max(calls // 10, 5)) if single_input else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200, help="timed calls at batch 1")
    parser.add_argument("--run", action="append", default=[], metavar="NAME=RUN_DIR", help="a pipeline run to time")
    parser.add_argument("--output-dir", type=Path, default=Path("benchmarks/results/serving_latency"))
    args = parser.parse_args()
    machine = f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, TensorFlow {tf.__version__}, Keras {keras.__version__}"
    layers = layer_latency(args.calls)
    print(f"\nEmbedding → LSTM({UNITS}) → Dense, length {LENGTH}, on {machine} (milliseconds)\n")
    print("| path | ours p50 | ours p99 | Keras p50 | Keras p99 | Keras / ours (p50) |")
    print("|---|---|---|---|---|---|")
    for path in layers["ours"]:
        ours, theirs = layers["ours"][path], layers["keras"][path]
        print(f"| {path} | {ours['p50_ms']:.2f} | {ours['p99_ms']:.2f} | {theirs['p50_ms']:.2f} | "
              f"{theirs['p99_ms']:.2f} | {theirs['p50_ms'] / ours['p50_ms']:.2f}× |")
    for model in ("ours", "keras"):
        saved = layers[model]["saved_model_batch_1"]["p50_ms"]
        print(f"{model}: SavedModel batch 1 is {layers[model]['predict_batch_1']['p50_ms'] / saved:.1f}× faster than "
              f"model.predict and {layers[model]['eager_call_batch_1']['p50_ms'] / saved:.1f}× faster than an eager call.")
    pipelines = {}
    for assignment in args.run:
        name, _, run_dir = assignment.partition("=")
        pipelines[name] = pipeline_latency(run_dir, args.calls)
    if pipelines:
        print("\n| pipeline | SavedModel batch 1 p50 | without its input checks p50 | Task.predict p50 | eager end-to-end call p50 |")
        print("|---|---|---|---|---|")
        for name, r in pipelines.items():
            eager = f"{r['eager_call_batch_1']['p50_ms']:.2f}" if r["eager_call_batch_1"] else "n/a (two inputs)"
            print(f"| {name} | {r['saved_model_batch_1']['p50_ms']:.2f} | {r['unchecked_saved_model_batch_1']['p50_ms']:.2f} | "
                  f"{r['task_predict_batch_1']['p50_ms']:.2f} | {eager} |")
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "serving_latency.json").write_text(
        json.dumps({"machine": machine, "layers": layers, "pipelines": pipelines}, indent=2)
    )


if __name__ == "__main__":
    main()
