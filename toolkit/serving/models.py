"""The runs a server serves: each run's SavedModel loaded once, under a model name and version, with what its page shows.

A run alone serves as version 1 of a model named after its folder;
`load_models(named={"reviews": [run, tuned]})` serves several runs as the
versions 1, 2, ... of one name, the highest answering by default, as
TensorFlow Serving serves the numbered folders of a model. Only the
SavedModel (`serving/`) is needed: a run whose pipeline is not installed
serves as well. Everything is read at start-up; no request reads a file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow.core.protobuf import saved_model_pb2

from toolkit import run_directory
from toolkit.errors import InputError
from toolkit.serving.errors import NotFoundError, RequestError
from toolkit.serving.graph_errors import graph_error_message
from toolkit.serving.json_values import InputSpec

DEFAULT_SIGNATURE = "serving_default"
# The most pixels of an uploaded image file decoded for a run that records no serving.max_image_pixels (toolkit 0.1).
UPLOAD_MAX_PIXELS = 40_000_000
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_PLOT_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg")


@dataclass
class Signature:
    """One signature of a SavedModel, called with arrays and answering arrays.

    Attributes:
        name: Its key, such as `serving_default`.
        inputs: What each input takes, from the signature and the run's record of its input.
        output_names: Its outputs' names.
        function: The loaded concrete function.
    """

    name: str
    inputs: dict[str, InputSpec]
    output_names: list[str]
    function: tf.types.experimental.ConcreteFunction

    @property
    def batched(self) -> bool:
        """Whether every input is a batch of rows (none is a scalar setting), so that calls can be merged."""
        return not any(spec.is_scalar for spec in self.inputs.values())

    def __call__(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Runs the signature.

        Raises:
            RequestError: If the graph's own checks refuse the inputs, with the check's message.
        """
        tensors = {name: tf.constant(inputs[name], dtype=tf.as_dtype(spec.dtype)) for name, spec in self.inputs.items()}
        try:
            outputs = self.function(**tensors)
        except tf.errors.InvalidArgumentError as error:
            raise RequestError(graph_error_message(error)) from None
        return {name: outputs[name].numpy() for name in sorted(outputs)}  # by name, as the metadata lists them


@dataclass
class ModelVersion:
    """One run, served as one version of a model.

    Attributes:
        model: The model's name.
        version: Its version number, from 1.
        run_dir: The run it was loaded from.
        manifest: The run's `run.json`.
        signatures: Its SavedModel's signatures, by name.
        signature_defs: The signatures as TensorFlow Serving's metadata gives
            them (the SavedModel's `SignatureDef`s as JSON), with the shape of
            an input the SavedModel takes of any rank filled in from the run's record.
        metrics: The run's `metrics.json`, or `None` if it cannot be read.
        plots: The run's plots, by file name, read at start-up.
    """

    model: str
    version: int
    run_dir: Path
    manifest: dict
    signatures: dict[str, Signature]
    signature_defs: dict
    metrics: dict | None
    plots: dict[str, bytes]
    loaded: object = field(repr=False)  # the loaded SavedModel, which owns the signatures' variables

    @property
    def pipeline(self) -> str | None:
        """The name of the pipeline that made the run, as its `run.json` records it."""
        return self.manifest.get("pipeline") if isinstance(self.manifest.get("pipeline"), str) else None

    @property
    def task(self) -> dict:
        """The run's record of its task model: its class, input and settings (class names, window, ...)."""
        return _task(self.manifest)

    @property
    def limits(self) -> dict:
        """The serving limits the model was exported with (`serving.max_batch`, ...); none for toolkit 0.1's runs."""
        return _mapping(self.task.get("limits"))


@dataclass
class ServedModel:
    """A model name and its versions.

    Attributes:
        name: Its name in the URLs.
        versions: Each version by number.
    """

    name: str
    versions: dict[int, ModelVersion]

    @property
    def latest(self) -> ModelVersion:
        """The version a request that names none gets: the highest."""
        return self.versions[max(self.versions)]


class ServedModels(dict[str, ServedModel]):
    """The models a server was started with, by name."""

    def find(self, name: str, version: int | None = None) -> ModelVersion:
        """The version asked for, or the latest.

        Raises:
            NotFoundError: For a model or version not served, in TensorFlow Serving's words.
        """
        model = self.get(name)
        if model is None or (version is not None and version not in model.versions):
            asked = f"Latest({name})" if version is None else f"Specific({name}, {version})"
            served = f"versions {', '.join(map(str, model.versions))}" if model else f"models {', '.join(self) or 'none'}"
            raise NotFoundError(f"Servable not found for request: {asked}; this server serves {served}")
        return model.latest if version is None else model.versions[version]


def load_models(runs: Sequence[str | Path] = (), named: Mapping[str, Sequence[str | Path]] | None = None) -> ServedModels:
    """Loads the runs to serve.

    Args:
        runs: Run directories, each served alone as version 1 of a model named after its folder.
        named: Model names, each with its runs: version 1, 2, ... in that order.

    Raises:
        InputError: Naming the run and the reason, for a path that is not a
            finished run, a run whose models were removed, a SavedModel that
            cannot be loaded, a name that is not a plain name, two models of
            one name, or nothing to serve.
    """
    plan: dict[str, list[Path]] = {}
    for run in map(Path, runs):
        name = run.resolve().name
        _claim_name(plan, name, f"{run} (named after its folder; give it another with --model NAME={run})")
        plan[name] = [run]
    for name, versions in (named or {}).items():
        _claim_name(plan, name, f"--model {name}=...")
        if not versions:
            raise InputError(f"--model {name}=: give one or more runs, separated by commas.")
        plan[name] = [Path(run) for run in versions]
    if not plan:
        raise InputError("serve: no runs to serve; give one or more run directories, or --model NAME=RUN.")
    return ServedModels(
        (name, ServedModel(name, {number: _load_version(name, number, run) for number, run in enumerate(paths, 1)}))
        for name, paths in plan.items()
    )


