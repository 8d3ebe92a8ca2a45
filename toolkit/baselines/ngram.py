"""The baseline of a character language model: an interpolated Kneser–Ney n-gram model, counted with NumPy.

NLTK's `KneserNeyInterpolated` computes one probability at a time in
Python, far too slowly for the hundreds of thousands of characters a test
text holds. This model is interpolated Kneser–Ney as Chen & Goodman (1999)
give it, with one absolute discount per order estimated from the counts
(NLTK fixes one discount, 0.1), and with every n-gram of a text encoded
as one integer, so that counting is `np.unique` and looking up is
`np.searchsorted`, for all positions at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class _Order:
    """The counts of one order: n-grams `h·w` as integer codes, sorted, and what each context `h` sums to."""

    codes: np.ndarray  # sorted n-gram codes
    counts: np.ndarray  # raw counts (highest order) or continuation counts (lower orders)
    contexts: np.ndarray  # sorted context codes
    context_totals: np.ndarray  # Σ_w counts(h·w)
    context_types: np.ndarray  # how many w follow h
    discount: float


class KneserNeyNGrams:
    """An interpolated Kneser–Ney model of order `n` over integer tokens `0 … vocabulary_size − 1`.

    The highest order counts n-grams; each lower order counts how many
    distinct tokens precede a shorter n-gram (its continuation count), and
    the lowest interpolates with the uniform distribution, so every token
    has a probability above zero. Each order's discount is
    `n₁ / (n₁ + 2 n₂)`, from the numbers of its n-grams counted once and twice.

    Args:
        order: `n`, at least 1.
        vocabulary_size: The number of distinct tokens.

    Example:

    >>> import numpy as np
    >>> model = KneserNeyNGrams(3, 3).fit(np.array([0, 1, 2] * 50))
    >>> probabilities = model.probabilities(np.array([[0, 1]]))[0]
    >>> round(float(probabilities.sum()), 6), int(probabilities.argmax())
    (1.0, 2)
    """

    def __init__(self, order: int, vocabulary_size: int):
        if order < 1:
            raise ValueError(f"KneserNeyNGrams: `order` must be at least 1, got {order}.")
        if float(vocabulary_size) ** order >= 2**62:
            raise ValueError(
                f"KneserNeyNGrams: {order}-grams over {vocabulary_size} tokens do not fit one 64-bit code each; "
                "lower the order or the vocabulary."
            )
        self.order = order
        self.vocabulary_size = vocabulary_size
        self._orders: list[_Order] = []

    def fit(self, tokens: np.ndarray) -> KneserNeyNGrams:
        """Counts every n-gram of one token sequence, for orders 1 to `n`."""
        tokens = np.asarray(tokens, dtype="int64")
        self._orders = []
        for length in range(1, self.order + 1):
            if length == self.order:
                codes, counts = np.unique(_codes(tokens, length, self.vocabulary_size), return_counts=True)
            else:
                # Continuation counts: the distinct tokens seen before each n-gram.
                longer = np.unique(_codes(tokens, length + 1, self.vocabulary_size))
                codes, counts = np.unique(longer % self.vocabulary_size**length, return_counts=True)
            contexts, first, context_types = np.unique(codes // self.vocabulary_size, return_index=True, return_counts=True)
            once, twice = np.sum(counts == 1), np.sum(counts == 2)
            discount = once / (once + 2 * twice) if once else 0.5
            self._orders.append(
                _Order(codes, counts, contexts, np.add.reduceat(counts, first), context_types, float(discount))
            )
        return self

    def log2_probabilities(self, contexts: np.ndarray, targets: np.ndarray, available: np.ndarray | None = None) -> np.ndarray:
        """`log₂ P(target | context)` for each row.

        Args:
            contexts: `(rows, n − 1)` tokens before each target, oldest first.
            targets: `(rows,)` tokens.
            available: `(rows,)` how many of the context's last tokens are
                real (a text's first characters have fewer before them); all
                of them by default. A row with fewer gets the distribution of
                the longest order its context fills, which (below `n`) is a
                continuation-count one, as inside the full model.
        """
        contexts = np.asarray(contexts, "int64").reshape(len(targets), self.order - 1)
        targets = np.asarray(targets, "int64")
        available = np.full(len(targets), self.order - 1) if available is None else np.asarray(available)
        probability = np.full(len(targets), 1.0 / self.vocabulary_size)
        for length, counts in enumerate(self._orders, start=1):
            history = contexts[:, contexts.shape[1] - (length - 1) :]
            context_codes = _row_codes(history, self.vocabulary_size)
            higher = _interpolated(counts, context_codes, context_codes * self.vocabulary_size + targets, probability)
            probability = np.where(available >= length - 1, higher, probability)
        return np.log2(probability)

    def probabilities(self, contexts: np.ndarray) -> np.ndarray:
        """`(rows, vocabulary_size)`: the distribution of the next token after each full context."""
        contexts = np.asarray(contexts, "int64")
        rows = np.repeat(contexts, self.vocabulary_size, axis=0)
        targets = np.tile(np.arange(self.vocabulary_size), len(contexts))
        return np.exp2(self.log2_probabilities(rows, targets)).reshape(len(contexts), self.vocabulary_size)


def _interpolated(counts: _Order, context_codes, codes, lower: np.ndarray) -> np.ndarray:
    """`max(c(h·w) − D, 0) / c(h) + D · N₁₊(h·) / c(h) · P_lower(w)`; `P_lower(w)` where `h` was never seen."""
    count = _lookup(counts.codes, counts.counts, codes)
    at = np.searchsorted(counts.contexts, context_codes).clip(max=len(counts.contexts) - 1)
    seen = counts.contexts[at] == context_codes
    total = np.where(seen, counts.context_totals[at], 1)
    types = np.where(seen, counts.context_types[at], 0)
    discount = counts.discount
    interpolated = np.maximum(count - discount, 0) / total + discount * types / total * lower
    return np.where(seen, interpolated, lower)


def _lookup(codes: np.ndarray, counts: np.ndarray, queries: np.ndarray) -> np.ndarray:
    at = np.searchsorted(codes, queries).clip(max=len(codes) - 1)
    return np.where(codes[at] == queries, counts[at], 0)


def _codes(tokens: np.ndarray, length: int, base: int) -> np.ndarray:
    """Every `length`-gram of `tokens` as one integer, its first token most significant."""
    count = len(tokens) - length + 1
    codes = np.zeros(max(count, 0), dtype="int64")
    for offset in range(length):
        codes = codes * base + tokens[offset : offset + count]
    return codes


def _row_codes(rows: np.ndarray, base: int) -> np.ndarray:
    codes = np.zeros(len(rows), dtype="int64")
    for column in range(rows.shape[1]):
        codes = codes * base + rows[:, column]
    return codes
