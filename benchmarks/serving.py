"""`toolkit serve` under load: requests per second and latency by concurrency, batching off and on, beside in-process.

Usage:
    python benchmarks/serving.py RUN [RUN ...] [--concurrency 1 8 32] [--seconds 10]
        [--max-batch 32] [--batch-timeout-ms 2] [--client-processes 2]

For each run, and for batching off and on (`--max-batch`, `--batch-timeout-ms`):
`toolkit serve RUN --port 0` starts in a child process; at each concurrency
c, c connections (threads, spread over `--client-processes` processes that
import no TensorFlow) send one-row `:predict` requests back to back for
`--seconds`, after a warm-up; the server is then stopped with SIGTERM.
Every request must be answered 200.

In-process, the same one-row inputs go to the run's SavedModel loaded in
this process (`tf.saved_model.load(...).signatures["serving_default"]`,
called with `tf.constant`), from c threads, for as long: what a program
that loads the SavedModel itself gets, with no HTTP or JSON.

The inputs: review-like sentences for a text input; random uint8 images of
the run's recorded shape, as JSON lists of pixels, for an image input;
positive random price windows for a float input.

Printed: a table per run (requests per second, p50 and p99 latency in ms,
for the server and in-process, and their ratios), then the two measures of
the serving docs: the server's p50 at concurrency 1 less the in-process
p50, and batching's throughput at the highest concurrency over no batching.
Results also go to benchmarks/results/serving.json.

Client and server share the machine's cores: at high concurrency the
clients' own CPU time is part of what limits the server's throughput.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SENTENCES = [
    "A moving, beautiful film.",
    "The plot was thin and the acting worse.",
    "I laughed, I cried, and I would watch it again tomorrow.",
    "Two hours of my life I will not get back.",
    "An uneven but often brilliant debut from a director to watch.",
    "The score carries scenes that the script cannot.",
    "Dull, predictable and far too long.",
    "Every performance lands, and the ending is earned.",
]
WARM_UP_SECONDS = 1.0
URL = re.compile(r"(http://\S+?)/v1/models/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories, such as saved_models/sentiment/demo")
    parser.add_argument("--concurrency", nargs="+", type=int, default=[1, 8, 32])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per setting")
    parser.add_argument("--max-batch", type=int, default=32)
    parser.add_argument("--batch-timeout-ms", type=float, default=2.0)
    parser.add_argument("--client-processes", type=int, default=2)
    args = parser.parse_args()
    results = []
    for run in args.runs:
        bodies, rows = request_bodies(run)
        call = in_process_calls(run, rows)
        in_process = {c: _threads(call, c, args.seconds) for c in args.concurrency}
        for batching in (False, True):
            batch = ["--max-batch", str(args.max_batch), "--batch-timeout-ms", str(args.batch_timeout_ms)]
            flags = batch if batching else []
            with running_server(run, flags) as url:
                for concurrency in args.concurrency:
                    served = measure_server(
                        url, run.resolve().name, bodies, concurrency, args.seconds, args.client_processes
                    )
                    results.append({
                        "run": str(run), "batching": batching, "concurrency": concurrency,
                        "server": served, "in_process": in_process[concurrency],
                    })
                    print_row(results[-1])
    summarize(results, args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "serving.json").write_text(json.dumps({"settings": vars(args) | {"runs": list(map(str, args.runs))},
                                                      "results": results}, indent=2, default=str))


def request_bodies(run: Path) -> tuple[list[bytes], list]:
    """One-row `:predict` bodies for the run's input, and the same rows as Python values for the in-process calls."""
    from toolkit.run_directory import read_manifest

    recorded = read_manifest(run)["task"]["input"]
    rng = __import__("numpy").random.default_rng(0)
    shape = recorded["shape"][1:]
    if recorded["dtype"] == "string":
        rows = SENTENCES
    elif recorded["dtype"] == "uint8":
        rows = [rng.integers(0, 256, shape).tolist() for _ in range(16)]
    else:
        rows = [(100 + rng.random(shape) * 5).tolist() for _ in range(16)]
    return [json.dumps({"instances": [row]}).encode() for row in rows], rows


def in_process_calls(run: Path, rows: list):
    """A function that sends row i (of `rows`, cycled) to the run's SavedModel loaded in this process, warmed up."""
    import tensorflow as tf

    from toolkit.run_directory import SERVING, read_manifest

    recorded = read_manifest(run)["task"]["input"]
    signature = tf.saved_model.load(str(run / SERVING)).signatures["serving_default"]
    dtype = tf.as_dtype(recorded["dtype"])

    def call(index: int) -> None:
        signature(**{recorded["name"]: tf.constant([rows[index % len(rows)]], dtype)})

    call(0)  # the first call of a loaded function sets it up; no request of the server's pays for that either
    return call


