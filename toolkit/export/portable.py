"""Serving a toolkit export with ONNX Runtime or LiteRT and NumPy alone: no TensorFlow, no toolkit.

This file is copied into every portable export (`onnx/`, `litert/`), beside
its model files and `spec.json`. A program with onnxruntime (or
ai-edge-litert) and NumPy imports it from there:

    import sys
    sys.path.insert(0, "saved_models/sentiment/RUN/onnx")
    import portable

    model = portable.load("saved_models/sentiment/RUN/onnx")
    model.predict(["A fine film.", "Dull."])  # probabilities, probability, label

`load` gives the task's class below; its `predict` returns what the run's
SavedModel serves, under the same names. The model files take numbers (token
ids, price windows, uint8 images) and return numbers (probabilities, class
ids, prices, next-token scores); this file does the rest: the text
tokenizer, the class names, and the greedy and beam decoding loops, each
as `spec.json` describes it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

SPEC = "spec.json"
SPEC_FORMAT = "toolkit-portable-export"
SPEC_VERSION = 1


def load(folder, int8: bool = False):
    """The exported task in `folder`: a `TextClassifier`, `ImageClassifier`, `PriceForecaster`, `Captioner` or `TextGenerator`.

    Args:
        folder: The export: `RUN/onnx`, `RUN/litert`, or a folder written with `--output`.
        int8: Run the int8 variants of a LiteRT export written with `--quantize`.
    """
    folder = Path(folder)
    spec = json.loads((folder / SPEC).read_text(encoding="utf-8"))
    if spec.get("format") != SPEC_FORMAT or spec.get("version") != SPEC_VERSION:
        raise ValueError(
            f"{folder / SPEC}: not a toolkit export of version {SPEC_VERSION} (format {spec.get('format')!r})."
        )
    key = "int8_file" if int8 else "file"
    if any(key not in entry for entry in spec["models"].values()):
        raise ValueError(f"{folder}: this export has no int8 variant; export it with --format litert --quantize.")
    models = {
        name: Session(folder / entry[key], spec["runtime"], entry["batch"]) for name, entry in spec["models"].items()
    }
    return _TASKS[spec["task"]](spec, models)


class Session:
    """One model file in its runtime, called with named arrays; returns named arrays.

    A model exported for a fixed batch of 1 (LiteRT's recurrent models) is
    called once per row.
    """

    def __init__(self, path: Path, runtime: str, batch: int | None):
        self.batch = batch
        if runtime == "onnx":
            import onnxruntime

            session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            names = [output.name for output in session.get_outputs()]
            self._run = lambda inputs: dict(zip(names, session.run(names, inputs)))
        elif runtime == "litert":
            from ai_edge_litert.interpreter import Interpreter

            runner = Interpreter(model_path=str(path)).get_signature_runner()
            self._run = lambda inputs: {name: np.array(value) for name, value in runner(**inputs).items()}
        else:
            raise ValueError(f"{path}: unknown runtime {runtime!r}; expected onnx or litert.")

    def __call__(self, **inputs: np.ndarray) -> dict[str, np.ndarray]:
        if self.batch is None:
            return self._run(inputs)
        rows = len(next(iter(inputs.values())))
        answers = [self._run({name: value[row : row + 1] for name, value in inputs.items()}) for row in range(rows)]
        return {name: np.concatenate([answer[name] for answer in answers]) for name in answers[0]}


class TextTokenizer:
    """Texts to token ids, as the model's in-graph preprocessor makes them, by the rules of `spec.json`.

    Each text is standardized by the rules in order (ASCII lower-casing,
    regular-expression replacements, runs of separator characters to one
    space), split on spaces, and its words looked up in the vocabulary:
    0 pads, 1 is any word outside it. Word ids are cut at `max_length`; a
    bag of n-grams (`ngrams` 2: the words, then each pair of neighbours
    joined by a space) has a vocabulary of its own and is never cut.
    """

    def __init__(self, text: dict):
        self.rules = [_compiled_rule(rule) for rule in text["standardize"]]
        self.word_character = re.compile(_character_class(text["word_characters"]))
        self.max_length = text["max_length"]
        self.unknown_id = text["unknown_id"]
        self.ids = {token: index for index, token in enumerate(text["vocabulary"])}
        self.ngrams = text.get("ngrams", 1)
        self.ngram_ids = (
            {token: index for index, token in enumerate(text["ngram_vocabulary"])}
            if "ngram_vocabulary" in text
            else None
        )

    def standardize(self, text: str) -> str:
        for rule in self.rules:
            text = rule(text)
        return text

    def words(self, text: str) -> list[str]:
        return [word for word in self.standardize(text).split(" ") if word]

    def has_word(self, text: str) -> bool:
        """Whether the text has a letter or digit of any script once standardized: one without has no prediction."""
        return self.word_character.search(self.standardize(text)) is not None

    def encode(self, texts: list[str]) -> dict[str, np.ndarray]:
        """int64 `(batch, length)` ids, padded with 0 to the longest (at least 1): `token_ids`, each text's word
        ids cut at `max_length`, and with a bag of n-grams, `ngram_ids`."""
        return self.ids_of_words([self.words(text) for text in texts])

    def ids_of_words(self, words: list[list[str]]) -> dict[str, np.ndarray]:
        """`encode`'s ids, from each text's words."""
        ids = {
            "token_ids": _padded(
                [[self.ids.get(word, self.unknown_id) for word in row][: self.max_length] for row in words]
            )
        }
        if self.ngram_ids is not None:
            ids["ngram_ids"] = _padded(
                [[self.ngram_ids.get(gram, self.unknown_id) for gram in self._grams(row)] for row in words]
            )
        return ids

    def _grams(self, words: list[str]) -> list[str]:
        """The words, then every run of 2 neighbours joined by a space, ... up to `ngrams`."""
        grams = list(words)
        for n in range(2, self.ngrams + 1):
            grams += [" ".join(words[start : start + n]) for start in range(len(words) - n + 1)]
        return grams


def _compiled_rule(rule: dict):
    if "lowercase" in rule:  # the graph's lower-casing changes A-Z alone, and leaves every other letter as it is
        table = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}
        return lambda text: text.translate(table)
    if "replace" in rule:
        pattern = re.compile(rule["replace"])
        return lambda text: pattern.sub(rule["with"], text)
    if "replace_runs_of" in rule:
        every = re.compile(_character_class(rule["replace_runs_of"]) + "+")
        # The class cut to ASCII, for texts that are ASCII alone (most): far quicker to match, and the same result.
        ascii_ranges = [[first, min(last, 127)] for first, last in rule["replace_runs_of"] if first < 128]
        ascii_only = re.compile(_character_class(ascii_ranges) + "+" if ascii_ranges else "(?!)")
        return lambda text: (ascii_only if text.isascii() else every).sub(rule["with"], text)
    raise ValueError(f"{SPEC}: unknown standardization rule {rule!r}.")


def _character_class(ranges: list[list[int]]) -> str:
    """A regular-expression class of the code points in `ranges` (each `[first, last]`, inclusive)."""
    return "[" + "".join(f"\\U{first:08x}-\\U{last:08x}" for first, last in ranges) + "]"


def _padded(rows: list[list[int]]) -> np.ndarray:
    ids = np.zeros((len(rows), max([1, *map(len, rows)])), np.int64)
    for row, values in enumerate(rows):
        ids[row, : len(values)] = values
    return ids


def _texts(texts, name: str) -> list[str]:
    texts = [texts] if isinstance(texts, str) else list(texts)
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"{name}[{index}]: expected a string, got {type(text).__name__}.")
    return texts


class _Classifier:
    """What both classifiers share: probabilities from the model, the class names from the spec."""

    def __init__(self, spec: dict, models: dict[str, Session]):
        self.spec = spec
        self.model = models["model"]
        self.class_names = spec["class_names"]

    def _answers(self, outputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {
            "probabilities": outputs["probabilities"],
            "probability": outputs["probability"],
            "label": np.array([self.class_names[index] for index in outputs["class_id"]], dtype=object),
        }

    def _empty(self) -> dict[str, np.ndarray]:
        return {
            "probabilities": np.zeros((0, len(self.class_names)), np.float32),
            "probability": np.zeros(0, np.float32),
            "label": np.zeros(0, object),
        }


class TextClassifier(_Classifier):
    """Classifies texts; `tokenizer` turns them into the model's token ids."""

    WORDLESS = (
        "text: a text needs at least one word (a letter or digit; whitespace, markup and punctuation alone have none)"
    )

    def __init__(self, spec: dict, models: dict[str, Session]):
        super().__init__(spec, models)
        self.tokenizer = TextTokenizer(spec["text"])

    def predict(self, texts) -> dict[str, np.ndarray]:
        """`probabilities` `(batch, classes)`, `probability` and `label` (a class name) of each text.

        Raises:
            ValueError: For texts without a word to read, naming their rows, as the SavedModel refuses them.
        """
        tokenizer = self.tokenizer
        standardized = [tokenizer.standardize(text) for text in _texts(texts, "texts")]
        wordless = [row for row, text in enumerate(standardized) if not tokenizer.word_character.search(text)]
        if wordless:
            raise ValueError(f"{self.WORDLESS}; texts without one at rows {', '.join(map(str, wordless[:5]))}.")
        if not standardized:
            return self._empty()
        words = [[word for word in text.split(" ") if word] for text in standardized]
        return self._answers(self.model(**tokenizer.ids_of_words(words)))


class ImageClassifier(_Classifier):
    """Classifies uint8 images of `spec["image_shape"]`."""

    def predict(self, images) -> dict[str, np.ndarray]:
        """`probabilities`, `probability` and `label` of each image of a batch (or of one image)."""
        images = _uint8_images(images, self.spec["image_shape"])
        return self._answers(self.model(images=images)) if len(images) else self._empty()


def _uint8_images(images, shape: list[int]) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"images: expected uint8 values, got {images.dtype}.")
    if images.shape == tuple(shape):
        images = images[None]
    if images.shape[1:] != tuple(shape):
        raise ValueError(f"images: expected shape (batch, {', '.join(map(str, shape))}), got {images.shape}.")
    return images


