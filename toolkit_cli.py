"""The `toolkit` command's entry point: its arguments, the commands that need no TensorFlow, and quiet native logging.

It imports nothing of TensorFlow or `toolkit` until a command needs them:
`--help` and `list` answer at once (pipelines are listed from their entry
points), and `describe` from a cache kept by its first answer (see
`_description_cache`). Every other command imports `pipelines` (so that a
plain checkout finds them too) and runs in `toolkit.cli`.

TensorFlow's C++ start-up lines (the oneDNN notice, the CPU-feature lines,
absl's "All log messages before absl::InitializeLog()") are written straight
to file descriptor 2 while TensorFlow is imported, before any Python setting
can take effect, and `TF_CPP_MIN_LOG_LEVEL` does not silence all of them. So
this module, which imports nothing of TensorFlow or `toolkit` first, passes
the process's standard error through a filter that drops native log lines
and keeps everything else. `--verbose` leaves standard error as it is.

`python -m toolkit_cli` is the same command. `run(argv)` runs one command
in the calling process, as tests and programs that embed the CLI do.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import sys
import threading
import traceback
from pathlib import Path

# absl/TensorFlow native info and warning lines: "I0000 00:00:1795534796.514455   31197 port.cc:153] ...".
# Errors (E) and fatal lines (F) stay: they may be the only account of a crash.
_NATIVE_LOG_LINE = re.compile(rb"^[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] ")
# A task named alone on a line: the list that follows a native line such as the coordination service's
# "Example stragglers:"; hidden only when that line was.
_NATIVE_TASK_LIST_LINE = re.compile(rb"^/job:\w+/replica:\d+/task:\d+$")
# The node list TensorFlow's executor puts on a line of its own after a native line (a refused input's
# "Local rendezvous is aborting"); hidden only when that line was.
_NATIVE_NODE_LIST_LINE = re.compile(rb"^\t \[\[\{\{")
# Native lines logged as errors that are notices: oneDNN's fallback for a dtype it cannot speed up.
_NATIVE_ERROR_NOTICE = re.compile(rb"^E\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] oneDNN supports \w+ only on platforms with")
_NATIVE_NOTICES = (
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    b"To enable the following instructions:",  # the second line of cpu_feature_guard's notice
)


def is_native_log_line(line: bytes) -> bool:
    """Whether `line` is TensorFlow's or absl's native information or warning, rather than a message meant for the user."""
    return bool(_NATIVE_LOG_LINE.match(line) or _NATIVE_ERROR_NOTICE.match(line)) or line.startswith(_NATIVE_NOTICES)


# Where runs go unless --output-dir says otherwise; `toolkit.api.DEFAULT_OUTPUT_DIR` is the same folder.
DEFAULT_OUTPUT_DIR = Path("saved_models")
# The entry-point group pipelines register in; `toolkit.registry.ENTRY_POINT_GROUP` reads the same.
PIPELINE_ENTRY_POINTS = "toolkit.pipelines"


def build_parser() -> argparse.ArgumentParser:
    """The `toolkit` command's parser: every command and option, built without importing TensorFlow or toolkit."""
    parser = argparse.ArgumentParser(prog="toolkit", description="Train, serve and fine-tune sequence models.")
    parser.add_argument(
        "--verbose", action="store_true", help="show TensorFlow's own logging and warnings, hidden by default"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="train, evaluate and export a pipeline")
    run.add_argument("name", help="pipeline name; see `toolkit list`")
    run.add_argument("--config", type=Path, help="YAML config; default: the pipeline's defaults")
    run.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="dotted overrides, e.g. trainer.epochs=3")
    run.add_argument(
        "--run-name", help="run directory name, a plain name (default: a timestamp); reuse it to resume a killed run"
    )
    run.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR)
    run.add_argument(
        "--fresh", action="store_true", help="discard what a killed run of this name left to resume from, and start over"
    )
    run.add_argument(
        "--local-workers", type=int, metavar="N",
        help="train as a multi-worker cluster of N processes on this machine (127.0.0.1), to try "
        "trainer.distribution=multi_worker without other hosts",
    )

    predict = commands.add_parser("predict", help="predict raw inputs with a trained run")
    predict.add_argument("run_dir", type=Path)
    predict.add_argument(
        "inputs", nargs="*",
        help="raw inputs: review texts (sentiment), prompts (text_generation), one-ticker price CSVs (stock) or image "
        "files (image_classification, captioning)",
    )
    predict.add_argument(
        "--lines", type=Path, metavar="FILE",
        help="a UTF-8 text file whose lines are the inputs, one text or prompt each (sentiment, text_generation)",
    )

    evaluate = commands.add_parser("evaluate", help="held-out metrics of a trained run")
    evaluate.add_argument("run_dir", type=Path)
    evaluate.add_argument("--data", type=Path, help="a data file; default: the run's own test split")

    fine_tune = commands.add_parser("fine-tune", help="train a run further on new data and export the result")
    fine_tune.add_argument("run_dir", type=Path)
    fine_tune.add_argument("--data", type=Path, required=True, help="a data file, such as a CSV of text,label")
    fine_tune.add_argument("--output", type=Path, required=True, help="the new run directory (not the source run)")
    fine_tune.add_argument("--epochs", type=int, default=3)
    fine_tune.add_argument("--learning-rate", type=float, default=1e-4)
    fine_tune.add_argument("--freeze", nargs="+", default=[], metavar="LAYER", help="network layers to keep fixed")
    fine_tune.add_argument("--classes", nargs="+", metavar="NAME", help="new class names; a new head if their count differs")

    tune = commands.add_parser(
        "tune", help="search a pipeline's hyperparameters with Optuna; every trial is an ordinary run"
    )
    tune.add_argument("name", help="pipeline name; see `toolkit list`")
    tune.add_argument(
        "--config", type=Path, required=True,
        help="a search config: a pipeline config plus a `search:` section (see configs/search/)",
    )
    tune.add_argument(
        "--trials", type=int, metavar="N",
        help="the study's size: run trials until it holds N finished ones, counting earlier runs and other "
        "processes (default: search.trials)",
    )
    tune.add_argument(
        "--timeout", type=float, metavar="MIN", help="start no trial after MIN minutes (default: search.timeout)"
    )
    tune.add_argument(
        "--study", metavar="NAME",
        help="the study's name, a plain name; the same name resumes it (default: the config file's name)",
    )
    tune.add_argument(
        "--keep", choices=("best", "all", "none"), default="best",
        help="which trials keep their models: the best 3 (default), all or none; configs and metrics always stay",
    )
    tune.add_argument(
        "--storage", metavar="URL",
        help="a database URL that several hosts share, such as postgresql://user:password@host/db "
        "(default: a journal file in the study folder)",
    )
    tune.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR)

    serve = commands.add_parser(
        "serve", help="serve runs over TensorFlow Serving's REST API, with batching, health, metrics and a page"
    )
    serve.add_argument(
        "runs", nargs="*", type=Path, metavar="RUN", help="run directories, each served as a model named after its folder"
    )
    serve.add_argument(
        "--model", action="append", default=[], metavar="NAME=RUN1,RUN2",
        help="serve runs as versions 1, 2, ... of model NAME (the highest answers by default); repeatable",
    )
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: this machine only)")
    serve.add_argument("--port", type=int, default=8501, help="the port (default: 8501, TF Serving's; 0: any free one)")
    serve.add_argument(
        "--max-request-mb", type=float, default=16.0, metavar="MB", help="larger request bodies get 413 (default: 16)"
    )
    serve.add_argument(
        "--max-generate-length", type=int, metavar="N",
        help="the most characters a text generation request may ask for (default: the bound each model was trained "
        "with, its serving.max_generate_length)",
    )
    serve.add_argument(
        "--max-batch", type=int, metavar="N",
        help="merge concurrent requests to a model into calls of up to N rows (default: no batching)",
    )
    serve.add_argument(
        "--batch-timeout-ms", type=float, default=2.0, metavar="MS",
        help="with --max-batch: the longest a request waits for others to join its batch (default: 2)",
    )

    export = commands.add_parser(
        "export", help="export a run for ONNX Runtime or LiteRT (model files, spec.json, portable.py), or copy its SavedModel"
    )
    export.add_argument("run_dir", type=Path)
    export.add_argument(
        "--format", required=True, choices=("onnx", "litert", "savedmodel"), dest="export_format",
        help="onnx or litert: written into RUN/onnx or RUN/litert and listed in its run.json; savedmodel: a copy of "
        "RUN/serving, with --output",
    )
    export.add_argument("--output", type=Path, help="a new folder of its own for the export, with an export.json")
    export.add_argument(
        "--quantize", action="store_true",
        help="litert: also write each model's int8 variant (*.int8.tflite, dynamic-range quantization)",
    )

    commands.add_parser("list", help="list the registered pipelines")
    describe = commands.add_parser("describe", help="document a pipeline's config keys")
    describe.add_argument("name")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the `toolkit` command; returns its exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "list":
        return _list()
    if args.command == "describe" and (cached := _cached_description(args.name)) is not None:
        print(cached, end="")
        return 0
    quiet = not args.verbose
    stop_filtering = _filter_standard_error() if quiet else lambda: None
    try:
        status = _run_parsed(args, quiet, progress=True)
    except Exception:
        if "TF_CONFIG" not in os.environ:
            raise
        traceback.print_exc()  # a bug's traceback, before the process of a cluster ends at once
        status = 1
    finally:
        stop_filtering()
    if args.command == "describe" and status == 0:
        from toolkit.cli import description

        _cache_description(args.name, description(args.name))
    from toolkit.cli import end_at_once_in_a_cluster

    end_at_once_in_a_cluster(status)
    return status


