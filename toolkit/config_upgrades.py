"""Ordered upgrades of resolved configs, one per change of their schema: what lets a run of any earlier release load.

A run's `config.yaml` lists every key its pipeline had when it was written.
Each step here takes such a config (nested dicts) from schema N to N+1:

- a key that was added gets the value that reproduces what the earlier
  release did, which is not always today's default (a run from before
  `model.test_time_flip` had no mirror-image average, so it gets `false`);
- a key that was renamed or removed is moved or dropped.

Steps are registered in order with `@schema_step`, as Ludwig registers its
config upgrades. Runs written before configs recorded their schema (toolkit
0.1) are read as schema 1, and every step after it changes only what is still
in the older form, so a config part-way along those steps passes through the
earlier ones unchanged. Upgrading happens in memory, when a config is read:
a user's files are never rewritten.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from toolkit.errors import InputError

# Every pipeline a step names; a step leaves the others as they are.
ALL = ("captioning", "image_classification", "sentiment", "stock", "text_generation")


class NewerConfigError(InputError):
    """A config or run written by a newer toolkit than this one; the message says to upgrade toolkit."""


@dataclass(frozen=True)
class SchemaStep:
    """The change from schema `to - 1` to `to`: what it does, and the function that does it in place."""

    to: int
    summary: str
    apply: Callable[[str, dict], None]


STEPS: list[SchemaStep] = []


def schema_step(to: int, summary: str):
    """Registers the decorated `function(pipeline, values)` as the step to schema `to`; steps must come in order."""

    def register(function: Callable[[str, dict], None]) -> Callable[[str, dict], None]:
        expected = STEPS[-1].to + 1 if STEPS else 2
        if to != expected:
            raise ValueError(f"config schema step {function.__name__} goes to {to}; the next step must go to {expected}.")
        STEPS.append(SchemaStep(to, summary, function))
        return function

    return register


def upgrade_config(pipeline: str, values: dict, schema: int | None, toolkit_version: str | None = None) -> dict:
    """`values`, a resolved config of `pipeline` in `schema`, upgraded to `CONFIG_SCHEMA`; the input is not changed.

    Args:
        pipeline: The pipeline's name.
        values: Nested keys and values, as `config.yaml` holds them; a
            section may be missing (a network's own settings are upgraded alone).
        schema: The schema it was written in; `None` for a config written
            before schemas were recorded (schema 1, every step applied).
        toolkit_version: The toolkit that wrote it, for the message.

    Raises:
        NewerConfigError: For a schema newer than this toolkit's.
    """
    schema = 1 if schema is None else schema
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:  # YAML's true is no schema
        raise InputError(f"config_schema: expected a positive whole number, got {schema!r}.")
    if schema > CONFIG_SCHEMA:
        raise NewerConfigError(newer_message(toolkit_version, schema))
    upgraded = copy.deepcopy(values)
    for step in STEPS[schema - 1 :]:
        step.apply(pipeline, upgraded)
    return upgraded


def newer_message(toolkit_version: str | None, schema: int) -> str:
    """What a config or run of a newer toolkit is refused with."""
    from toolkit import __version__

    return (
        f"written by toolkit {toolkit_version or 'unknown'} in config schema {schema}; this is toolkit {__version__}, "
        f"which reads config schemas up to {CONFIG_SCHEMA}. Upgrade toolkit to open it."
    )


def _add(values: dict, key: str, value, pipelines: tuple[str, ...], pipeline: str) -> None:
    """Sets dotted `key` to `value` if `pipeline` is one of `pipelines`, its section is present and the key is not."""
    if pipeline not in pipelines:
        return
    *sections, leaf = key.split(".")
    node = values
    for section in sections:
        node = node.get(section)
        if not isinstance(node, dict):
            return
    node.setdefault(leaf, copy.deepcopy(value))


@schema_step(2, "sentiment: model.ngram_bag, model.pooling and model.spatial_dropout added (a bag of n-grams beside "
                "the LSTM, max-and-mean pooling); earlier runs had the LSTM's last output alone")
def add_ngram_bag(pipeline: str, values: dict) -> None:
    _add(values, "model.ngram_bag", {"ngrams": 0, "max_tokens": 200_000, "embedding_dim": 16}, ("sentiment",), pipeline)
    _add(values, "model.pooling", "last", ("sentiment",), pipeline)
    _add(values, "model.spatial_dropout", 0.0, ("sentiment",), pipeline)


@schema_step(3, "stock: data.date_format added; earlier runs read dates with pandas, which null (ISO 8601) is closest to")
def add_date_format(pipeline: str, values: dict) -> None:
    _add(values, "data.date_format", None, ("stock",), pipeline)


# Earlier runs kept every preprocessed split in memory: a limit no split reaches.
UNLIMITED_CACHE_MB = 1e9


@schema_step(4, "data.cache_limit_mb added (sentiment, stock, image_classification); earlier runs kept every "
                "preprocessed split in memory")
def add_cache_limit(pipeline: str, values: dict) -> None:
    _add(values, "data.cache_limit_mb", UNLIMITED_CACHE_MB, ("image_classification", "sentiment", "stock"), pipeline)


@schema_step(5, "trainer.truncated_bptt added; earlier runs backpropagated through whole sequences (null)")
def add_truncated_bptt(pipeline: str, values: dict) -> None:
    _add(values, "trainer.truncated_bptt", None, ALL, pipeline)


@schema_step(6, "trainer.label_smoothing, model.augmentation.erasing and model.test_time_flip added; earlier runs "
                "had none of them (0, 0 and false)")
def add_smoothing_erasing_and_flip(pipeline: str, values: dict) -> None:
    _add(values, "trainer.label_smoothing", 0.0, ALL, pipeline)
    _add(values, "model.augmentation.erasing", 0.0, ("captioning", "image_classification"), pipeline)
    _add(values, "model.test_time_flip", False, ("image_classification",), pipeline)


@schema_step(7, "captioning: the attention decoder and its settings added (model.decoder, model.attention_units, "
                "model.word_dropout, model.word_presence_loss, decoding.presence_weight, data.selection_images) and "
                "model.augmentation.grayscale (also image_classification); earlier runs were Show and Tell with none of them")
def add_attention_decoder(pipeline: str, values: dict) -> None:
    _add(values, "model.augmentation.grayscale", 0.0, ("captioning", "image_classification"), pipeline)
    _add(values, "model.decoder", "init_state", ("captioning",), pipeline)
    _add(values, "model.attention_units", 64, ("captioning",), pipeline)
    _add(values, "model.word_dropout", 0.0, ("captioning",), pipeline)
    _add(values, "model.word_presence_loss", 0.0, ("captioning",), pipeline)
    _add(values, "decoding.presence_weight", 0.0, ("captioning",), pipeline)
    _add(values, "data.selection_images", 0, ("captioning",), pipeline)


@schema_step(8, "model.encoder.colour and model.encoder.colour_filters added (captioning, image_classification), and "
                "captioning's decoding.context_weight; earlier runs mixed colour in the conv blocks and weighted the "
                "context 1")
def add_colour_stream(pipeline: str, values: dict) -> None:
    _add(values, "model.encoder.colour", "mixed", ("captioning", "image_classification"), pipeline)
    _add(values, "model.encoder.colour_filters", 16, ("captioning", "image_classification"), pipeline)
    _add(values, "decoding.context_weight", 1.0, ("captioning",), pipeline)



@schema_step(9, "serving limits added (serving.max_batch, and max_characters, max_image_pixels or "
                "max_generate_length where a pipeline has them); earlier runs had none but text generation's bound "
                "of 10,000 characters a call")
def add_serving_limits(pipeline: str, values: dict) -> None:
    _add(values, "serving", {"max_batch": None}, ALL, pipeline)
    _add(values, "serving.max_characters", None, ("sentiment", "text_generation"), pipeline)
    _add(values, "serving.max_image_pixels", None, ("captioning", "image_classification"), pipeline)
    _add(values, "serving.max_generate_length", 10_000, ("text_generation",), pipeline)


# The schema a config of this toolkit is written in: that of the last step.
CONFIG_SCHEMA = STEPS[-1].to
