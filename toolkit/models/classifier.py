"""What every classifier task shares: a backbone, a softmax head over named classes, and its serving outputs."""

from __future__ import annotations

import keras
import tensorflow as tf

from toolkit.models.task import TaskModel


def softmax_head(num_classes: int) -> keras.layers.Dense:
    """A new, unbuilt softmax layer over `num_classes` classes."""
    return keras.layers.Dense(num_classes, activation="softmax", name="head")


class Classifier(TaskModel):
    """A backbone that ends in a feature vector, then a softmax head over `class_names`.

    The trainable network is the backbone's layers and the head in one flat
    functional model, so every backbone layer can be frozen by its name.
    `serve` returns `probabilities` (one per class), `probability` (of the
    predicted class) and `label` (the predicted class name).

    Args:
        backbone: A functional model from the preprocessed input to a feature vector.
        head: A `Dense` softmax layer with one unit per class.
        class_names: The name of each class, in the head's order.
        preprocessor: Raw inputs → the backbone's input, or `None`.
        **kwargs: Base model keyword arguments, such as `name`.
    """

    layer_arguments = ("backbone", "head", "preprocessor")

    def __init__(
        self,
        backbone: keras.Model,
        head: keras.layers.Dense,
        class_names: list[str],
        preprocessor: keras.layers.Layer | None = None,
        **kwargs,
    ):
        if len(class_names) != head.units:
            raise ValueError(f"class_names: {len(class_names)} names for a head of {head.units} classes.")
        self.backbone = backbone
        self.head = head
        self.class_names = [str(name) for name in class_names]
        network = keras.Model(backbone.inputs, head(backbone.outputs[0]), name="network")
        super().__init__(network, preprocessor, **kwargs)

    def with_classes(self, class_names: list[str]) -> Classifier:
        """The same classifier for new class names: its head is kept if their count is the same, else a new one."""
        head = self.head if len(class_names) == len(self.class_names) else softmax_head(len(class_names))
        return type(self)(self.backbone, head, class_names, self.preprocessor, name=self.name)

    def serving_outputs(self, raw_inputs: tf.Tensor) -> dict[str, tf.Tensor]:
        probabilities = self(raw_inputs, training=False)
        return {
            "probabilities": probabilities,
            "probability": tf.reduce_max(probabilities, axis=-1),
            "label": tf.gather(tf.constant(self.class_names), tf.argmax(probabilities, axis=-1)),
        }

    def get_config(self) -> dict:
        return {**super().get_config(), "class_names": self.class_names}