def _filter_standard_error():
    """Sends file descriptor 2 through a thread that drops native log lines; returns a function that undoes it."""
    original = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def forward() -> None:
        hidden = False
        with os.fdopen(read_end, "rb") as lines:
            for line in lines:
                continued = _NATIVE_TASK_LIST_LINE.match(line.rstrip()) or _NATIVE_NODE_LIST_LINE.match(line)
                hidden = is_native_log_line(line) or (hidden and bool(continued))
                if not hidden:
                    os.write(original, line)

    thread = threading.Thread(target=forward, name="toolkit-stderr-filter", daemon=True)
    thread.start()

    def stop() -> None:
        sys.stderr.flush()
        os.dup2(original, 2)  # closes the pipe's last writer: the thread reads to the end and stops
        thread.join(timeout=5)
        os.close(original)

    return stop


def run(argv: list[str], quiet: bool = False) -> int:
    """Runs one command in this process, as the `toolkit` command would, without filtering its output; returns its status.

    Args:
        argv: The arguments, such as `["predict", "saved_models/sentiment/demo", "a fine film"]`.
        quiet: Hide TensorFlow's Python logging and the warnings of TensorFlow and Keras.
    """
    args = build_parser().parse_args(argv)
    return _list() if args.command == "list" else _run_parsed(args, quiet)


