"""Long memory: the adding problem at sequence length T, our LSTM against our vanilla RNN.

Usage:
    python benchmarks/long_memory.py [--length 100] [--max-epochs 10] [--output-dir DIR]

Both models see the same data and the same budget. Each prints its final test
MSE against the 0.167 of always answering 1.0, and how many steps and seconds it
took to solve the task (test MSE below `--solved-mse`), if it did. The script
also writes the gradient probe's PNG (‖∂L/∂x_t‖ per time step, before and after
training) and a JSON of the results.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np

from toolkit.data.adding_problem import CONSTANT_GUESS_MSE, adding_problem
from toolkit.evaluation.gradient_probe import (
    gradient_norms_per_timestep,
    plot_gradient_norms,
)
from toolkit.layers import LSTM, SimpleRNNCell

RECURRENT_LAYERS = {
    "LSTM": lambda units: LSTM(units),
    "vanilla RNN": lambda units: keras.layers.RNN(SimpleRNNCell(units)),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--length", type=int, default=100, help="sequence length T")
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--train-samples", type=int, default=20_000)
    parser.add_argument("--test-samples", type=int, default=2_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--clipnorm", type=float, default=1.0)
    parser.add_argument("--max-epochs", type=int, default=10)
    parser.add_argument("--solved-mse", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", type=Path, default=Path("benchmarks/results/long_memory"))
    return parser.parse_args()


def train(name: str, args, data) -> dict:
    """Trains one model epoch by epoch until it solves the task or runs out of epochs."""
    (x_train, y_train), (x_test, y_test), probe_batch = data
    keras.utils.set_random_seed(args.seed)
    model = keras.Sequential(
        [keras.Input((args.length, 2)), RECURRENT_LAYERS[name](args.units), keras.layers.Dense(1)]
    )
    model.compile(keras.optimizers.Adam(args.learning_rate, clipnorm=args.clipnorm), loss="mse")
    norms_before = gradient_norms_per_timestep(model, *probe_batch)

    steps_per_epoch = int(np.ceil(len(x_train) / args.batch_size))
    history, solved_at, started = [], None, time.perf_counter()
    for epoch in range(1, args.max_epochs + 1):
        model.fit(x_train, y_train, batch_size=args.batch_size, epochs=1, verbose=0)
        test_mse = float(model.evaluate(x_test, y_test, batch_size=500, verbose=0))
        elapsed = time.perf_counter() - started
        history.append({"epoch": epoch, "steps": epoch * steps_per_epoch, "seconds": elapsed, "test_mse": test_mse})
        print(f"  {name:<12} epoch {epoch:>3}  test MSE {test_mse:.4f}  ({elapsed:.0f} s)", flush=True)
        if test_mse < args.solved_mse:
            solved_at = history[-1]
            break
    return {
        "model": name,
        "final_test_mse": history[-1]["test_mse"],
        "solved": solved_at is not None,
        "steps": history[-1]["steps"],
        "seconds": history[-1]["seconds"],
        "history": history,
        "gradient_norms_before": norms_before.tolist(),
        "gradient_norms_after": gradient_norms_per_timestep(model, *probe_batch).tolist(),
    }


def main() -> None:
    args = parse_args()
    data = (
        adding_problem(args.train_samples, args.length, seed=args.seed + 1),
        adding_problem(args.test_samples, args.length, seed=args.seed + 2),
        adding_problem(256, args.length, seed=args.seed + 3),
    )
    print(f"Adding problem, T = {args.length}; always answering 1.0 scores MSE {CONSTANT_GUESS_MSE:.3f}.")
    results = [train(name, args, data) for name in RECURRENT_LAYERS]

    args.output_dir.mkdir(parents=True, exist_ok=True)
    plot_path = plot_gradient_norms(
        {
            f"{r['model']} ({stage})": np.array(r[f"gradient_norms_{stage}"])
            for r in results
            for stage in ("before", "after")
        },
        args.output_dir / f"gradient_probe_T{args.length}.png",
        title=f"Adding problem, T = {args.length}: ‖∂L/∂x_t‖ before and after training",
    )
    json_path = args.output_dir / f"long_memory_T{args.length}.json"
    json_path.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": results}, indent=2))

    print()
    print("| model        | T    | test MSE | vs 1.0-guess | solved | steps  | seconds |")
    print("|--------------|------|----------|--------------|--------|--------|---------|")
    for r in results:
        print(
            f"| {r['model']:<12} | {args.length:<4} | {r['final_test_mse']:.4f}   | "
            f"{r['final_test_mse'] / CONSTANT_GUESS_MSE:>11.3f}× | {'yes' if r['solved'] else 'no':<6} | "
            f"{r['steps']:>6} | {r['seconds']:>7.0f} |"
        )
    print(f"\nGradient probe: {plot_path}\nResults: {json_path}")


if __name__ == "__main__":
    main()
