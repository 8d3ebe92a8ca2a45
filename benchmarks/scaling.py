"""Multi-worker training: one worker against N on this machine, and a model of scaling over N hosts.

Usage:
    python benchmarks/scaling.py measure [NAME ...] [--workers 2] [--repeats 2] [--set KEY=VALUE ...]
    python benchmarks/scaling.py model [NAME ...]

`measure` trains each pipeline's smoke config (changed by `--set`) as one
process, then as a cluster of `--workers` local workers
(`toolkit run --local-workers`), `--repeats` times each, and prints wall
time, fit time and test accuracy side by side. On one machine the workers
share its cores, so this measures the overhead of synchronous all-reduce,
not a speed-up.

`model` builds each pipeline's default network (a classifier's branches
together), times its training steps at the default global batch on this
machine (one process), and counts the bytes a ring all-reduce moves per
step: each worker sends and receives 2 (N - 1) / N times the gradients'
size (dense; sparse embedding gradients move less). With N hosts each
computing 1/N of the batch, a step takes about
`compute / N + bytes / bandwidth`. Communication then costs as much as the
compute it saves at a bandwidth of 2 x size / compute, whatever N: below
it, adding hosts stops paying. The table also gives the speed-up of 8 hosts
at 1 and 10 Gbit/s, under this model (no latency, no overlap).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMOKE = {
    "sentiment": "configs/sentiment_smoke.yaml",
    "image_classification": "configs/image_classification_smoke.yaml",
    "stock": "configs/stock_smoke.yaml",
    "captioning": "configs/captioning_smoke.yaml",
}


def measure(names: list[str], workers: int, repeats: int, overrides: list[str]) -> None:
    print("| pipeline (smoke config) | processes | wall time (s) | fit time (s) | test accuracy |")
    print("|---|---|---|---|---|")
    for name in names:
        for count in (1, workers):
            walls, fits, accuracies = [], [], []
            for repeat in range(repeats):
                with tempfile.TemporaryDirectory() as output:
                    command = [
                        sys.executable, "-m", "toolkit_cli", "run", name, "--config", SMOKE[name],
                        "--run-name", "scaling", "--output-dir", output, "--set", "trainer.verbose=0", *overrides,
                    ] + (["--local-workers", str(count)] if count > 1 else [])
                    started = time.perf_counter()
                    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
                    walls.append(time.perf_counter() - started)
                    metrics = json.loads((Path(output) / name / "scaling" / "metrics.json").read_text())
                    fits.append(metrics["fit_seconds"])
                    accuracies.append(metrics["test"].get("accuracy", float("nan")))
            print(
                f"| {name} | {count} | {' / '.join(f'{w:.0f}' for w in walls)} | {' / '.join(f'{f:.0f}' for f in fits)} "
                f"| {' / '.join(f'{a:.4f}' for a in accuracies)} |",
                flush=True,
            )


def model(names: list[str]) -> None:
    import keras
    import numpy as np

    from toolkit.api import resolve_config
    from toolkit.registry import get_pipeline

    print(
        "| pipeline | parameters | gradients | step at the default batch, 1 process | all-reduced per worker per step, "
        "N = 2 / 8 | N hosts stop paying below | speed-up of 8 hosts at 1 / 10 Gbit/s |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in names:
        pipeline = get_pipeline(name)
        config = resolve_config(name, None, ["trainer.verbose=0"])
        keras.utils.set_random_seed(0)
        data = pipeline.load_data(config)
        preprocessor = pipeline.build_preprocessor(config, data)
        task = pipeline.build_task(config, data, preprocessor)
        network = task.network
        network.compile(optimizer="adam", loss=pipeline.default_loss())
        batches = pipeline.dataset(data.train, task, config.trainer.batch_size, shuffle=True).take(25).cache()
        network.fit(batches.take(5), verbose=0)  # traced and warmed up
        started = time.perf_counter()
        network.fit(batches.skip(5), verbose=0)
        step = (time.perf_counter() - started) / 20
        size = 4 * int(sum(np.prod(weight.shape) for weight in network.trainable_weights))

        def moved(count: int) -> float:
            return 2 * (count - 1) / count * size

        def speed_up(count: int, bits_per_second: float) -> float:
            return step / (step / count + moved(count) / (bits_per_second / 8))

        # Communication takes as long as the compute it saves: moved(N) / bandwidth = step (N - 1) / N, for any N.
        threshold = 2 * size / step
        print(
            f"| {name} | {size // 4:,} | {size / 2**20:.1f} MiB | {step * 1000:.0f} ms "
            f"| {moved(2) / 2**20:.1f} / {moved(8) / 2**20:.1f} MiB | {threshold * 8 / 1e9:.2f} Gbit/s "
            f"| {speed_up(8, 1e9):.1f}x / {speed_up(8, 1e10):.1f}x |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["measure", "model"])
    parser.add_argument("names", nargs="*", default=["sentiment", "image_classification"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--set", nargs="+", default=[], dest="overrides")
    args = parser.parse_args()
    if args.what == "measure":
        measure(args.names, args.workers, args.repeats, args.overrides)
    else:
        model(args.names)


if __name__ == "__main__":
    main()
