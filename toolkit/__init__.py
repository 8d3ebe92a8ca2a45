"""toolkit: a Keras 3 / TensorFlow toolkit for applied sequence modeling."""

from toolkit import layers

__version__ = "0.1.0"

__all__ = ["layers"]