class PriceForecaster:
    """Forecasts closes from windows of daily open, high, low, close and volume, in the prices' own units."""

    def __init__(self, spec: dict, models: dict[str, Session]):
        self.spec = spec
        self.model = models["model"]
        self.columns = spec["raw_features"]

    def predict(self, windows) -> dict[str, np.ndarray]:
        """`prices` and `log_changes`, `(batch, horizon)`, of a batch of windows `(batch, window, 5)` (or of one).

        Raises:
            ValueError: For windows the SavedModel refuses too: of another
                shape, with values that are not finite, prices that are not
                positive, a negative volume, a high below its low or a close
                outside [low, high]; the message names the windows.
        """
        window = self.spec["window"]
        windows = np.asarray(windows, np.float32)
        windows = windows[None] if windows.shape == (window, len(self.columns)) else windows
        if windows.ndim != 3 or windows.shape[1:] != (window, len(self.columns)):
            raise ValueError(
                f"windows: expected shape (batch, {window}, {len(self.columns)}) with columns "
                f"{', '.join(self.columns)}; got {windows.shape}."
            )
        column = {name: windows[..., index] for index, name in enumerate(self.columns)}
        prices = np.stack([column[name] for name in ("open", "high", "low", "close")], axis=-1)
        invalid = ~(
            np.isfinite(windows).all(axis=(1, 2)) & (prices > 0).all(axis=(1, 2)) & (column["volume"] >= 0).all(axis=1)
        )
        _refuse(invalid, "prices must be positive finite numbers and volumes finite and not negative")
        high, low, close = column["high"], column["low"], column["close"]
        _refuse(
            ((high < low) | (close < low) | (close > high)).any(axis=1),
            "a high must be at least its low, and a close within [low, high], every day",
        )
        if not len(windows):
            horizon = self.spec["horizon"]
            return {"prices": np.zeros((0, horizon), np.float32), "log_changes": np.zeros((0, horizon), np.float32)}
        outputs = self.model(windows=windows)
        return {"prices": outputs["prices"], "log_changes": outputs["log_changes"]}


