"""Each pipeline's default run: wall time, headline quality metric and peak process memory.

Usage:
    python benchmarks/pipelines.py [NAME ...] [--output-dir DIR]

Each run is `toolkit run NAME` with its default config, in a process of its
own so that its peak memory is its own. The script prints a Markdown table
and writes `pipelines.json` into the output folder.
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
}


def run_pipeline(name: str, output_dir: Path) -> dict:
    """Runs one default pipeline in a child process and measures it."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "toolkit", "run", name, "--run-name", "benchmark", "--output-dir", str(output_dir)]
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
    return {
        "pipeline": name,
        "seconds": round(seconds, 1),
        "metric": " ".join(path),
        "value": value,
        "peak_memory_mib": round(usage.ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="pipelines to run; default: all")
    parser.add_argument("--output-dir", type=Path, default=Path("benchmarks/results/pipelines"))
    args = parser.parse_args()
    names = args.names or pipeline_names()
    results = [run_pipeline(name, args.output_dir) for name in names]

    machine = f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}"
    print(f"\nDefault runs on {machine}:\n")
    print("| pipeline | wall time | quality | peak memory |")
    print("|---|---|---|---|")
    for r in results:
        print(f"| {r['pipeline']} | {r['seconds'] / 60:.1f} min | {r['metric']} {r['value']:.4f} | {r['peak_memory_mib']} MiB |")
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "pipelines.json").write_text(json.dumps({"machine": machine, "results": results}, indent=2))


if __name__ == "__main__":
    main()
