"""Long memory: the adding problem of Hochreiter & Schmidhuber (1997) at T = 100, 500 and 1000, under their criterion.

Usage:
    python benchmarks/long_memory.py [--lengths 100 500 1000] [--max-minutes 30] [--output-dir DIR]

The data is the 1997 coding (`toolkit.data.adding_problem`): values in
[-1, 1], two marked pairs (one of the first ten, one before T/2), lengths
T … T + T/10, target 0.5 + (X₁ + X₂)/4. Training is online, as in 1997:
every batch is fresh sequences, each seen once. A sequence is processed
correctly when the absolute error at its end is below 0.04. Training stops
when the mean squared error of the last 2,000 training sequences is below
0.01 and all 2,000 were correct (each judged by the answer given before the
update it contributed to), or when the budget runs out. Then 2,560 fresh
test sequences are scored.

Our LSTM trains first; our vanilla RNN then gets the same budget: as many
training sequences as the LSTM used, and no more than `--max-minutes`.

Where ours differs from 1997, by choice (each a flag):
- minibatches of `--batch-size` sequences and Adam with gradient clipping,
  where 1997 updated after every sequence with plain gradient descent;
- `--units` cells, with no peepholes or memory-cell blocks;
- chrono initialisation of the gates' biases (Tallec & Ollivier, 2018):
  forget bias log(u), input bias -log(u), u ~ U(1, T − 1), so that cells start
  with memories of every time scale up to T. `--no-chrono` uses the usual
  forget bias of 1.

For each T it prints a table row per model, writes the gradient probe's PNG
(‖∂L/∂x_t‖ per step, before and after training) and a JSON of the results.
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from toolkit.data.adding_problem import CONSTANT_GUESS_MSE, CORRECT_WITHIN, adding_problem, correct
from toolkit.evaluation.gradient_probe import gradient_norms_per_timestep, plot_gradient_norms
from toolkit.layers import LSTM, ChronoBias, SimpleRNNCell

TEST_SEQUENCES = 2_560
RECENT_SEQUENCES = 2_000
RECENT_MSE_BELOW = 0.01


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", type=int, nargs="+", default=[100, 500, 1000], help="minimal sequence lengths T")
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--clipnorm", type=float, default=1.0)
    parser.add_argument("--no-chrono", dest="chrono", action="store_false", help="forget bias 1 instead of chrono")
    parser.add_argument("--max-sequences", type=int, default=1_000_000, help="training budget per model")
    parser.add_argument("--max-minutes", type=float, default=30.0, help="wall-time budget per model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", type=Path, default=Path("benchmarks/results/long_memory"))
    return parser.parse_args()


def build_model(kind: str, length: int, args) -> keras.Model:
    """Masking (the front padding) → our LSTM or vanilla RNN → one linear output."""
    if kind == "LSTM":
        bias = {"bias_initializer": ChronoBias(length), "unit_forget_bias": False} if args.chrono else {}
        recurrent = LSTM(args.units, **bias)
    else:
        recurrent = keras.layers.RNN(SimpleRNNCell(args.units))
    return keras.Sequential(
        [keras.Input((length + length // 10, 2)), keras.layers.Masking(0.0), recurrent, keras.layers.Dense(1)]
    )


def train(kind: str, length: int, args, max_sequences: int) -> dict:
    """Trains online on fresh sequences until the 1997 stopping rule holds or the budget runs out."""
    keras.utils.set_random_seed(args.seed)
    model = build_model(kind, length, args)
    optimizer = keras.optimizers.Adam(args.learning_rate, clipnorm=args.clipnorm)
    probe_inputs, _, probe_targets = adding_problem(256, length, seed=args.seed + 3)
    norms_before = gradient_norms_per_timestep(model, probe_inputs, probe_targets)

    @tf.function
    def step(inputs, targets):
        with tf.GradientTape() as tape:
            predictions = model(inputs, training=True)
            loss = tf.reduce_mean(tf.square(predictions - targets))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return predictions

    stream = np.random.default_rng(args.seed + 1)
    recent_errors = collections.deque(maxlen=RECENT_SEQUENCES)
    sequences, solved, started, last_report = 0, False, time.perf_counter(), 0.0
    while sequences < max_sequences and time.perf_counter() - started < args.max_minutes * 60:
        inputs, _, targets = adding_problem(args.batch_size, length, seed=stream)
        predictions = step(inputs, targets).numpy()
        recent_errors.extend((predictions - targets).reshape(-1))
        sequences += args.batch_size
        errors = np.asarray(recent_errors)
        if len(errors) == RECENT_SEQUENCES and np.mean(errors**2) < RECENT_MSE_BELOW and np.all(np.abs(errors) < CORRECT_WITHIN):
            solved = True
            break
        elapsed = time.perf_counter() - started
        if elapsed - last_report > 60:
            last_report = elapsed
            print(
                f"  T={length} {kind:<12} {sequences:>8} sequences, {elapsed / 60:5.1f} min: last 2,000 MSE "
                f"{np.mean(errors**2):.4f}, correct {np.mean(np.abs(errors) < CORRECT_WITHIN):.3f}",
                flush=True,
            )
    seconds = time.perf_counter() - started

    test_inputs, _, test_targets = adding_problem(TEST_SEQUENCES, length, seed=args.seed + 2)
    test_predictions = model.predict(test_inputs, batch_size=256, verbose=0)
    right = correct(test_predictions, test_targets)
    return {
        "model": kind,
        "T": length,
        "solved": solved,
        "training_sequences": sequences,
        "seconds": seconds,
        "test_correct": float(np.mean(right)),
        "test_wrong": int(np.sum(~right)),
        "test_mse": float(np.mean((test_predictions - test_targets) ** 2)),
        "gradient_norms_before": norms_before.tolist(),
        "gradient_norms_after": gradient_norms_per_timestep(model, probe_inputs, probe_targets).tolist(),
    }


def main() -> None:
    args = parse_args()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    print(f"Adding problem (1997 coding); always answering 0.5 scores MSE {CONSTANT_GUESS_MSE:.4f}.")
    rows = []
    for length in args.lengths:
        lstm = train("LSTM", length, args, args.max_sequences)
        rnn = train("vanilla RNN", length, args, lstm["training_sequences"])
        results = [lstm, rnn]
        rows.extend(results)
        plot_gradient_norms(
            {f"{r['model']} ({stage})": np.array(r[f"gradient_norms_{stage}"]) for r in results for stage in ("before", "after")},
            args.output_dir / f"gradient_probe_T{length}.png",
            title=f"Adding problem, T = {length}: ‖∂L/∂x_t‖ before and after training",
        )
        (args.output_dir / f"long_memory_T{length}.json").write_text(
            json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": results}, indent=2)
        )
        print_table(rows)


def print_table(rows: list[dict]) -> None:
    print()
    print("| T | model | solved (1997 rule) | training sequences | minutes | test correct (of 2,560) | wrong | test MSE |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['T']} | {r['model']} | {'yes' if r['solved'] else 'no'} | {r['training_sequences']:,} | "
            f"{r['seconds'] / 60:.1f} | {r['test_correct']:.4f} | {r['test_wrong']} | {r['test_mse']:.5f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