def measure_server(url: str, model: str, bodies: list[bytes], concurrency: int, seconds: float, processes: int) -> dict:
    processes = max(1, min(processes, concurrency))
    shares = [concurrency // processes + (1 if index < concurrency % processes else 0) for index in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        parts = pool.starmap(_client_process, [(url, model, bodies, share, seconds) for share in shares])
    latencies = sorted(latency for part in parts for latency in part["latencies"])
    failures = sum(part["failures"] for part in parts)
    return _summary(latencies, seconds, failures)


def _client_process(url: str, model: str, bodies: list[bytes], threads: int, seconds: float) -> dict:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    path = f"/v1/models/{model}:predict"
    failures = []

    def client(index: int, latencies: list, deadline: float, measure_from: float) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        sent = index
        while (now := time.perf_counter()) < deadline:
            connection.request("POST", path, bodies[sent % len(bodies)], {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failures.append(response.status)
            if now >= measure_from:
                latencies.append(time.perf_counter() - now)
            sent += 1
        connection.close()

    start = time.perf_counter()
    lists = [[] for _ in range(threads)]
    measure_from = start + WARM_UP_SECONDS
    workers = [
        threading.Thread(target=client, args=(index, lists[index], measure_from + seconds, measure_from))
        for index in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"latencies": [latency for part in lists for latency in part], "failures": len(failures)}


def _threads(call, concurrency: int, seconds: float) -> dict:
    lists = [[] for _ in range(concurrency)]
    start = time.perf_counter()
    deadline, measure_from = start + WARM_UP_SECONDS + seconds, start + WARM_UP_SECONDS

    def worker(index: int) -> None:
        count = index
        while (now := time.perf_counter()) < deadline:
            call(count)
            if now >= measure_from:
                lists[index].append(time.perf_counter() - now)
            count += 1

    workers = [threading.Thread(target=worker, args=(index,)) for index in range(concurrency)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return _summary(sorted(latency for part in lists for latency in part), seconds, 0)


def _summary(latencies: list[float], seconds: float, failures: int) -> dict:
    return {
        "requests": len(latencies),
        "failures": failures,
        "requests_per_second": len(latencies) / seconds,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
    }


class running_server:
    """`toolkit serve RUN --port 0 FLAGS` in a child process; its base URL while it runs; SIGTERM at the end."""

    def __init__(self, run: Path, flags: list[str]):
        self.command = [sys.executable, "-m", "toolkit_cli", "serve", str(run), "--port", "0", *flags]

    def __enter__(self) -> str:
        self.process = subprocess.Popen(self.command, cwd=ROOT, stdout=subprocess.PIPE, text=True,
                                        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        for line in self.process.stdout:
            found = URL.search(line)
            if found:
                return found.group(1)
        raise RuntimeError(f"toolkit serve exited with status {self.process.wait()} before serving")

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def print_row(result: dict) -> None:
    served, alone = result["server"], result["in_process"]
    print(
        f"| {Path(result['run']).name} | {'on' if result['batching'] else 'off'} | {result['concurrency']} "
        f"| {served['requests_per_second']:.0f} | {served['p50_ms']:.2f} | {served['p99_ms']:.2f} "
        f"| {alone['requests_per_second']:.0f} | {alone['p50_ms']:.2f} | {alone['p99_ms']:.2f} "
        f"| {served['p50_ms'] / alone['p50_ms']:.2f} "
        f"| {served['requests_per_second'] / alone['requests_per_second']:.2f} "
        f"| {served['failures']} |",
        flush=True,
    )


def summarize(results: list[dict], args) -> None:
    print("\ncolumns: run | batching | concurrency | server req/s | p50 ms | p99 ms | in-process req/s | p50 ms | p99 ms "
          "| p50 ratio (server / in-process) | throughput ratio | failed requests")
    lowest, highest = min(args.concurrency), max(args.concurrency)
    for run in args.runs:
        rows = [result for result in results if result["run"] == str(run)]
        alone = next(r for r in rows if not r["batching"] and r["concurrency"] == lowest)
        off = next(r for r in rows if not r["batching"] and r["concurrency"] == highest)
        on = next(r for r in rows if r["batching"] and r["concurrency"] == highest)
        extra = alone["server"]["p50_ms"] - alone["in_process"]["p50_ms"]
        gain = on["server"]["requests_per_second"] / off["server"]["requests_per_second"]
        print(f"{run}: server p50 at concurrency {lowest} is {extra:+.2f} ms from the in-process call; "
              f"batching at concurrency {highest} gives {gain:.2f}x the throughput without it.")


if __name__ == "__main__":
    main()
