"""The sizes a task model's serving signature refuses before doing any work: each pipeline's `serving` config section.

A request the process could not hold (100,000 images in one call, a 1 MB
prompt, a billion characters to generate) is refused by an assertion that
runs before the network, with a message naming the limit and the key that
sets it. The limits travel with the task model (its config, and so
`model.keras` and the SavedModel), so that every way of serving it refuses
the same. A limit of `null` is no limit: what runs of toolkit 0.1 had.
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.config import option


@dataclass
class ServingLimits:
    """The rows one call of the serving signature takes."""

    max_batch: int | None = option(
        1024, "Most inputs (rows) one call of the serving signature takes; a larger batch is refused before any work. "
        "toolkit.load(...).predict splits a longer list into batches of at most this many. null: no limit.", min=1,
        max=2**31 - 1,
    )


@dataclass
class TextServingLimits(ServingLimits):
    """Rows, and the characters of each text."""

    max_characters: int | None = option(
        100_000, "Most characters (Unicode code points) in one text; a longer one is refused before it is read. "
        "null: no limit.", min=1, max=2**31 - 1,
    )


@dataclass
class ImageServingLimits(ServingLimits):
    """Rows, and the pixels of an image file given to `predict`."""

    max_image_pixels: int | None = option(
        40_000_000, "Most pixels (height x width) of an image file given to predict; a larger file is refused from "
        "its header, before it is decoded. null: no limit.", min=1, max=2**40,
    )


@dataclass
class GenerationServingLimits(TextServingLimits):
    """Rows, the characters of each prompt, and the characters one call may generate."""

    max_characters: int | None = option(
        10_000, "Most characters in one prompt; a longer one is refused before the model reads it. null: no limit.",
        min=1, max=2**31 - 1,
    )
    max_generate_length: int = option(
        10_000, "Most characters one call may ask to generate (the signature's length input); more is refused "
        "before anything is generated.", min=0, max=10_000,
    )
