"""What the command line's commands do (`run`, `predict`, `evaluate`, `fine-tune`, `tune`, `serve`, `export`, `describe`); `toolkit_cli` parses their arguments."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import errno
import functools
import logging
import os
import re
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import tensorflow as tf

from toolkit import api, local_cluster, progress, run_directory, strict_json, training
from toolkit import config as config_lib
from toolkit.errors import InputError, InputTypeError, Notice
from toolkit.registry import get_pipeline


def run_command(args: argparse.Namespace, quiet: bool = False, progress: bool = False) -> int:
    """Runs a command `toolkit_cli` parsed; returns the exit status: 0, or 2 for a user's mistake.

    A user's mistake (an `InputError`, or a file that cannot be read or
    written) prints one line that names the culprit, with no traceback. Any
    other exception is a bug, and propagates with its traceback.

    Args:
        args: The parsed arguments.
        quiet: Hide TensorFlow's Python logging and the warnings of TensorFlow
            and Keras (the `toolkit` command sets it unless `--verbose`).
        progress: Print what long steps are doing to standard error (see
            `toolkit.progress`), as the `toolkit` command does.
    """
    with warnings.catch_warnings(), _progress_on_standard_error(progress):
        warnings.showwarning = _show_warning
        if quiet and not args.verbose:
            _quiet_tensorflow()
        try:
            return _COMMANDS[args.command](args)
        except KeyboardInterrupt:
            print(f"toolkit {args.command}: interrupted", file=sys.stderr)
            return 130
        except _PEER_LOST as error:
            if "TF_CONFIG" not in os.environ:
                raise
            print(
                f"toolkit {args.command}: error: another worker of the cluster stopped or cannot be reached "
                f"(TensorFlow's {type(error).__name__}), and this one cannot train on alone. Start every worker "
                "again, with the same run name, to resume from the last finished epoch.",
                file=sys.stderr,
            )
            return 1
        except (InputError, InputTypeError) as error:
            return _user_error(args.command, str(error))
        except _USERS_FILE_ERRORS as error:
            # A file the user named, or a folder they gave us, that is missing or cannot be read or written.
            where = f"{error.filename}: " if error.filename else ""
            return _user_error(args.command, f"{where}{error.strerror or error}")
        except (OSError, tf.errors.OpError) as error:
            # A full or read-only disk, as the OS, h5py or TensorFlow's file writer reports it.
            message = str(error)
            if getattr(error, "errno", None) in _FULL_OR_READ_ONLY:
                message = f"{error.filename}: {error.strerror}"
            elif not _FULL_OR_READ_ONLY_TEXT.search(message):
                raise
            return _user_error(
                args.command, f"{message.strip().splitlines()[-1]} (a full or read-only disk: nothing finished was "
                "replaced; free some space, or write elsewhere, and run the command again)"
            )


def end_at_once_in_a_cluster(status: int) -> None:
    """Ends a `toolkit` process of a multi-worker cluster (`TF_CONFIG` set) at once with `status`, its output flushed.

    Called when the command is done. Torn down slowly with the interpreter,
    TensorFlow's coordination agent would outlive the chief's coordination
    service and log connection errors after a run that went well. The exit
    handlers still run (TensorFlow's remove its temporary files). Outside a
    cluster it returns.
    """
    if "TF_CONFIG" in os.environ:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


# What a worker's collective operations raise when another worker of its cluster has gone.
_PEER_LOST = (tf.errors.UnavailableError, tf.errors.CancelledError, tf.errors.AbortedError)
_USERS_FILE_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)
_FULL_OR_READ_ONLY = (errno.ENOSPC, errno.EROFS, errno.EDQUOT)
_FULL_OR_READ_ONLY_TEXT = re.compile("|".join(map(re.escape, (os.strerror(code) for code in _FULL_OR_READ_ONLY))))


@contextlib.contextmanager
def _progress_on_standard_error(enabled: bool) -> Iterator[None]:
    """Prints `toolkit.progress` lines as `toolkit: ...` on standard error while a command runs, if `enabled`."""
    if not enabled:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("toolkit: %(message)s"))
    level, propagate = progress.LOGGER.level, progress.LOGGER.propagate
    progress.LOGGER.addHandler(handler)
    progress.LOGGER.setLevel(logging.INFO)
    progress.LOGGER.propagate = False  # once, here, whatever handlers TensorFlow gives the root logger
    try:
        yield
    finally:
        progress.LOGGER.removeHandler(handler)
        progress.LOGGER.setLevel(level)
        progress.LOGGER.propagate = propagate


def _user_error(command: str, message: str) -> int:
    print(f"toolkit {command}: error: {message}", file=sys.stderr)
    return 2


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Prints toolkit's own notices as one plain line; other warnings as Python would."""
    if issubclass(category, Notice):
        print(f"toolkit: notice: {message}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _quiet_tensorflow() -> None:
    """Hides TensorFlow's Python logging and the warnings raised from TensorFlow and Keras, for this command only."""
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    for module in ("keras", "tensorflow", "absl", "tensorflow_datasets"):
        warnings.filterwarnings("ignore", module=module)


def _run(args) -> int:
    if args.local_workers is not None:
        return _run_local_workers(args)
    if args.run_name is not None:
        _say_if_replacing(run_directory.run_path(args.output_dir, args.name, args.run_name))
    result = api.run(
        args.name, args.config, args.set, run_name=args.run_name, output_dir=args.output_dir, fresh=args.fresh
    )
    if not result.worker.is_chief:
        checksum = result.metrics["distribution"]["weights_checksum"]
        print(
            f"{result.worker.name.capitalize()} of {result.worker.workers} finished training in {result.seconds:.0f} s "
            f"(weights checksum {checksum}); the chief writes the run to {result.run_dir}."
        )
        return 0
    print(strict_json.dumps(_headline(result.metrics), indent=2))
    print(f"Run written to {result.run_dir} in {result.seconds:.0f} s.")
    return 0


def _run_local_workers(args) -> int:
    """`toolkit run --local-workers N`: the same run, as each worker of a cluster on this machine."""
    api.resolve_config(args.name, args.config, args.set)  # a mistake in it reported once, not by every worker
    run_name = args.run_name or time.strftime("%Y%m%d-%H%M%S")
    run_dir = run_directory.check_target(run_directory.run_path(args.output_dir, args.name, run_name))
    arguments = [
        *(["--verbose"] if args.verbose else []),
        "run", args.name, "--run-name", run_name, "--output-dir", str(args.output_dir),
        *(["--config", str(args.config)] if args.config is not None else []),
        "--set", *args.set, "trainer.distribution=multi_worker",
        *(["--fresh"] if args.fresh else []),
    ]
    status = local_cluster.run_local_workers(arguments, args.local_workers)
    if status == 0:
        print(f"Run written to {run_dir} by a cluster of {args.local_workers} local workers.")
    return status


def _predict(args) -> int:
    trained = api.load(args.run_dir)
    texts = trained.model.raw_input_spec().dtype == tf.string
    inputs = _lines(args.lines, texts) if args.lines is not None else args.inputs
    if args.lines is not None and args.inputs:
        raise InputError("predict: give inputs as arguments or with --lines FILE, not both.")
    if not inputs:
        raise InputError("predict: no inputs; give them as arguments, or with --lines FILE for texts.")
    for raw in inputs if texts and args.lines is None else ():
        if _names_a_file(raw):
            raise InputError(
                f"predict: {raw!r} is a file, but this {trained.pipeline.name} run takes texts as arguments, and would "
                f"read the name as a text. To predict each line of the file, use --lines {raw}."
            )
    outputs = trained.predict(inputs)
    for index, raw in enumerate(inputs):  # one output row per input: a text, a one-ticker CSV or an image file
        row = {name: _jsonable(values[index]) for name, values in outputs.items()}
        print(strict_json.dumps({"input": raw, **row}))
    return 0


def _names_a_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except OSError:  # a text longer than a file name may be (ENAMETOOLONG) names no file
        return False


def _lines(path: Path, texts: bool) -> list[str]:
    """The lines of a UTF-8 text file, as inputs: one text each (blank lines kept, so that each is named if refused)."""
    if not texts:
        raise InputError(f"predict --lines {path}: this run does not take texts; give its inputs as arguments.")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}).") from None


