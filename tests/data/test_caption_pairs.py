"""Teacher-forcing batches: each image with a reference shifted by one token, every pair in order or one drawn per epoch."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.data import caption_pairs as pairs_module
from toolkit.data.caption_pairs import caption_pairs
from toolkit.data.splits import Split
from toolkit.preprocessing.captions import END_ID, PADDING_ID, START_ID, caption_tokenizer

REFERENCES = [["a red circle", "one red circle"], ["a blue square"], ["a green diamond", "green diamond", "a diamond"]]


def split_and_tokenizer():
    images = np.arange(3, dtype=np.uint8)[:, None, None, None] * np.ones((3, 2, 2, 1), np.uint8)  # image i is all i
    tokenizer = caption_tokenizer([c for references in REFERENCES for c in references], max_tokens=30, max_length=8)
    return Split(images, REFERENCES), tokenizer


def test_in_order_every_image_and_reference_pair_comes_once_shifted_by_one_token():
    split, tokenizer = split_and_tokenizer()
    batches = list(caption_pairs(split, tokenizer, batch_size=4, shuffle=False))
    assert [len(targets) for _, targets in batches] == [4, 2]  # six pairs
    images = np.concatenate([images.numpy() for (images, _), _ in batches])
    inputs = np.concatenate([_pad(ids.numpy(), 5) for (_, ids), _ in batches])
    targets = np.concatenate([_pad(ids.numpy(), 5) for _, ids in batches])
    assert images[:, 0, 0, 0].tolist() == [0, 0, 1, 2, 2, 2]
    flat = [caption for references in REFERENCES for caption in references]
    expected = tokenizer(np.array(flat, dtype=object)).numpy()
    np.testing.assert_array_equal(inputs, _pad(expected[:, :-1], 5))
    np.testing.assert_array_equal(targets, _pad(expected[:, 1:], 5))
    assert (inputs[:, 0] == START_ID).all()
    assert [row.tolist().count(END_ID) for row in targets] == [1] * 6
    assert tokenizer.detokenize(targets[:1]).numpy()[0].decode() == "a red circle"


def test_shuffled_each_image_comes_once_per_epoch_with_one_of_its_own_references():
    split, tokenizer = split_and_tokenizer()
    references = {image: {tuple(_trim(ids)) for ids in tokenizer(np.array(captions, dtype=object)).numpy()[:, 1:]}
                  for image, captions in enumerate(REFERENCES)}
    data = caption_pairs(split, tokenizer, batch_size=8, shuffle=True, seed=3)
    drawn = set()
    for _ in range(20):  # epochs
        ((images, inputs), targets), = list(data)  # one batch of the three images
        assert sorted(images.numpy()[:, 0, 0, 0].tolist()) == [0, 1, 2]
        for image, ids, shifted in zip(images.numpy()[:, 0, 0, 0], inputs.numpy(), targets.numpy()):
            assert tuple(_trim(shifted)) in references[image]
            assert ids[0] == START_ID and (ids[1:] == shifted[:-1]).all()
            drawn.add((int(image), tuple(_trim(shifted))))
    assert {reference for image, reference in drawn if image == 0} == references[0], "a new draw each epoch"
    assert len({reference for image, reference in drawn if image == 2}) >= 2


def test_the_references_drawn_in_an_epoch_are_drawn_anew_in_the_next():
    references = [[f"image{image} take{take}" for take in range(5)] for image in range(6)]
    images = np.arange(6, dtype=np.uint8)[:, None, None, None] * np.ones((6, 2, 2, 1), np.uint8)
    tokenizer = caption_tokenizer([c for captions in references for c in captions], max_tokens=60, max_length=4)
    data = caption_pairs(Split(images, references), tokenizer, batch_size=8, shuffle=True, seed=0)
    takes = {tokenizer.vocabulary().index(f"take{take}"): take for take in range(5)}
    per_epoch = [tuple(sorted(takes[int(ids[1])] for ids in targets.numpy())) for _ in range(20) for _, targets in data]
    assert len(set(per_epoch)) > 1, f"every epoch drew the takes {per_epoch[0]}"


def test_the_seed_sets_the_order_of_the_images_in_every_epoch():
    split, tokenizer = split_and_tokenizer()

    def orders(seed):
        data = caption_pairs(split, tokenizer, batch_size=8, shuffle=True, seed=seed)
        return [images.numpy()[:, 0, 0, 0].tolist() for _ in range(4) for (images, _), _ in data]

    assert orders(5) == orders(5)
    assert len({tuple(order) for order in orders(5)}) > 1, "reshuffled every epoch"
    assert orders(5) != orders(6)


def test_captions_tokenized_in_chunks_are_padded_to_one_length():
    chunks = [np.array([[2, 4, 3]]), np.array([[2, 4, 5, 6, 3], [2, 3, 0, 0, 0]])]
    joined = pairs_module._padded_concat([np.asarray(chunk) for chunk in chunks]).numpy()
    assert joined.tolist() == [[2, 4, 3, 0, 0], [2, 4, 5, 6, 3], [2, 3, 0, 0, 0]]


def _pad(ids: np.ndarray, length: int) -> np.ndarray:
    return np.pad(ids, [(0, 0), (0, length - ids.shape[1])], constant_values=PADDING_ID)


def _trim(ids: np.ndarray) -> list[int]:
    return [int(i) for i in ids if i != PADDING_ID]
