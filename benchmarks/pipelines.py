"""Each pipeline's default run: wall time, headline quality metric, its baseline's, and peak process memory.

Usage:
    python benchmarks/pipelines.py [NAME ...] [--set KEY=VALUE ...] [--output-dir DIR]

Each run is `toolkit run NAME` with its default config (changed by `--set`,
to measure one lever), in a process of its own so that its peak memory is
its own. The script prints a Markdown table, with the classifiers' targets
(accuracy and minutes) met or missed and the sentence comparing each run
with its baseline, and writes `pipelines.json` into the output folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from toolkit.registry import pipeline_names

# The number each pipeline is judged by, as a path into its metrics.json.
HEADLINE_METRICS = {
    "sentiment": ("test", "accuracy"),
    "stock": ("test", "headline", "skill_vs_persistence"),
    "image_classification": ("test", "accuracy"),
    "captioning": ("test", "beam", "bleu_4"),
    "text_generation": ("test", "bits_per_character"),
}
# Issue #13's targets: (test accuracy at least, wall minutes at most).
TARGETS = {"sentiment": (0.91, 10), "image_classification": (0.94, 10)}


def run_pipeline(name: str, output_dir: Path, overrides: list[str] | None = None) -> dict:
    """Runs one pipeline, with its defaults changed by `overrides`, in a child process and measures it."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "toolkit_cli", "run", name, "--run-name", "benchmark", "--output-dir", str(output_dir)]
    if overrides:
        command += ["--set", *overrides]
    child = subprocess.Popen(command)
    # wait4 gives this child's own resource usage, peak memory included.
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise subprocess.CalledProcessError(child.returncode, command)
    metrics = json.loads((output_dir / name / "benchmark" / "metrics.json").read_text())
    path = HEADLINE_METRICS.get(name, ("test", "accuracy"))
    value = metrics
    for key in path:
        value = value[key]
    test = metrics["test"]
    return {
        "pipeline": name,
        "overrides": overrides or [],
        "seconds": round(seconds, 1),
        "run_seconds": metrics.get("run_seconds"),
        "fit_seconds": metrics.get("fit_seconds"),
        "metric": " ".join(path),
        "value": value,
        "baseline": test.get("baseline", {}).get("baseline_accuracy", test.get("baseline_bits_per_character")),
        "verdict": test.get("headline", {}).get("verdict", ""),
        "branches": test.get("headline", {}).get("branches", ""),
        "peak_memory_mib": round(usage.ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="pipelines to run; default: all")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="config overrides for every run")
    parser.add_argument("--output-dir", type=Path, default=Path("benchmarks/results/pipelines"))
    args = parser.parse_args()
    names = args.names or pipeline_names()
    results = [run_pipeline(name, args.output_dir, args.set) for name in names]

    machine = f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}"
    print(f"\nRuns on {machine}{', with ' + ' '.join(args.set) if args.set else ''}:\n")
    print("| pipeline | wall time | fit time | quality | baseline | target | peak memory |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        baseline = "" if r["baseline"] is None else f"{r['baseline']:.4f}"
        target = ""
        if r["pipeline"] in TARGETS:
            accuracy, minutes = TARGETS[r["pipeline"]]
            met = r["value"] >= accuracy and r["seconds"] <= 60 * minutes
            target = f"≥ {accuracy} in ≤ {minutes} min: {'met' if met else 'missed'}"
        print(
            f"| {r['pipeline']} | {r['seconds'] / 60:.1f} min | {(r['fit_seconds'] or 0) / 60:.1f} min "
            f"| {r['metric']} {r['value']:.4f} | {baseline} | {target} | {r['peak_memory_mib']} MiB |"
        )
    for r in results:
        for sentence in (r["verdict"], r["branches"]):
            if sentence:
                print(f"\n{r['pipeline']}: {sentence}")
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "pipelines.json").write_text(json.dumps({"machine": machine, "results": results}, indent=2))


if __name__ == "__main__":
    main()