def _claim_name(plan: dict, name: str, what: str) -> None:
    if not _MODEL_NAME.fullmatch(name):
        raise InputError(
            f"{what}: model name {name!r}: expected letters, digits, '.', '_' and '-', starting with a letter or digit, "
            "as it goes into URLs."
        )
    if name in plan:
        raise InputError(f"{what}: two models would be named {name!r}; give each its own with --model NAME=RUN.")


def _load_version(name: str, version: int, run_dir: Path) -> ModelVersion:
    manifest = run_directory.read_manifest(run_dir)
    if manifest.get("models_removed"):
        config = run_dir / run_directory.CONFIG
        raise InputError(
            f"{run_dir}: its models were removed to save space (a search's trial not among the best kept); there is "
            f"no SavedModel to serve. Train it again with `toolkit run <pipeline> --config {config}`."
        )
    serving = run_dir / run_directory.SERVING
    if not (serving / tf.saved_model.SAVED_MODEL_FILENAME_PB).is_file():
        raise InputError(f"{serving}: no SavedModel there ({tf.saved_model.SAVED_MODEL_FILENAME_PB} is missing).")
    try:
        loaded = tf.saved_model.load(str(serving))
    except Exception as error:  # TensorFlow raises many kinds for a damaged SavedModel; each is reported the same way.
        raise InputError(f"{serving}: cannot be loaded ({type(error).__name__}: {error}).") from None
    task = _task(manifest)
    recorded = _mapping(task.get("input"))
    signatures = {
        key: _signature(key, function, recorded, task, _mapping(task.get("limits")))
        for key, function in loaded.signatures.items()
    }
    if DEFAULT_SIGNATURE not in signatures:
        raise InputError(f"{serving}: has no {DEFAULT_SIGNATURE} signature to serve; it has {', '.join(signatures)}.")
    return ModelVersion(
        model=name,
        version=version,
        run_dir=run_dir,
        manifest=manifest,
        signatures=signatures,
        signature_defs=_signature_defs(serving, recorded),
        metrics=_metrics(run_dir),
        plots=_plots(run_dir, manifest),
        loaded=loaded,
    )


def _signature(key: str, function, recorded: dict, task: dict, limits: dict) -> Signature:
    """A signature's inputs as requests are read for them: dtypes and ranks from the signature, the rest from the run."""
    inputs = {}
    # The batch first, then the settings, as a person would fill them in.
    given = sorted(function.structured_input_signature[1].items(), key=lambda item: item[1].shape.rank == 0)
    for name, spec in given:
        shape = None if spec.shape.rank is None else tuple(spec.shape.as_list())
        image_shape = None
        if name == recorded.get("name") and spec.dtype == tf.uint8 and len(recorded.get("shape") or []) >= 3:
            image_shape = tuple(recorded["shape"][1:])
        default = None
        if shape == ():
            # A setting a request leaves out: the model's own, as its run records it, or 0 (the seed), as serve() has it.
            setting = task.get(name)
            default = setting if isinstance(setting, (int, float)) and not isinstance(setting, bool) else 0
        inputs[name] = InputSpec(
            name, spec.dtype.name, shape, image_shape, limits.get("max_image_pixels", UPLOAD_MAX_PIXELS), default
        )
    return Signature(key, inputs, sorted(function.structured_outputs), function)


def _signature_defs(serving: Path, recorded: dict) -> dict:
    """The SavedModel's `SignatureDef`s as JSON, as TensorFlow Serving's metadata gives them."""
    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((serving / tf.saved_model.SAVED_MODEL_FILENAME_PB).read_bytes())
    defs = {}
    for key, signature_def in proto.meta_graphs[0].signature_def.items():
        if key.startswith("__"):
            continue  # the loader's own, such as __saved_model_init_op
        described = json_format.MessageToDict(
            signature_def, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        )
        for input_name, info in described.get("inputs", {}).items():
            shape = info.get("tensor_shape", {})
            if input_name == recorded.get("name") and shape.get("unknown_rank") and recorded.get("shape"):
                # The signature takes any rank, so that its own check names a wrong shape; the model checks this one.
                dims = [{"size": str(-1 if size is None else size), "name": ""} for size in recorded["shape"]]
                info["tensor_shape"] = {"dim": dims, "unknown_rank": False}
        defs[key] = described
    return defs


def _task(manifest: dict) -> dict:
    return _mapping(manifest.get("task"))


def _mapping(value) -> dict:
    """`value` if it is a JSON object, else an empty one: a run of an earlier release may lack what is asked for."""
    return value if isinstance(value, dict) else {}


def _metrics(run_dir: Path) -> dict | None:
    try:
        metrics = json.loads((run_dir / run_directory.METRICS).read_text())
    except (OSError, ValueError):
        return None
    return metrics if isinstance(metrics, dict) else None


def _plots(run_dir: Path, manifest: dict) -> dict[str, bytes]:
    """The plots the run lists (and still holds), by path in its plots folder; a file it does not list is not ours."""
    listed = manifest.get("contents") if isinstance(manifest.get("contents"), list) else []
    folder = f"{run_directory.PLOTS}/"
    plots = {}
    for entry in listed:
        if isinstance(entry, str) and entry.startswith(folder) and entry.endswith(_PLOT_SUFFIXES):
            path = run_dir / entry
            if path.is_file() and not path.is_symlink():
                plots[entry[len(folder) :]] = path.read_bytes()
    return plots
