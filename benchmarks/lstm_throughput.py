"""Training and batch inference throughput of our LSTM against keras.layers.LSTM, with the same weights.

Usage:
    python benchmarks/lstm_throughput.py [--rounds 15] [--steps 10] [--output-dir DIR]

Each configuration is Embedding(20000, 128) → recurrent → Dense(1) over
sequences of length 200 in batches of 64: a single LSTM(128), a
Bidirectional one, and two stacked. Ours and Keras' layer get the same
weights and are timed interleaved (ours, Keras', ours, ...); each ratio is
the median over rounds of the ratio within a round, so that drift of this
machine between rounds cancels out. A ratio above 1 means ours is faster.
Training is timed twice: whole `train_on_batch` steps, and the forward and
backward passes alone (the gradients of the loss, without the optimizer's
update, which is the same for both and, for the embedding's 2.6 M weights,
a fifth of a step). The script also measures a float32 matrix-multiply peak
in the same process and reports the LSTM's achieved GFLOP/s against it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from toolkit.layers import LSTM

BATCH, LENGTH, UNITS, EMBEDDING, VOCABULARY = 64, 200, 128, 128, 20_000


def build(recurrent: str, ours: bool) -> keras.Model:
    """One benchmark model; `recurrent` is `single`, `bidirectional` or `stacked`."""
    layer = LSTM if ours else keras.layers.LSTM
    inputs = keras.Input((LENGTH,), dtype="int32")
    x = keras.layers.Embedding(VOCABULARY, EMBEDDING)(inputs)
    if recurrent == "single":
        x = layer(UNITS)(x)
    elif recurrent == "bidirectional":
        x = keras.layers.Bidirectional(layer(UNITS))(x)
    else:
        x = layer(UNITS)(layer(UNITS, return_sequences=True)(x))
    model = keras.Model(inputs, keras.layers.Dense(1)(x))
    model.compile(optimizer="adam", loss="mse")
    return model


def lstm_flops(recurrent: str, training: bool) -> float:
    """Multiply-add FLOPs of the LSTM layers for one batch (the gate matmuls; ×3 for training)."""
    per_layer = 2 * BATCH * LENGTH * (EMBEDDING + UNITS) * 4 * UNITS
    layers = {"single": 1, "bidirectional": 2, "stacked": 2}[recurrent]
    return per_layer * layers * (3 if training else 1)


def matmul_peak(size: int = 2048, repeats: int = 20) -> float:
    """Float32 GFLOP/s of a large matrix multiply on this machine, best of a few runs."""
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    multiply = tf.function(lambda: tf.matmul(a, b))
    multiply()
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(repeats):
            result = multiply()
        result.numpy()
        best = min(best, (time.perf_counter() - started) / repeats)
    return 2 * size**3 / best / 1e9


def interleaved(run_ours, run_keras, rounds: int) -> tuple[float, float, float]:
    """Times A B A B ... after a warm-up of each.

    Returns:
        The median seconds per call of each, and the median over rounds of
        Keras' time divided by ours within the round: each round's pair ran
        back to back, so drift of the machine between rounds cancels out.
    """
    run_ours(), run_keras()
    ours, theirs = [], []
    for _ in range(rounds):
        for run, times in ((run_ours, ours), (run_keras, theirs)):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
    ratio = float(np.median(np.array(theirs) / np.array(ours)))
    return float(np.median(ours)), float(np.median(theirs)), ratio


def measure(recurrent: str, rounds: int, steps: int) -> dict:
    ours, theirs = build(recurrent, ours=True), build(recurrent, ours=False)
    theirs.set_weights(ours.get_weights())
    rng = np.random.default_rng(0)
    x = rng.integers(1, VOCABULARY, (BATCH, LENGTH)).astype("int32")
    y = rng.normal(size=(BATCH, 1)).astype("float32")
    np.testing.assert_allclose(ours.predict_on_batch(x), theirs.predict_on_batch(x), atol=1e-4)

    def trainer(model):
        return lambda: [model.train_on_batch(x, y) for _ in range(steps)]

    def predictor(model):
        return lambda: [model.predict_on_batch(x) for _ in range(steps)]

    def differentiator(model):
        @tf.function
        def gradients():
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(keras.losses.mean_squared_error(y, model(x, training=True)))
            return tape.gradient(loss, model.trainable_weights)

        return lambda: [gradients() for _ in range(steps)]

    train_ours, train_theirs, train_ratio = interleaved(trainer(ours), trainer(theirs), rounds)
    infer_ours, infer_theirs, infer_ratio = interleaved(predictor(ours), predictor(theirs), rounds)
    _, _, gradient_ratio = interleaved(differentiator(ours), differentiator(theirs), rounds)
    sequences = BATCH * steps
    return {
        "configuration": recurrent,
        "train_sequences_per_second": {"ours": sequences / train_ours, "keras": sequences / train_theirs},
        "train_ratio": train_ratio,
        "forward_backward_ratio": gradient_ratio,
        "infer_sequences_per_second": {"ours": sequences / infer_ours, "keras": sequences / infer_theirs},
        "infer_ratio": infer_ratio,
        "train_gflops_ours": lstm_flops(recurrent, True) * steps / train_ours / 1e9,
        "infer_gflops_ours": lstm_flops(recurrent, False) * steps / infer_ours / 1e9,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds of each model, interleaved")
    parser.add_argument("--steps", type=int, default=10, help="batches per timed round")
    parser.add_argument("--output-dir", type=Path, default=Path("benchmarks/results/lstm_throughput"))
    args = parser.parse_args()
    peak = matmul_peak()
    results = [measure(recurrent, args.rounds, args.steps) for recurrent in ("single", "bidirectional", "stacked")]
    machine = f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, TensorFlow {tf.__version__}, Keras {keras.__version__}"
    print(f"\nLSTM({UNITS}), batch {BATCH}, length {LENGTH}, on {machine}; matmul peak {peak:.0f} GFLOP/s\n")
    print(
        "| configuration | train seq/s ours | train seq/s Keras | train ratio | forward+backward ratio "
        "| infer seq/s ours | infer seq/s Keras | infer ratio | train GFLOP/s (of peak) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        train, infer = r["train_sequences_per_second"], r["infer_sequences_per_second"]
        print(
            f"| {r['configuration']} | {train['ours']:.0f} | {train['keras']:.0f} | {r['train_ratio']:.2f}× | "
            f"{r['forward_backward_ratio']:.2f}× | "
            f"{infer['ours']:.0f} | {infer['keras']:.0f} | {r['infer_ratio']:.2f}× | "
            f"{r['train_gflops_ours']:.0f} ({r['train_gflops_ours'] / peak:.0%}) |"
        )
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "lstm_throughput.json").write_text(
        json.dumps({"machine": machine, "matmul_peak_gflops": peak, "results": results}, indent=2)
    )


if __name__ == "__main__":
    main()