def _run_parsed(args: argparse.Namespace, quiet: bool, progress: bool = False) -> int:
    if args.command != "serve":  # serving needs a run's SavedModel alone, never its pipeline
        import pipelines  # noqa: F401  (registers the built-in pipelines, also in a checkout never installed)
    from toolkit.cli import run_command

    return run_command(args, quiet=quiet, progress=progress)


def _description_cache(name: str) -> Path | None:
    """Where `toolkit describe NAME` is kept, keyed by the code it describes; `None` where that code cannot be found.

    The key covers toolkit's version and the size and modification time of
    every Python file of toolkit and of the pipeline's own package, so an edit
    to any config class makes a new entry. Looking it up imports nothing.
    """
    entry_point = next(
        (entry for entry in importlib.metadata.entry_points(group=PIPELINE_ENTRY_POINTS) if entry.name == name), None
    )
    if entry_point is None:
        return None
    digest = hashlib.sha256(f"{importlib.metadata.version('toolkit')}\0{entry_point.value}".encode())
    for package in ("toolkit", entry_point.value.partition(".")[0].partition(":")[0]):
        spec = importlib.util.find_spec(package)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            for path in sorted(Path(folder).rglob("*.py")):
                status = path.stat()
                digest.update(f"{path}\0{status.st_size}\0{status.st_mtime_ns}\0".encode())
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "toolkit" / "describe"
    return cache / f"{name}-{digest.hexdigest()[:16]}.txt"


def _cached_description(name: str) -> str | None:
    try:
        path = _description_cache(name)
        return path.read_text() if path is not None and path.is_file() else None
    except (OSError, ImportError, importlib.metadata.PackageNotFoundError):
        return None


def _cache_description(name: str, text: str) -> None:
    """Keeps `text` for the next `toolkit describe NAME`; a cache that cannot be written is skipped."""
    try:
        path = _description_cache(name)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        partial.write_text(text)
        partial.replace(path)
    except (OSError, ImportError, importlib.metadata.PackageNotFoundError):
        pass


def _list() -> int:
    """Prints the pipelines' names: from the installed entry points, or the registry of a plain checkout."""
    names = sorted(entry_point.name for entry_point in importlib.metadata.entry_points(group=PIPELINE_ENTRY_POINTS))
    if not names:
        import pipelines  # noqa: F401
        from toolkit.registry import pipeline_names

        names = pipeline_names()
    print("\n".join(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