def _refuse(at_fault: np.ndarray, rule: str) -> None:
    if at_fault.any():
        raise ValueError(f"windows: {rule}; windows at fault: {', '.join(map(str, np.flatnonzero(at_fault)[:5]))}.")


class Captioner:
    """Captions uint8 images with the exported encoder and decoder step, by greedy decoding and beam search.

    Both loops are those of the SavedModel, step for step: the encoder gives
    each image's decoding states; each step feeds one token per caption and
    returns every word's score (its log-probability) and the new states.
    """

    def __init__(self, spec: dict, models: dict[str, Session]):
        self.spec = spec
        self.encoder, self.step = models["encoder"], models["step"]
        self.vocabulary = spec["vocabulary"]
        self.ids = spec["special_ids"]
        self.decoding = spec["decoding"]
        self.grid = spec["attention_grid"]

    def predict(self, images) -> dict[str, np.ndarray]:
        """What the SavedModel serves: `caption` and `log_probability` by beam search, `greedy_caption` and
        `greedy_log_probability`, and with attention, `attention` and `greedy_attention` `(batch, max_length, rows, columns)`."""
        images = _uint8_images(images, self.spec["image_shape"])
        beam, greedy = self.beam_search(images), self.greedy(images)
        outputs = {
            "caption": np.array(self.detokenize(beam[0]), dtype=object),
            "log_probability": beam[1],
            "greedy_caption": np.array(self.detokenize(greedy[0]), dtype=object),
            "greedy_log_probability": greedy[1],
        }
        if self.grid is not None:
            outputs["attention"] = beam[2].reshape(len(images), -1, *self.grid)
            outputs["greedy_attention"] = greedy[2].reshape(len(images), -1, *self.grid)
        return outputs

    def _start(self, images: np.ndarray) -> dict[str, np.ndarray]:
        return {name: value for name, value in self.encoder(images=images).items()}

    def _step(self, tokens: np.ndarray, states: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, dict]:
        """Every word's score, the attention weights this step used (`(rows, 0)` without attention), the new states."""
        outputs = self.step(tokens=tokens, **states)
        attention = outputs.get("attention", np.zeros((len(tokens), 0), np.float32))
        return outputs["scores"], attention, {name: outputs[f"next_{name}"] for name in states}

    def greedy(self, images, max_length: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`(ids, log_probability, attention)`: the most likely word at each step; ids `(batch, max_length)`."""
        max_length = max_length or self.decoding["max_length"]
        images = _uint8_images(images, self.spec["image_shape"])
        batch = len(images)
        states = self._start(images) if batch else {}
        tokens = np.full(batch, self.ids["start"], np.int64)
        finished, total = np.zeros(batch, bool), np.zeros(batch, np.float32)
        ids, weights = [], []
        while len(ids) < max_length and batch and not finished.all():
            scores, attention, states = self._step(tokens, states)
            weights.append(np.where(finished[:, None], np.float32(0), attention))
            chosen = np.where(finished, self.ids["padding"], np.argmax(scores, axis=-1)).astype(np.int64)
            total += np.where(finished, np.float32(0), scores[np.arange(batch), chosen])
            finished |= chosen == self.ids["end"]
            tokens = chosen
            ids.append(chosen)
        ids = np.stack(ids, axis=1) if ids else np.zeros((batch, 0), np.int64)
        attention = np.stack(weights, axis=1) if weights else np.zeros((batch, 0, self._positions()), np.float32)
        ids, attention = self._padded(ids, attention, max_length)
        return ids, total, attention

    def beam_search(
        self, images, max_length: int | None = None, beam_width: int | None = None, length_penalty: float | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`(ids, log_probability, attention)` of each image's best caption by beam search.

        Hypotheses are ranked by summed log-probability while searching (ties
        to the lower index, as TensorFlow's `top_k`); at the end each one's
        score is divided by `length ** length_penalty`.
        """
        max_length = max_length or self.decoding["max_length"]
        width = beam_width or self.decoding["beam_width"]
        penalty = self.decoding["length_penalty"] if length_penalty is None else length_penalty
        images = _uint8_images(images, self.spec["image_shape"])
        batch, positions = len(images), self._positions()
        states = {
            name: np.repeat(value, width, axis=0) for name, value in (self._start(images) if batch else {}).items()
        }
        tokens = np.full(batch * width, self.ids["start"], np.int64)
        # Only the first beam is live at the start, so that the first step does not pick one word k times.
        scores = np.tile(np.array([0.0] + [-1e9] * (width - 1), np.float32), (batch, 1))
        finished, lengths = np.zeros((batch, width), bool), np.zeros((batch, width), np.float32)
        sequences = np.zeros((batch, width, 0), np.int64)
        weights = np.zeros((batch, width, 0, positions), np.float32)
        step = 0
        while step < max_length and batch and not finished.all():
            step_scores, attention, states = self._step(tokens, states)
            vocabulary = step_scores.shape[-1]
            attention = np.where(finished[..., None], np.float32(0), attention.reshape(batch, width, positions))
            # A finished caption can only be extended by padding, at no cost.
            padding_only = np.where(np.arange(vocabulary) == self.ids["padding"], 0.0, -1e9).astype(np.float32)
            step_scores = np.where(finished[..., None], padding_only, step_scores.reshape(batch, width, vocabulary))
            candidates = (scores[..., None] + step_scores).reshape(batch, -1)
            chosen = np.argsort(-candidates, axis=-1, kind="stable")[:, :width]
            scores = np.take_along_axis(candidates, chosen, axis=-1)
            parents, words = chosen // vocabulary, (chosen % vocabulary).astype(np.int64)
            was_finished = np.take_along_axis(finished, parents, axis=-1)
            lengths = np.take_along_axis(lengths, parents, axis=-1) + (~was_finished).astype(np.float32)
            finished = was_finished | (words == self.ids["end"])
            sequences = np.concatenate(
                [np.take_along_axis(sequences, parents[..., None], axis=1), words[..., None]], -1
            )
            weights = np.concatenate(
                [
                    np.take_along_axis(weights, parents[..., None, None], axis=1),
                    np.take_along_axis(attention, parents[..., None], axis=1)[:, :, None],
                ],
                axis=2,
            )
            rows = (parents + np.arange(batch)[:, None] * width).reshape(-1)
            states = {name: value[rows] for name, value in states.items()}
            tokens = words.reshape(-1)
            step += 1
        normalized = scores / np.power(np.maximum(lengths, np.float32(1)), np.float32(penalty))
        best = np.argmax(normalized, axis=-1)
        pick = np.arange(batch), best
        ids, attention = self._padded(sequences[pick], weights[pick], max_length)
        return ids, scores[pick], attention

    def _positions(self) -> int:
        return 0 if self.grid is None else self.grid[0] * self.grid[1]

    def _padded(self, ids: np.ndarray, attention: np.ndarray, max_length: int) -> tuple[np.ndarray, np.ndarray]:
        missing = max_length - ids.shape[1]
        return (
            np.pad(ids, [(0, 0), (0, missing)], constant_values=self.ids["padding"]),
            np.pad(attention, [(0, 0), (0, missing), (0, 0)]),
        )

    def detokenize(self, ids: np.ndarray) -> list[str]:
        """Each row of ids as a caption: its words up to the first `<end>`, without special tokens."""
        captions = []
        for row in np.asarray(ids):
            words = []
            for token in row:
                if token == self.ids["end"]:
                    break
                if token > self.ids["end"]:
                    words.append(self.vocabulary[token])
            captions.append(" ".join(words))
        return captions


class TextGenerator:
    """Continues prompts one character at a time with the exported step of the language model.

    Each prompt is read after `spec["document_separator"]`, as the model was
    trained. At temperature 0 (the default) the most likely character is
    chosen at each step: the SavedModel's text at temperature 0, exactly.
    A temperature above 0 samples with NumPy's generator, so its draws are
    not the SavedModel's for the same seed.
    """

    def __init__(self, spec: dict, models: dict[str, Session]):
        self.spec = spec
        self.step = models["step"]
        self.vocabulary = spec["vocabulary"]
        self.ids = {character: index for index, character in enumerate(self.vocabulary)}

    def character_ids(self, texts: list[str]) -> np.ndarray:
        """int64 `(batch, length)`: each text's characters' ids (1 for one outside the vocabulary), padded with 0."""
        unknown = self.spec["unknown_id"]
        return _padded([[self.ids.get(character, unknown) for character in text] for text in texts])

    def predict(self, prompts) -> dict[str, np.ndarray]:
        """`text`: each prompt continued by `spec["length"]` characters at temperature 0."""
        return {"text": np.array(self.generate(prompts), dtype=object)}

    def generate(
        self, prompts, length: int | None = None, temperature: float = 0.0, top_k: int = 0, seed: int | None = None
    ) -> list[str]:
        """Continues each prompt by `length` characters (the export's default if `None`).

        Args:
            prompts: A string or a list of strings.
            length: Characters to generate, 0 or more.
            temperature: 0 for the most likely character; above 0, sampling from `softmax(logits / temperature)`.
            top_k: Sample among the `top_k` most likely characters; 0 for all.
            seed: The seed of NumPy's generator, for sampling.
        """
        prompts = _texts(prompts, "prompts")
        length = self.spec["length"] if length is None else length
        if length < 0 or temperature < 0 or top_k < 0:
            raise ValueError(f"length, temperature and top_k must be 0 or more; got {length}, {temperature}, {top_k}.")
        batch = len(prompts)
        if not batch:
            return []
        prompt_ids = self.character_ids([self.spec["document_separator"] + prompt for prompt in prompts])
        width = prompt_ids.shape[1]
        prompt_lengths = (prompt_ids != 0).sum(axis=1)
        states = {
            f"state_{index}": np.zeros((batch, size), np.float32) for index, size in enumerate(self.spec["state_sizes"])
        }
        allowed = np.ones(len(self.vocabulary), bool)
        allowed[self.spec["never_generated"]] = False
        random = np.random.default_rng(seed)
        previous, samples = np.zeros(batch, np.int64), []
        for t in range(prompt_lengths.max() - 1 + length):
            fed = np.where(t < prompt_lengths, prompt_ids[:, min(t, width - 1)], previous)
            outputs = self.step(ids=fed, **states)
            states = {name: outputs[f"next_{name}"] for name in states}
            logits = np.where(allowed, outputs["logits"], -np.inf)
            if temperature == 0:
                previous = np.argmax(logits, axis=-1).astype(np.int64)
            else:
                previous = self._sampled(logits, temperature, top_k, random)
            samples.append(previous)
        sampled = np.stack(samples, axis=1) if samples else np.zeros((batch, 0), np.int64)
        positions = prompt_lengths[:, None] - 1 + np.arange(length)[None, :]
        chosen = np.take_along_axis(sampled, positions, axis=1) if length else np.zeros((batch, 0), np.int64)
        return ["".join(self.vocabulary[index] for index in row) for row in chosen]

    @staticmethod
    def _sampled(logits: np.ndarray, temperature: float, top_k: int, random: np.random.Generator) -> np.ndarray:
        if top_k:
            kth_largest = np.sort(logits, axis=-1)[:, -min(top_k, logits.shape[-1])][:, None]
            logits = np.where(logits >= kth_largest, logits, -np.inf)
        scaled = logits / temperature
        probabilities = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
        probabilities /= probabilities.sum(axis=-1, keepdims=True)
        return np.array([random.choice(len(row), p=row) for row in probabilities], np.int64)


_TASKS = {
    "text_classifier": TextClassifier,
    "image_classifier": ImageClassifier,
    "price_forecaster": PriceForecaster,
    "captioner": Captioner,
    "text_generator": TextGenerator,
}
