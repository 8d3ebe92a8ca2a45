"""The shared image trunk: raw uint8 images → rescaling and augmentation → conv blocks → a feature vector.

Image classification puts a softmax head on it; captioning projects its
features into the decoder LSTM's initial state, and attends over its grid.
With `colour: separate` the blocks see each pixel's luma and chroma only,
and a colour stream beside them carries the hue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import keras

from toolkit.config import ConfigError, option
from toolkit.layers import LumaChroma

# keras.applications backbones a user with internet may pick, and the input scaling each expects
# from pixels in [0, 1].
BACKBONES = {
    "mobilenet_v2": (keras.applications.MobileNetV2, 2.0, -1.0),
    "efficientnet_b0": (keras.applications.EfficientNetB0, 255.0, 0.0),
}


@dataclass
class AugmentationConfig:
    """Random image changes applied in training only; 0 or "none" turns each off."""

    flip: Literal["none", "horizontal", "vertical", "horizontal_and_vertical"] = option("horizontal", "Random flips.")
    rotation: float = option(0.0, "Random rotation, as a fraction of a full turn.", min=0.0, max=0.5)
    zoom: float = option(0.0, "Random zoom in or out by up to this fraction.", min=0.0, max=0.9)
    translation: float = option(0.0, "Random shift by up to this fraction of the height and width.", min=0.0, max=0.5)
    contrast: float = option(0.0, "Random contrast change by up to this factor.", min=0.0, max=1.0)
    erasing: float = option(
        0.0, "Random erasing (Zhong et al. 2017): each image is erased with a chance drawn up to this value, a "
        "rectangle of 2-33 % of its area filled with noise.", min=0.0, max=1.0,
    )
    grayscale: float = option(
        0.0, "Share of colour images turned grey: shapes must then be told by their outlines, not their colours.",
        min=0.0, max=1.0,
    )


@dataclass
class ImageEncoderConfig:
    """A stack of convolution blocks, or a keras.applications backbone."""

    filters: list[int] = option([32, 64, 128], "Filters of each block; each block ends in pooling.")
    convolutions_per_block: int = option(1, "Convolutions in each block.", min=1, max=4)
    kernel_size: int = option(3, "Convolution kernel size.", min=1, max=7)
    batch_norm: bool = option(True, "Batch normalization after each convolution.")
    batch_norm_momentum: float = option(
        0.99, "Momentum of batch norm's moving statistics; lower it for runs of a few hundred steps, whose "
        "statistics would otherwise still be near their initial values at inference.", min=0.0, max=1.0
    )
    padding: Literal["same", "valid"] = option("same", "Convolution padding.")
    pooling: Literal["max", "average"] = option("max", "Pooling at the end of each block (2x2).")
    block_dropout: float = option(0.0, "Dropout after each block.", min=0.0, max=0.9)
    output: Literal["global_average", "global_max", "flatten", "grid"] = option(
        "global_average", "How the last feature map becomes a vector; grid: it stays a map (height, width, "
        "features), for a decoder that attends over its positions."
    )
    colour: Literal["mixed", "separate"] = option(
        "mixed", "mixed: the conv blocks see the colour image. separate: they see its luma and chroma only, not its "
        "hue (LumaChroma), and a colour stream (per-pixel 1x1 convolutions, averaged over each cell of the blocks' "
        "output grid) is concatenated to their features, so that a shape is told by its outline whatever its "
        "colour (needs 3-channel images).",
    )
    colour_filters: int = option(16, "colour: separate: filters of the colour stream.", min=1)
    backbone: Literal["none", "mobilenet_v2", "efficientnet_b0"] = option(
        "none", "A keras.applications backbone instead of the conv blocks (needs 3-channel images of 32x32 or more)."
    )
    backbone_weights: str | None = option(
        "imagenet", "Backbone weights: imagenet (downloaded once, needs internet) or null for random ones."
    )


def image_input_stage(raw_images, augmentation: AugmentationConfig, name: str = "augmentation"):
    """uint8 images `(batch, height, width[, channels])` → floats in [0, 1] with a channel axis, augmented in training.

    Keras' random image layers act only when called with `training=True`, so
    inference and serving see the image as it is.
    """
    x = keras.layers.Rescaling(1.0 / 255, name="rescaling")(raw_images)
    if len(raw_images.shape) == 3:
        x = keras.layers.Reshape((*raw_images.shape[1:], 1), name="add_channel")(x)
    layers = []
    if augmentation.flip != "none":
        layers.append(keras.layers.RandomFlip(augmentation.flip))
    if augmentation.rotation:
        layers.append(keras.layers.RandomRotation(augmentation.rotation, fill_mode="constant"))
    if augmentation.zoom:
        layers.append(keras.layers.RandomZoom(augmentation.zoom, fill_mode="constant"))
    if augmentation.translation:
        layers.append(keras.layers.RandomTranslation(augmentation.translation, augmentation.translation, fill_mode="constant"))
    if augmentation.contrast:
        layers.append(keras.layers.RandomContrast(augmentation.contrast, value_range=(0, 1)))
    if augmentation.erasing:
        layers.append(keras.layers.RandomErasing(augmentation.erasing, value_range=(0, 1)))
    if augmentation.grayscale:
        layers.append(keras.layers.RandomGrayscale(augmentation.grayscale))
    return keras.Sequential(layers, name=name)(x) if layers else x


def build_image_encoder(image_shape: tuple[int, ...], config: ImageEncoderConfig, name: str = "image_encoder") -> keras.Model:
    """The convolutional trunk: float images in [0, 1] `(height, width, channels)` → a feature vector, or a map.

    With `output: grid` the last feature map is returned as it is.

    Each block is `convolutions_per_block` × (Conv2D → BatchNorm → ReLU), then
    2×2 pooling and optional dropout. With `colour: separate` the first block
    reads `LumaChroma` of the image (no hue), and the blocks' last map gets,
    concatenated, a colour stream: two per-pixel 1×1 convolutions of the
    image, averaged over each cell of that map. It is one `keras.Model`
    layer, so that fine-tuning can freeze it by its name.

    Raises:
        ConfigError: For `colour: separate` with grey images or a backbone.
    """
    images = keras.Input(image_shape, name="images")
    if config.backbone != "none":
        if config.colour == "separate":
            raise ConfigError(
                f"'model.encoder.colour' is 'separate', but 'model.encoder.backbone' is {config.backbone!r}, which "
                "takes the colour image as it is. Set 'model.encoder.colour' to 'mixed', or the backbone to 'none'."
            )
        return _backbone_encoder(images, config, name)
    x = images
    if config.colour == "separate":
        if image_shape[-1] != 3:
            raise ConfigError(
                f"'model.encoder.colour' is 'separate', which needs colour images of 3 channels; these have "
                f"{image_shape[-1]}. Set it to 'mixed'."
            )
        x = LumaChroma(name="luma_chroma")(x)
    for block, filters in enumerate(config.filters, start=1):
        for index in range(1, config.convolutions_per_block + 1):
            layer_name = f"block{block}_conv{index}"
            x = keras.layers.Conv2D(
                filters, config.kernel_size, padding=config.padding, use_bias=not config.batch_norm, name=layer_name
            )(x)
            if config.batch_norm:
                x = keras.layers.BatchNormalization(momentum=config.batch_norm_momentum, name=f"{layer_name}_bn")(x)
            x = keras.layers.ReLU(name=f"{layer_name}_relu")(x)
        pool = keras.layers.MaxPooling2D if config.pooling == "max" else keras.layers.AveragePooling2D
        x = pool(2, name=f"block{block}_pool")(x)
        if config.block_dropout:
            x = keras.layers.Dropout(config.block_dropout, name=f"block{block}_dropout")(x)
    if config.colour == "separate":
        x = keras.layers.Concatenate(name="shape_and_colour")([x, _colour_stream(images, x.shape[1:3], config)])
    head = {
        "global_average": keras.layers.GlobalAveragePooling2D,
        "global_max": keras.layers.GlobalMaxPooling2D,
        "flatten": keras.layers.Flatten,
        "grid": keras.layers.Identity,
    }[config.output]
    return keras.Model(images, head(name="features")(x), name=name)


def _colour_stream(images, grid: tuple[int, int], config: ImageEncoderConfig):
    """Each grid cell's colours: per-pixel features of the pixel's colour alone, averaged over the cell."""
    colours = keras.layers.Conv2D(config.colour_filters, 1, activation="relu", name="colour_conv1")(images)
    colours = keras.layers.Conv2D(config.colour_filters, 1, activation="relu", name="colour_conv2")(colours)
    cell = (images.shape[1] // grid[0], images.shape[2] // grid[1])
    colours = keras.layers.AveragePooling2D(cell, name="colour_pool")(colours)
    extra = (colours.shape[1] - grid[0], colours.shape[2] - grid[1])
    if any(extra):  # a grid that does not divide the image evenly: the last row or column of cells is dropped
        colours = keras.layers.Cropping2D(((0, extra[0]), (0, extra[1])), name="colour_crop")(colours)
    return colours


def _backbone_encoder(images, config: ImageEncoderConfig, name: str) -> keras.Model:
    application, scale, offset = BACKBONES[config.backbone]
    x = images
    if images.shape[-1] == 1:
        x = keras.layers.Concatenate(name="gray_to_rgb")([x, x, x])
    x = keras.layers.Rescaling(scale, offset=offset, name="backbone_scaling")(x)
    pooling = {"global_max": "max", "grid": None}.get(config.output, "avg")
    backbone = application(include_top=False, weights=config.backbone_weights, input_shape=x.shape[1:], pooling=pooling)
    return keras.Model(images, backbone(x), name=name)
