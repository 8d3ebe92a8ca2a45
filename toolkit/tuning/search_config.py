"""A search config: a pipeline config plus a `search:` section, every key of which is checked before any trial starts.

    trainer: {epochs: 30}              # the config the search starts from: its default
    search:
      metric: accuracy                 # a validation metric; the pipeline's own by default
      trials: 20                       # the study's size, counting earlier and parallel runs
      timeout: 60                      # minutes; no trial starts after it
      pruner: {kind: median, warmup_epochs: 2}
      space:
        trainer.learning_rate: {float: [0.0003, 0.01], log: true}

Each space key is checked against the pipeline's config as `--set` checks
it: an unknown key, a value of the wrong type and a range beyond the key's
own limits are refused, naming the file and the key.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from toolkit import config as config_lib
from toolkit.config import ConfigError, option, section
from toolkit.config_upgrades import upgrade_config
from toolkit.config_yaml import YamlError, preview, read_yaml
from toolkit.registry import get_pipeline
from toolkit.tuning.metrics import Direction, ValidationMetric, validation_metrics
from toolkit.tuning.space import Parameter, parse_space

# The data keys a search may vary: they shape what a model reads of each example, never which examples are
# trained, validated and tested on. Any other data key (a source, a seed, a fraction, a ticker list, a cap on
# the examples) would compare trials on other examples, so it is set in the config, not searched.
SEARCHABLE_DATA_KEYS = (
    "data.cache_limit_mb", "data.color_mode", "data.image_size", "data.max_length", "data.max_tokens",
    "data.max_vocabulary", "data.window",
)


@dataclass
class PrunerConfig:
    """How trials that fall behind are stopped early."""

    kind: Literal["median", "hyperband", "none"] = option(
        "median", "median: stop a trial whose best epoch so far is worse than the median of earlier trials at that "
        "epoch; hyperband: successive halving over several brackets; none: every trial trains to its end."
    )
    warmup_epochs: int = option(2, "Epochs every trial trains before it may be stopped.", min=0)
    startup_trials: int = option(3, "median: trials that finish before any is stopped.", min=0)


@dataclass
class SearchSection:
    """The `search:` section of a search config."""

    metric: str | None = option(None, "A validation metric the pipeline reports; null: the pipeline's default.")
    direction: Literal["maximize", "minimize"] | None = option(None, "Null: the metric's own (higher accuracy is better).")
    trials: int = option(20, "The study's size: trials run until it holds this many that finished or were pruned.", min=1)
    timeout: float | None = option(None, "Minutes; no trial starts after them. Null: no limit.", above=0.0)
    random_trials: int = option(6, "Trials drawn at random before Optuna's TPE sampler models the space.", min=1)
    pruner: PrunerConfig = section(PrunerConfig, "Stopping bad trials early.")
    space: dict = dataclasses.field(
        default_factory=dict,
        metadata={"help": "Dotted config keys, each with {float|int: [low, high], log} or {choice: [...]}."},
    )


@dataclass(frozen=True)
class Search:
    """A checked search: where it starts, what it searches and what it chooses by.

    Attributes:
        pipeline: The pipeline's name.
        source: Where it was read, for messages: a path, or `"config"` for a dict.
        base_values: The pipeline config as given, without `search`.
        base_config: Those values resolved: the default config the best trial is compared with.
        metric: The validation metric trials are judged by.
        direction: Whether it is maximised or minimised.
        trials: The study's size.
        timeout_minutes: No trial starts after these minutes; `None` for no limit.
        random_trials: Trials drawn at random before TPE.
        pruner: How bad trials are stopped.
        space: The searched keys.
    """

    pipeline: str
    source: str
    base_values: dict
    base_config: Any
    metric: ValidationMetric
    direction: Direction
    trials: int
    timeout_minutes: float | None
    random_trials: int
    pruner: PrunerConfig
    space: tuple[Parameter, ...]

    def trial_config(self, values: dict[str, Any]):
        """The resolved config of a trial: the base config with the searched keys set to `values`.

        Raises:
            ConfigError: For values the config refuses together (each was checked alone).
        """
        config_class = type(self.base_config)
        return config_lib.from_dict(config_class, config_lib.apply_overrides(self.base_values, values))

    def identity(self) -> dict:
        """What a study is, as it records it: resumed with another of these, its trials would not compare."""
        return {
            "pipeline": self.pipeline,
            "metric": self.metric.name,
            "direction": self.direction,
            "space": {parameter.key: parameter.as_dict() for parameter in self.space},
            "config": config_lib.dotted(config_lib.to_dict(self.base_config)),
        }


def load_search(
    pipeline: str, config: str | Path | dict, trials: int | None = None, timeout: float | None = None
) -> Search:
    """Reads and checks a search config of `pipeline`, before any trial starts.

    Args:
        pipeline: A registered pipeline's name.
        config: A YAML path, or its values as a dict.
        trials: Replaces `search.trials`, if given.
        timeout: Replaces `search.timeout` (minutes), if given.

    Raises:
        ConfigError: Naming the file and the key: no `search` section; a
            config key, type or value the pipeline refuses; an empty space;
            a choice of one value; a log range that includes 0; a space key
            the config does not have, or a range beyond its limits; a metric
            the pipeline does not report on validation (or a test metric); a
            direction against the metric's.
        FileNotFoundError: If `config` is a path that does not exist.
    """
    pipeline_object = get_pipeline(pipeline)
    source, values = _read(config)
    if not isinstance(values, dict) or "search" not in values:
        raise ConfigError(
            f"{source}: no `search:` section. A search config is a pipeline config plus a search section with "
            "at least its space (see configs/search/)."
        )
    values = dict(values)
    search_values = values.pop("search")
    version, schema = values.pop(config_lib.TOOLKIT_VERSION_KEY, None), values.pop(config_lib.SCHEMA_KEY, None)
    try:
        if schema is not None:
            values = upgrade_config(pipeline, values, schema, version)
        base_config = config_lib.from_dict(pipeline_object.config_class, values)
        section_ = config_lib.from_dict(SearchSection, search_values, "search")
        if trials is not None:
            section_.trials = _whole_at_least_one(trials, "--trials")
        if timeout is not None:
            section_.timeout = _positive(timeout, "--timeout")
        space = parse_space(section_.space)
        metric = _metric(pipeline_object, section_.metric)
        direction = _direction(metric, section_.direction)
        for parameter in space:
            _check_parameter(parameter, values, base_config)
        _check_trainer(base_config, metric, section_.pruner)
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None
    return Search(
        pipeline, source, values, base_config, metric, direction, section_.trials, section_.timeout,
        section_.random_trials, section_.pruner, space,
    )


def _read(config: str | Path | dict) -> tuple[str, Any]:
    if isinstance(config, dict):
        return "config", config
    path = Path(config)
    if not path.is_file():
        raise FileNotFoundError(f"Config file not found: {path}")
    try:
        return str(path), read_yaml(path.read_text())
    except YamlError as error:
        raise ConfigError(f"{path}: {error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: not UTF-8 text ({error.reason} at byte {error.start}); a config is YAML text."
        ) from None


def _metric(pipeline, name: str | None) -> ValidationMetric:
    known = validation_metrics(pipeline)
    if not known:
        raise ConfigError(
            f"search: the {pipeline.name} pipeline's task, a {pipeline.task_class.__name__}, has no validation metric "
            "that toolkit knows to search by."
        )
    if name is None:
        return known[0]
    for metric in known:
        if metric.name == name:
            return metric
    listed = "; ".join(f"{metric.name} ({metric.meaning}, {metric.direction})" for metric in known)
    test_note = " A search chooses on the validation split only; the test split is reported once, at the end." if (
        name.split(".")[0] in ("test", "validation")
    ) else ""
    raise ConfigError(
        f"search.metric: {preview(name)} is not a validation metric the {pipeline.name} pipeline reports. It reports: "
        f"{listed}; the first is the default.{test_note}"
    )


def _direction(metric: ValidationMetric, direction: str | None) -> Direction:
    if direction is not None and direction != metric.direction:
        better = "higher" if metric.direction == "maximize" else "lower"
        raise ConfigError(
            f"search.direction: {direction}, but a {better} {metric.name} is better; give {metric.direction}, "
            "or leave the direction out."
        )
    return metric.direction


def _check_parameter(parameter: Parameter, base_values: dict, base_config: Any) -> None:
    """Checks a space key as `--set` would: the key exists, is a setting, and takes every value the space may give."""
    where = f"search.space: {parameter.key!r}"
    settings = config_lib.dotted(config_lib.to_dict(base_config))
    if parameter.key not in settings:
        inside = [key for key in settings if key.startswith(f"{parameter.key}.")]
        if inside:
            raise ConfigError(f"{where} is a section, not a setting; search one of its keys, such as {inside[0]!r}.")
    if parameter.key.startswith("data.") and parameter.key not in SEARCHABLE_DATA_KEYS:
        searchable = ", ".join(key for key in SEARCHABLE_DATA_KEYS if key in settings)
        raise ConfigError(
            f"{where} may decide which examples are trained, validated and tested on; trials are compared on the "
            f"same examples, so a search cannot vary it. Set it in the config instead. The data keys a search may "
            f"vary here: {searchable or 'none'}."
        )
    for value in parameter.values_to_check():
        try:
            config_lib.from_dict(type(base_config), config_lib.apply_overrides(base_values, {parameter.key: value}))
        except ConfigError as error:
            raise ConfigError(f"{where}, {parameter.describe()}: {error}") from None


def _check_trainer(base_config: Any, metric: ValidationMetric, pruner: PrunerConfig) -> None:
    trainer = base_config.trainer
    if trainer.distribution == "multi_worker":
        raise ConfigError(
            "trainer.distribution: multi_worker trains one run on several hosts; a search runs each trial in one "
            "process. Use none or mirrored (or run several `toolkit tune` processes on one study)."
        )
    watched = metric.epoch_log.removeprefix("val_")
    if pruner.kind != "none" and trainer.metrics is not None and watched not in trainer.metrics:
        raise ConfigError(
            f"search.pruner: pruning watches {metric.epoch_log} after each epoch, but trainer.metrics "
            f"{trainer.metrics} does not log {watched!r}; add it, leave trainer.metrics null, or set "
            "search.pruner.kind: none."
        )


def _whole_at_least_one(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name}: expected a whole number of at least 1, got {preview(value)}.")
    return value


def _positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigError(f"{name}: expected minutes above 0, got {preview(value)}.")
    return float(value)
