"""Preprocessing layers that live inside exported models; importing this package registers them with Keras."""

from toolkit.preprocessing.captions import CaptionTokenizer
from toolkit.preprocessing.prices import PriceFeatures
from toolkit.preprocessing.text import TextFeatures, TextToTokenIds

__all__ = ["CaptionTokenizer", "PriceFeatures", "TextFeatures", "TextToTokenIds"]
