"""Image files: each format read, EXIF orientations applied as Pillow does, CMYK to grayscale, and what is refused and why."""

from __future__ import annotations

import struct
import warnings
import zlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image, ImageOps

from toolkit.errors import InputError, Notice
from toolkit.io.image_files import (
    IMAGE_EXTENSIONS,
    ImageFileError,
    decode_image_file,
    decode_in_dataset,
    read_image_files,
    resized_uint8,
)

PIXELS = np.random.default_rng(0).integers(0, 256, (10, 12, 3), dtype=np.uint8)


def blocks() -> np.ndarray:
    """A 16x24 image of flat coloured blocks, no two corners alike: any turn or flip shows, and JPEG keeps it closely."""
    image = np.zeros((16, 24, 3), np.uint8)
    image[:8, :8] = (255, 0, 0)
    image[:8, 8:16] = (0, 255, 0)
    image[8:, 16:] = (0, 0, 255)
    image[8:, :8] = (255, 255, 0)
    return image


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` pixels, with almost no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


def test_lossless_formats_give_back_the_pixels_they_hold(tmp_path):
    for suffix, options in ((".png", {}), (".webp", {"lossless": True}), (".tif", {}), (".tiff", {}), (".bmp", {}),
                            (".gif", {})):
        path = tmp_path / f"image{suffix}"
        image = PIXELS if suffix != ".gif" else np.repeat(PIXELS[..., :1], 3, axis=-1)  # GIF: 256 colours at most
        Image.fromarray(image).save(path, **options)
        assert suffix in IMAGE_EXTENSIONS
        np.testing.assert_array_equal(decode_image_file(path, 3), image, err_msg=suffix)
        assert decode_image_file(path, 0).shape == (10, 12, 3), f"{suffix}: 0 keeps the file's own channels"


def test_jpeg_is_read_close_to_what_it_stored(tmp_path):
    Image.fromarray(blocks()).save(tmp_path / "image.jpg", quality=95)
    decoded = decode_image_file(tmp_path / "image.jpg", 3)
    assert decoded.shape == (16, 24, 3) and decoded.dtype == np.uint8
    # Inside each block (away from the edges JPEG blurs), its colour within a few levels.
    for rows, columns in ((slice(2, 6), slice(2, 6)), (slice(2, 6), slice(10, 14)), (slice(10, 14), slice(18, 22)),
                          (slice(10, 14), slice(2, 6)), (slice(10, 14), slice(10, 14))):
        assert np.abs(decoded[rows, columns].astype(int) - blocks()[rows, columns]).max() <= 12


def test_grayscale_files_are_read_in_the_channels_asked_for(tmp_path):
    gray = PIXELS[..., 0]
    for suffix in (".png", ".tif"):
        Image.fromarray(gray).save(tmp_path / f"gray{suffix}")
        np.testing.assert_array_equal(decode_image_file(tmp_path / f"gray{suffix}", 1)[..., 0], gray)
        assert decode_image_file(tmp_path / f"gray{suffix}", 0).shape == (10, 12, 1)
        np.testing.assert_array_equal(decode_image_file(tmp_path / f"gray{suffix}", 3), np.stack([gray] * 3, -1))
    Image.fromarray(PIXELS).save(tmp_path / "colour.tif")
    expected = np.asarray(Image.fromarray(PIXELS).convert("L"))
    np.testing.assert_array_equal(decode_image_file(tmp_path / "colour.tif", 1)[..., 0], expected)


def test_each_exif_orientation_turns_the_image_as_pillows_exif_transpose_does(tmp_path):
    for orientation in range(1, 9):
        path = tmp_path / f"orientation_{orientation}.jpg"
        exif = Image.Exif()
        exif[0x0112] = orientation
        Image.fromarray(blocks()).save(path, exif=exif, quality=95)
        with Image.open(path) as stored:
            expected = np.asarray(ImageOps.exif_transpose(stored).convert("RGB"))
        decoded = decode_image_file(path, 3)
        assert decoded.shape == expected.shape == ((16, 24, 3) if orientation <= 4 else (24, 16, 3)), orientation
        # The two JPEG decoders differ by a few levels at block edges; a wrong turn would differ by 255 somewhere.
        assert np.abs(decoded.astype(int) - expected).max() < 16, orientation
        assert np.abs(decoded.astype(int) - expected).mean() < 2, orientation


def test_each_exif_orientation_of_a_tiff_turns_it_as_pillows_exif_transpose_does(tmp_path):
    wrong = []
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        Image.fromarray(PIXELS).save(tmp_path / "turned.tif", exif=exif)
        with Image.open(tmp_path / "turned.tif") as stored:
            expected = np.asarray(ImageOps.exif_transpose(stored).convert("RGB"))
        decoded = decode_image_file(tmp_path / "turned.tif", 3)
        if decoded.shape != expected.shape or not (decoded == expected).all():
            wrong.append(orientation)
    assert wrong == [], f"orientations turned otherwise than by exif_transpose: {wrong}"


def test_a_cmyk_jpeg_is_read_as_grayscale_through_rgb(tmp_path):
    Image.new("CMYK", (8, 6), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")  # pure red in print colours
    gray = decode_image_file(tmp_path / "cmyk.jpg", 1)
    assert gray.shape == (6, 8, 1)
    red_luma = round(0.299 * 255)  # what libjpeg and Pillow give for (255, 0, 0): 76
    assert np.abs(gray.astype(int) - red_luma).max() <= 1
    assert np.abs(decode_image_file(tmp_path / "cmyk.jpg", 3).astype(int) - (255, 0, 0)).max() <= 2


def test_too_many_pixels_are_refused_from_the_header_before_any_decoding(tmp_path):
    Image.fromarray(np.zeros((300, 400), np.uint8)).save(tmp_path / "big.jpg")
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "big.jpg").read_bytes()[:700])  # the header, and little else
    with pytest.raises(ImageFileError, match=r"cut.jpg: 400x300 pixels, more than the 1000 this model reads from a file "
                                             r"\(serving.max_image_pixels\); it was not decoded\.") as raised:
        decode_image_file(tmp_path / "cut.jpg", 1, max_pixels=1000)
    assert raised.value.path == tmp_path / "cut.jpg" and raised.value.reason.startswith("400x300 pixels")
    with pytest.raises(ImageFileError, match="cannot be decoded as an image"):  # without a limit it is decoded, and fails
        decode_image_file(tmp_path / "cut.jpg", 1)
    assert decode_image_file(tmp_path / "big.jpg", 1, max_pixels=120_000).shape == (300, 400, 1)  # the limit itself is taken


def test_bytes_that_are_not_an_image_are_named_with_the_decoders_reason(tmp_path):
    for suffix in (".png", ".jpg", ".tif"):
        path = tmp_path / f"notes{suffix}"
        path.write_bytes(b"these are meeting notes, not pixels")
        with pytest.raises(ImageFileError) as raised:
            decode_image_file(path, 3)
        assert str(raised.value).startswith(f"{path}: cannot be decoded as an image (")
        assert isinstance(raised.value, InputError)
        assert str(path) not in raised.value.reason, "the reason does not quote the file again"
    with pytest.raises(ImageFileError, match=r"notes.tif: cannot be decoded as an image \(cannot identify image file\)"):
        decode_image_file(tmp_path / "notes.tif", 3)
    with pytest.raises(ImageFileError, match=r"notes.png: cannot be decoded as an image \(Unknown image file format"):
        decode_image_file(tmp_path / "notes.png", 3)


def test_reading_files_resizes_with_a_notice_and_takes_grayscale_without_a_channel_axis(tmp_path):
    Image.fromarray(PIXELS).save(tmp_path / "a.png")
    Image.fromarray(PIXELS[..., 0]).save(tmp_path / "b.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no notice for files of the model's size
        same = read_image_files([tmp_path / "a.png", str(tmp_path / "b.png")], (10, 12))
    assert same.shape == (2, 10, 12) and same.dtype == np.uint8
    np.testing.assert_array_equal(same[1], PIXELS[..., 0])
    with pytest.warns(Notice, match=r"a.png: 10x12 pixels, resized to 5x6, the model's input\."):
        resized = read_image_files([tmp_path / "a.png"], (5, 6, 3))
    np.testing.assert_array_equal(resized[0], resized_uint8(PIXELS, 5, 6).numpy())
    assert read_image_files([], (5, 6, 3)).shape == (0, 5, 6, 3)


def test_a_folder_or_a_missing_file_is_refused_by_name(tmp_path):
    with pytest.raises(InputError, match=r"is a folder; expected an image file\."):
        read_image_files([tmp_path], (4, 4))
    with pytest.raises(FileNotFoundError, match=r"Image file not found: .*missing.png"):
        read_image_files([tmp_path / "missing.png"], (4, 4))


def test_resizing_keeps_an_image_of_its_own_size_and_rounds_to_uint8():
    np.testing.assert_array_equal(resized_uint8(PIXELS, 10, 12).numpy(), PIXELS)
    halves = resized_uint8(np.array([[[0], [255]]], np.uint8), 1, 1).numpy()  # the mean of 0 and 255, rounded
    assert halves.dtype == np.uint8 and halves.shape == (1, 1, 1) and int(halves[0, 0, 0]) in (127, 128)


def test_files_decode_the_same_inside_a_tf_data_pipeline(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 3
    Image.fromarray(PIXELS).save(tmp_path / "upside_down.png", exif=exif)
    data = tf.data.Dataset.from_tensor_slices([str(tmp_path / "upside_down.png")]).map(lambda path: decode_in_dataset(path, 3))
    assert data.element_spec.shape.as_list() == [None, None, 3]
    np.testing.assert_array_equal(next(iter(data)).numpy(), decode_image_file(tmp_path / "upside_down.png", 3))
    np.testing.assert_array_equal(next(iter(data)).numpy(), PIXELS[::-1, ::-1])


def test_a_header_claiming_hundreds_of_millions_of_pixels_is_refused_as_too_large(tmp_path):
    (tmp_path / "bomb.png").write_bytes(png_claiming(20_000, 10_000))
    with pytest.raises(ImageFileError, match=r"bomb.png: more pixels than Pillow reads safely .*; it was not decoded"):
        decode_image_file(tmp_path / "bomb.png", 1, max_pixels=1000)


def test_every_format_taken_is_read_for_a_grayscale_model(tmp_path):
    refused = {}
    for suffix in IMAGE_EXTENSIONS:
        Image.fromarray(PIXELS).save(tmp_path / f"colour{suffix}")
        try:
            assert decode_image_file(tmp_path / f"colour{suffix}", 1).shape == (10, 12, 1), suffix
        except ImageFileError as error:
            refused[suffix] = error.reason
    assert refused == {}, f"formats refused in one channel: {refused}"


def test_bytes_in_memory_decode_as_the_file_they_came_from(tmp_path):
    from toolkit.io.image_files import decode_image_bytes

    exif = Image.Exif()
    exif[0x0112] = 3
    for suffix in (".png", ".tif"):  # a TIFF is told by its header, as the bytes have no file name
        path = tmp_path / f"upside_down{suffix}"
        Image.fromarray(PIXELS).save(path, exif=exif)
        from_bytes = decode_image_bytes(path.read_bytes(), "images: instance 0", 3)
        np.testing.assert_array_equal(from_bytes, decode_image_file(path, 3))
    np.testing.assert_array_equal(decode_image_bytes((tmp_path / "upside_down.png").read_bytes(), "upload", 3),
                                  PIXELS[::-1, ::-1])
    with pytest.raises(ImageFileError, match=r"^images: instance 2: cannot be decoded as an image \("):
        decode_image_bytes(b"not an image", "images: instance 2", 3)
    with pytest.raises(ImageFileError, match=r"^upload: 12x10 pixels, more than the 100 "):
        decode_image_bytes((tmp_path / "upside_down.png").read_bytes(), "upload", 3, max_pixels=100)
