"""Teacher-forcing batches for a captioner: each image with one of its references, as token ids."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from toolkit.data.splits import Split


def caption_pairs(split: Split, tokenizer, batch_size: int, shuffle: bool, seed: int = 0) -> tf.data.Dataset:
    """Batches of `((images, ids[:-1]), ids[1:])` from images and their reference captions.

    Args:
        split: uint8 images and, per image, a list of reference captions.
        tokenizer: A `CaptionTokenizer`: captions to `<start> … <end>` ids.
        batch_size: Pairs per batch.
        shuffle: For training: shuffle the images and draw one of each
            image's references at random, afresh every epoch. Otherwise every
            (image, reference) pair comes once, in order.
        seed: Seed of the shuffle.
    """
    counts = np.array([len(references) for references in split.targets])
    flat = np.array([caption for references in split.targets for caption in references], dtype=object)
    ids = _padded_concat([tokenizer(flat[start : start + 4096]) for start in range(0, len(flat), 4096)])
    if shuffle:
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        data = tf.data.Dataset.from_tensor_slices((split.inputs, starts, counts)).shuffle(len(counts), seed=seed)
        # One seeded draw per image and epoch, paired with the images in order: the same every run, new every epoch.
        draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        data = tf.data.Dataset.zip(data, draws).map(
            lambda image_start_count, draw: (
                image_start_count[0],
                image_start_count[1] + tf.math.floormod(draw, tf.cast(image_start_count[2], draw.dtype)),
            ),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    else:
        images = np.repeat(np.arange(len(counts)), counts)
        data = tf.data.Dataset.from_tensor_slices((split.inputs[images], np.arange(len(flat))))
    data = data.map(lambda image, row: ((image, ids[row][:-1]), ids[row][1:]), num_parallel_calls=tf.data.AUTOTUNE)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _padded_concat(batches: list[tf.Tensor]) -> tf.Tensor:
    length = max(int(batch.shape[1]) for batch in batches)
    return tf.concat([tf.pad(batch, [[0, 0], [0, length - batch.shape[1]]]) for batch in batches], axis=0)