def _evaluate(args) -> int:
    trained = api.load(args.run_dir)
    with progress.step(f"evaluating {args.run_dir} on {args.data or 'its own test split'}"):
        metrics = trained.evaluate(args.data)
    print(strict_json.dumps(metrics, indent=2))
    return 0


def _fine_tune(args) -> int:
    run_directory.check_target(args.output, source=args.run_dir)  # before any training
    _say_if_replacing(args.output)
    trained = api.load(args.run_dir)
    history = trained.fine_tune(
        args.data, epochs=args.epochs, learning_rate=args.learning_rate, freeze=args.freeze, class_names=args.classes
    )
    record = {
        "source": str(args.run_dir),
        "data": str(args.data),
        "epochs_trained": training.epochs_trained(trained.model, history),
        "history": history,
    }
    with progress.step(f"writing the fine-tuned run to {args.output}"):
        written = trained.export(args.output, metrics={"fine_tune": record})
    print(f"Fine-tuned run written to {written}.")
    return 0


def _say_if_replacing(run_dir: Path) -> None:
    run_directory.check_target(run_dir)  # a run it may not replace is refused, not announced
    if run_directory.is_finished_run(run_dir):
        print(f"toolkit: {run_dir} holds a finished run; it will be replaced once the new one is written.", file=sys.stderr)


