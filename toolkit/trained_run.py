"""A trained run from Python: predict, evaluate, fine-tune and export."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import keras
import numpy as np

from toolkit import run_directory, training
from toolkit.data.labels import check_class_names
from toolkit.data.splits import Split
from toolkit.errors import InputError
from toolkit.models.classifier import Classifier
from toolkit.models.task import TaskModel
from toolkit.recipes.pipeline import Pipeline
from toolkit.registry import get_pipeline
from toolkit.run_directory import TrainingFiles


class TrainedRun:
    """A trained task model with the pipeline and config that made it: what `toolkit.load` restores, and `toolkit.run` trains.

    The task model serves on its own; the pipeline and config add what
    evaluating and training further need: the metrics, the data and the
    trainer settings.

    Attributes:
        pipeline: The `Pipeline` that made it.
        config: Its resolved config.
        model: The `TaskModel`: raw inputs in, and all it needs to serve them.
        source: The run directory it was written to or loaded from, which
            `export` will not replace; `None` for a run not yet written.
    """

    def __init__(self, pipeline: Pipeline, config, model: TaskModel, source: str | Path | None = None):
        self.pipeline = pipeline
        self.config = config
        self.model = model
        self.source = None if source is None else Path(source)
        # Whether `fine_tune` has changed the model since it was written to (or loaded from) `source`.
        self._fine_tuned = False

    @property
    def network(self) -> keras.Model:
        """The trainable network, which takes preprocessed inputs."""
        return self.model.network

    @property
    def preprocessor(self) -> keras.layers.Layer | None:
        """The layer that turns raw inputs into the network's inputs, or `None`."""
        return self.model.preprocessor

    def predict(self, raw_inputs, batch_size: int = 256, return_attention: bool = False) -> dict[str, np.ndarray]:
        """Runs the serving outputs on raw inputs, such as a list of review strings.

        Args:
            raw_inputs: What the task serves, such as review strings or images.
            batch_size: Inputs served per call, at most the model's `serving.max_batch`.
            return_attention: Also return the attention weights a model with
                attention serves (`attention`, `greedy_attention`: per input,
                per generated word, the weights over the image grid); left
                out by default, as they are large.

        Returns:
            A dict of arrays with the same names as the SavedModel's outputs,
            one row per input (none for no inputs); strings come back as Python `str`.

        Raises:
            TypeError: For inputs of a kind the pipeline does not take (a
                mapping, a number, float images), saying what it takes.
            InputError: For inputs of the right kind but the wrong shape or
                values, or `return_attention` for a model without attention.
        """
        inputs = self.model.raw_batch(raw_inputs)
        batch_size = min(batch_size, self.model.limits.get("max_batch", batch_size))
        # One call even for no inputs: the serving graph answers an empty batch with empty outputs.
        starts = range(0, max(len(inputs), 1), batch_size)
        batches = [self.model.serve(inputs[start : start + batch_size]) for start in starts]
        outputs = {name: _to_numpy([batch[name] for batch in batches]) for name in batches[0]}
        attention = [name for name in outputs if name.endswith("attention")]
        if return_attention and not attention:
            raise InputError(
                f"return_attention: this {type(self.model).__name__} has no attention weights to return; its outputs are "
                f"{', '.join(outputs)}. A captioner has them with model.decoder: attention."
            )
        return {name: value for name, value in outputs.items() if return_attention or name not in attention}

    def evaluate(self, data=None, plots_dir: str | Path | None = None) -> dict:
        """Computes held-out metrics.

        Args:
            data: `(raw_inputs, targets)`, or whatever the pipeline's
                `fine_tune_data` accepts (a CSV path, say). `None` reloads the
                config's data and uses its test split.
            plots_dir: Where to write plots, if anywhere.
        """
        split = self.pipeline.load_data(self.config).test if data is None else self._split(data, self.model)
        return self.pipeline.evaluate(self, split, Path(plots_dir) if plots_dir else None)

    def fine_tune(
        self,
        data,
        epochs: int = 3,
        learning_rate: float = 1e-4,
        freeze: list[str] | tuple[str, ...] = (),
        class_names: list[str] | None = None,
        validation_fraction: float = 0.1,
        batch_size: int | None = None,
        seed: int = 0,
    ) -> dict[str, list[float]]:
        """Trains further on new data with the shared training loop (a classifier's branches each alone).

        Args:
            data: `(raw_inputs, targets)`, or whatever the pipeline's
                `fine_tune_data` accepts.
            epochs: Number of epochs.
            learning_rate: Learning rate; smaller than for training from scratch.
            freeze: Names of network layers to keep fixed, such as
                `["embedding"]`. See `layer_names()`.
            class_names: New class names, for a classifier. If their number
                differs from the current one, the head is replaced by a new one
                of that size.
            validation_fraction: Fraction of `data` held out for early
                stopping and the best checkpoint (the latest examples, for
                data in time order).
            batch_size: Overrides the config's batch size.
            seed: Seed for the split, shuffling and the new head.

        Returns:
            The training history; a classifier with branches has each
            branch's keys prefixed with its name (`training.epochs_trained`
            counts its epochs).

        Raises:
            ValueError: For fewer than one epoch, `class_names` on a task that
                is not a classifier, data that does not fit the task model, or an
                unknown layer in `freeze`; the run is then left as it was.
        """
        if epochs < 1:
            raise InputError(f"fine_tune: epochs must be at least 1, got {epochs}.")
        if not (math.isfinite(learning_rate) and learning_rate > 0):
            raise InputError(f"fine_tune: learning_rate must be a positive finite number, got {learning_rate}.")
        keras.utils.set_random_seed(seed)
        model = self.model
        if class_names is not None:
            if not isinstance(model, Classifier):
                raise InputError(
                    f"fine_tune: class_names applies to classifiers; a {self.pipeline.name} task "
                    f"({type(model).__name__}) has no classes."
                )
            model = model.with_classes(check_class_names(list(class_names), "fine_tune: class_names"))
        split = self._split(data, model)
        layers = _layers_to_freeze(model.network, freeze)
        self.model = model
        for layer in layers:
            layer.trainable = False
        train_split, validation_split = split.holdout(validation_fraction, seed)
        trainer = self.config.trainer
        batch_size = batch_size or trainer.batch_size
        self._fine_tuned = True
        with tempfile.TemporaryDirectory(prefix="toolkit-fine-tune-") as work_dir:
            history = training.fit_task(
                self.model,
                self.pipeline.dataset(train_split, self.model, batch_size, shuffle=True, seed=seed),
                self.pipeline.dataset(validation_split, self.model, batch_size, shuffle=False)
                if validation_split is not None
                else None,
                trainer,
                TrainingFiles(Path(work_dir)),
                self.pipeline.default_loss(),
                self.pipeline.default_metrics(),
                epochs=epochs,
                learning_rate=learning_rate,
            )
        return history

    def export(
        self,
        run_dir: str | Path | None = None,
        metrics: dict | None = None,
        *,
        format: str | None = None,
        output: str | Path | None = None,
        quantize: bool = False,
    ) -> Path:
        """Writes a finished run directory (model, SavedModel, config, metrics) atomically; or, with `format`, exports
        the run this one was written to or loaded from.

        `export("runs/new")` writes a whole run. `export(format="onnx")` (or
        `"litert"`) writes a portable export into this run's own directory,
        `onnx/` or `litert/`, listed in its `run.json`; with `output`, into a
        folder of its own. `format="savedmodel"` copies its SavedModel to
        `output`. See `toolkit.export.export_run`.

        Args:
            run_dir: The new run directory; not with `format`.
            metrics: Written to its `metrics.json`.
            format: `onnx`, `litert` or `savedmodel`, for an export of this run.
            output: With `format`, a folder of its own for the export.
            quantize: With `format="litert"`, also write each model's int8 variant.

        Returns:
            The run directory, or the export's folder.

        Raises:
            RunDirectoryError: If `run_dir` is the run this one came from, or
                exists and is not a finished toolkit run.
            InputError: With `format`, for a run not written yet, or fine-tuned
                since it was (its model is no longer the one in its directory).
            ExportRefusedError: For a format the task cannot be exported in, naming the part and the reason.
        """
        if format is None:
            if run_dir is None:
                raise InputError("export: give run_dir, the new run directory, or format= to export this run.")
            return run_directory.write_run(run_dir, self.pipeline.name, self.config, self.model, metrics or {}, self.source)
        from toolkit.export import export_run

        if run_dir is not None or metrics is not None:
            raise InputError(
                f"export(format={format!r}) exports this run where it is (or to output=); run_dir and metrics write a "
                "new run. Give one or the other."
            )
        if self.source is None or self._fine_tuned:
            state = "was fine-tuned since it was written" if self.source is not None else "is not written yet"
            raise InputError(
                f"export(format={format!r}): exports a run as its directory holds it, and this one {state}. Write it "
                "first with export('path/to/run'), then load that run and export it."
            )
        return export_run(self.source, format, output, quantize, model=self.model)

    def layer_names(self) -> list[str]:
        """The names of the network's layers, for `fine_tune(freeze=...)`."""
        return [layer.name for layer in self.network.layers]

    @classmethod
    def load(cls, run_dir: str | Path) -> TrainedRun:
        """Restores a run from its directory, written by `toolkit.run` or `export`, checking each file it reads."""
        stored = run_directory.read_run(run_dir)
        return cls(get_pipeline(stored.pipeline), stored.config, stored.model, source=stored.directory)

    def _split(self, data, model: TaskModel) -> Split:
        split = self.pipeline.fine_tune_data(data, model)
        if len(split.inputs) == 0:
            raise InputError("data: no examples; give at least one input and its target.")
        if len(split.inputs) != len(split.targets):
            raise InputError(f"data: {len(split.inputs)} inputs but {len(split.targets)} targets; give one target per input.")
        return split


def _layers_to_freeze(network: keras.Model, names) -> list[keras.layers.Layer]:
    known = [layer.name for layer in network.layers]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise InputError(f"fine_tune: no layer named {unknown[0]!r} to freeze. Layers: {', '.join(known)}.")
    return [network.get_layer(name) for name in names]


def _to_numpy(batches: list) -> np.ndarray:
    values = np.concatenate([np.asarray(batch) for batch in batches])
    if values.dtype == object:
        return np.array([v.decode("utf-8") if isinstance(v, bytes) else v for v in values.ravel()]).reshape(values.shape)
    return values
