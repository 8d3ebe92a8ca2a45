"""A trained task: predict, evaluate, fine-tune and export from Python."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import keras
import numpy as np
import yaml

from toolkit import config as config_lib
from toolkit import training
from toolkit.pipeline import Pipeline, Split
from toolkit.registry import get_pipeline

PREPROCESSOR_NAME = "preprocessor"
NETWORK_NAME = "network"
HEAD_NAME = "head"


class Task:
    """A trained model with its pipeline: what `toolkit.run` returns and `toolkit.load` restores.

    Attributes:
        pipeline: The `Pipeline` that made it.
        config: Its resolved config.
        preprocessor: The layer that turns raw inputs into the network's
            inputs, or `None`.
        network: The trainable `keras.Model`.
        metadata: Facts the model needs at serving time, such as `class_names`.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        config,
        preprocessor: keras.layers.Layer | None,
        network: keras.Model,
        metadata: dict,
    ):
        if network.name != NETWORK_NAME or (preprocessor is not None and preprocessor.name != PREPROCESSOR_NAME):
            raise ValueError(
                f"A pipeline must name its network {NETWORK_NAME!r} and its preprocessor {PREPROCESSOR_NAME!r}, "
                f"got {network.name!r} and {getattr(preprocessor, 'name', None)!r}."
            )
        self.pipeline = pipeline
        self.config = config
        self.preprocessor = preprocessor
        self.network = network
        self.metadata = metadata

    @property
    def model(self) -> keras.Model:
        """The end-to-end model that is saved: the preprocessor and the network, joined by the pipeline."""
        return self.pipeline.end_to_end_model(self.preprocessor, self.network, self.metadata)

    def predict(self, raw_inputs, batch_size: int = 256) -> dict[str, np.ndarray]:
        """Runs the serving outputs on raw inputs, such as a list of review strings.

        Returns:
            A dict of arrays with the same names as the SavedModel's outputs;
            strings come back as Python `str`.
        """
        inputs = self.pipeline.coerce_raw_inputs(raw_inputs, self.metadata)
        model = self.model
        batches = [
            self.pipeline.serving_outputs(model, inputs[start : start + batch_size], self.metadata)
            for start in range(0, len(inputs), batch_size)
        ]
        return {name: _to_numpy([batch[name] for batch in batches]) for name in batches[0]}

    def evaluate(self, data=None, plots_dir: str | Path | None = None) -> dict:
        """Computes held-out metrics.

        Args:
            data: `(raw_inputs, targets)`, or whatever the pipeline's
                `fine_tune_data` accepts (a CSV path, say). `None` reloads the
                config's data and uses its test split.
            plots_dir: Where to write plots, if anywhere.
        """
        if data is None:
            split = self.pipeline.load_data(self.config).test
        else:
            split = self.pipeline.fine_tune_data(data, self.metadata)
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
        """Trains further on new data with the shared training loop.

        Args:
            data: `(raw_inputs, targets)`, or whatever the pipeline's
                `fine_tune_data` accepts.
            epochs: Number of epochs.
            learning_rate: Learning rate; smaller than for training from scratch.
            freeze: Names of network layers to keep fixed, such as
                `["embedding"]`. See `layer_names()`.
            class_names: New class names. If their number differs from the
                current one, the head is replaced by a new one of that size.
            validation_fraction: Fraction of `data` held out for early
                stopping and the best checkpoint.
            batch_size: Overrides the config's batch size.
            seed: Seed for the split, shuffling and the new head.

        Returns:
            The training history.
        """
        keras.utils.set_random_seed(seed)
        if class_names is not None:
            self._set_classes(list(class_names))
        split = self.pipeline.fine_tune_data(data, self.metadata)
        self._freeze(freeze)
        train_split, validation_split = _holdout(split, validation_fraction, seed, self.pipeline.time_ordered)
        trainer = self.config.trainer
        batch_size = batch_size or trainer.batch_size
        training.compile_model(
            self.network,
            trainer,
            self.pipeline.default_loss(self.metadata),
            self.pipeline.default_metrics(self.metadata),
            learning_rate=learning_rate,
        )
        with tempfile.TemporaryDirectory(prefix="toolkit-fine-tune-") as work_dir:
            return training.fit(
                self.network,
                self.pipeline.dataset(train_split, self.preprocessor, batch_size, shuffle=True, seed=seed),
                self.pipeline.dataset(validation_split, self.preprocessor, batch_size, shuffle=False)
                if validation_split is not None
                else None,
                trainer,
                work_dir,
                epochs=epochs,
            )

    def export(self, run_dir: str | Path, metrics: dict | None = None) -> Path:
        """Writes a complete run directory (model, SavedModel, config, metrics) atomically."""
        from toolkit.export import write_run_dir  # toolkit.export imports this module

        return write_run_dir(Path(run_dir), self, metrics or {})

    def layer_names(self) -> list[str]:
        """The names of the network's layers, for `fine_tune(freeze=...)`."""
        return [layer.name for layer in self.network.layers]

    @classmethod
    def load(cls, run_dir: str | Path) -> Task:
        """Restores a task from a run directory written by `toolkit.run` or `export`."""
        run_dir = Path(run_dir)
        for required in ("config.yaml", "metadata.json", "model.keras"):
            if not (run_dir / required).is_file():
                raise FileNotFoundError(f"{run_dir} is not a complete run directory: {required} is missing.")
        values = yaml.safe_load((run_dir / "config.yaml").read_text())
        pipeline = get_pipeline(values.pop("pipeline"))
        config = config_lib.from_dict(pipeline.config_class, values)
        metadata = json.loads((run_dir / "metadata.json").read_text())
        model = keras.saving.load_model(run_dir / "model.keras")
        names = {layer.name for layer in model.layers}
        preprocessor = model.get_layer(PREPROCESSOR_NAME) if PREPROCESSOR_NAME in names else None
        return cls(pipeline, config, preprocessor, model.get_layer(NETWORK_NAME), metadata)

    def _freeze(self, names) -> None:
        known = self.layer_names()
        for name in names:
            if name not in known:
                raise ValueError(f"fine_tune: no layer named {name!r} to freeze. Layers: {', '.join(known)}.")
            self.network.get_layer(name).trainable = False

    def _set_classes(self, class_names: list[str]) -> None:
        old_count = len(self.metadata.get("class_names", []))
        self.metadata = {**self.metadata, "class_names": class_names}
        if len(class_names) == old_count:
            return
        head = self.network.get_layer(HEAD_NAME)
        new_head = keras.layers.Dense(len(class_names), activation=head.activation, name=HEAD_NAME)
        self.network = keras.Model(self.network.inputs, new_head(head.input), name=NETWORK_NAME)


def _holdout(split: Split, fraction: float, seed: int, time_ordered: bool) -> tuple[Split, Split | None]:
    count = int(round(len(split) * fraction))
    if count == 0:
        return split, None
    # Time-ordered examples hold out the latest ones: a random sample would train on the future.
    order = np.arange(len(split))[::-1] if time_ordered else np.random.default_rng(seed).permutation(len(split))
    held, kept = np.sort(order[:count]), np.sort(order[count:])
    return Split(_rows(split.inputs, kept), _rows(split.targets, kept)), Split(
        _rows(split.inputs, held), _rows(split.targets, held)
    )


def _rows(values, rows: np.ndarray):
    return values.iloc[rows] if hasattr(values, "iloc") else values[rows]


def _to_numpy(batches: list) -> np.ndarray:
    values = np.concatenate([np.asarray(batch) for batch in batches])
    if values.dtype == object:
        return np.array([v.decode("utf-8") if isinstance(v, bytes) else v for v in values.ravel()]).reshape(values.shape)
    return values