def _tune(args) -> int:
    # Optuna and the search are imported for this command alone.
    from toolkit.tuning.search import tune

    result = tune(
        args.name, args.config, trials=args.trials, timeout=args.timeout, study=args.study, keep=args.keep,
        storage=args.storage, output_dir=args.output_dir,
    )
    print(result.summary())
    return 0


def _serve(args) -> int:
    # The web stack is imported for this command alone.
    from toolkit.serving import serve

    named = dict(_named_runs(value) for value in args.model)
    if len(named) < len(args.model):
        raise InputError("serve --model: each NAME once; give one --model NAME=RUN1,RUN2 with all of its versions.")
    serve(
        args.runs, named, host=args.host, port=args.port, max_request_mb=args.max_request_mb,
        max_generate_length=args.max_generate_length, max_batch=args.max_batch, batch_timeout_ms=args.batch_timeout_ms,
    )
    print("toolkit serve: stopped; every request taken was answered.", file=sys.stderr)
    return 0


def _named_runs(value: str) -> tuple[str, list[Path]]:
    """`NAME=RUN1,RUN2` as the name and its runs, versions 1, 2, ... in that order."""
    name, equals, runs = value.partition("=")
    if not (equals and name and runs):
        raise InputError(f"serve --model {value!r}: expected NAME=RUN or NAME=RUN1,RUN2 (versions 1, 2, ...).")
    return name, [Path(run) for run in runs.split(",")]


def _export(args) -> int:
    # The converters and runtimes are imported for this command alone.
    from toolkit.export import export_run
    from toolkit.export.exporter import check_request

    check_request(args.export_format, args.quantize)
    if args.export_format == run_directory.SAVEDMODEL and args.output is None:
        run_directory.read_manifest(args.run_dir)
        print(f"The SavedModel of {args.run_dir} is {args.run_dir / run_directory.SERVING}; give --output DIR to copy it "
              "elsewhere.")
        return 0
    with progress.step(f"exporting {args.run_dir} as {args.export_format}"):
        written = export_run(args.run_dir, args.export_format, args.output, args.quantize)
    files = ", ".join(
        f"{path.name} ({path.stat().st_size / 1e3:,.1f} kB)" for path in sorted(written.iterdir()) if path.is_file()
    )
    print(f"{args.export_format} export written to {written}: {files}.")
    return 0


def _describe(args) -> int:
    print(description(args.name), end="")
    return 0


@functools.cache  # `toolkit describe` prints it, then keeps it for the next call
def description(name: str) -> str:
    """What `toolkit describe NAME` prints: every key of the pipeline's config, its type, default and meaning."""
    return config_lib.describe(get_pipeline(name).config_class) + "\n"


_COMMANDS = {
    "run": _run,
    "predict": _predict,
    "evaluate": _evaluate,
    "fine-tune": _fine_tune,
    "tune": _tune,
    "serve": _serve,
    "export": _export,
    "describe": _describe,
}


def _headline(metrics: dict) -> dict:
    """The scalar metrics and `headline` entries, without per-class tables, matrices or fold details."""
    shown = {}
    for split, values in metrics.items():
        if not isinstance(values, dict):
            shown[split] = values
        elif "folds" in values:  # a summary of folds: the mean and spread of the headline numbers
            shown[split] = {
                statistic: {key: value for key, value in values[statistic].items() if key.startswith("headline.")}
                for statistic in ("mean", "std")
            }
        else:
            shown[split] = {key: value for key, value in values.items() if isinstance(value, (int, float)) or key == "headline"}
    return shown


def _jsonable(value):
    value = np.asarray(value)
    return value.tolist() if value.dtype != object else str(value)
