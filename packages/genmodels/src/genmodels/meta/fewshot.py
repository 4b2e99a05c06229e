"""Few-shot data: class splits, N-way K-shot task sampling, confidence intervals, Omniglot files."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError

__all__ = ["PartitionSampler", "Task", "TaskSampler", "class_split", "confidence_interval", "load_omniglot"]


@dataclass(frozen=True)
class Task:
    """Indices into a data set: ``support`` (ways * shots,), ``query`` (ways * queries,), and their
    task labels ``support_labels`` / ``query_labels`` in ``0..ways-1`` (class order shuffled per task)."""

    support: np.ndarray
    support_labels: np.ndarray
    query: np.ndarray
    query_labels: np.ndarray


def class_split(labels: np.ndarray, test_classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split the classes (not the images) into meta-train and meta-test: returns two class arrays.

    The `test_classes` held-out classes are drawn at random with `seed`; every image of a class lies
    on one side only.
    """
    classes = np.unique(labels)
    if not 0 < test_classes < len(classes):
        raise InputError(
            "test_classes must leave classes on both sides",
            item=test_classes,
            expected=f"1..{len(classes) - 1}",
        )
    order = np.random.default_rng(seed).permutation(classes)
    return np.sort(order[test_classes:]), np.sort(order[:test_classes])


class TaskSampler:
    """N-way K-shot tasks from the labels of `indices` (a class split, or a k-means partition).

    Args:
        labels: ``(n,)`` integer labels (classes, or cluster ids) of the candidate images.
        ways, shots, queries: each task has `ways` labels, `shots` support and `queries` query images each.
        indices: ``(n,)`` the data-set indices the labels belong to (default ``arange(n)``).

    Only labels with at least ``shots + queries`` images are sampled from.

    Raises:
        InputError: fewer such labels than `ways` (names the count and the largest label size).
    """

    def __init__(
        self, labels: np.ndarray, ways: int, shots: int, queries: int, indices: np.ndarray | None = None
    ):
        labels = np.asarray(labels)
        self.indices = np.arange(len(labels)) if indices is None else np.asarray(indices)
        if len(self.indices) != len(labels):
            raise InputError("labels and indices differ in length", item=(len(labels), len(self.indices)))
        self.ways, self.shots, self.queries = ways, shots, queries
        values, counts = np.unique(labels, return_counts=True)
        need = shots + queries
        self.members = [self.indices[labels == v] for v, c in zip(values, counts) if c >= need]
        if len(self.members) < ways:
            raise InputError(
                f"{ways}-way tasks need {ways} classes with at least shots + queries = {need} images each",
                item=f"{len(self.members)} of {len(values)} classes qualify (largest has {counts.max()} images)",
            )

    def sample(self, rng: np.random.Generator) -> Task:
        """One task; classes and images drawn without replacement with `rng`."""
        chosen = rng.choice(len(self.members), self.ways, replace=False)
        support, query = [], []
        for members in (self.members[c] for c in chosen):
            picked = rng.choice(members, self.shots + self.queries, replace=False)
            support.append(picked[: self.shots])
            query.append(picked[self.shots :])
        return Task(
            np.concatenate(support),
            np.repeat(np.arange(self.ways), self.shots),
            np.concatenate(query),
            np.repeat(np.arange(self.ways), self.queries),
        )


class PartitionSampler:
    """CACTUs' tasks: pick one of the k-means partitions uniformly, then a task from its clusters.

    Args:
        partitions: ``(P, n)`` cluster ids, one row per partition.
    Raises:
        InputError: a partition with fewer than `ways` clusters of ``shots + queries`` images.
    """

    def __init__(
        self, partitions: np.ndarray, ways: int, shots: int, queries: int, indices: np.ndarray | None = None
    ):
        self.samplers = []
        for p, row in enumerate(np.asarray(partitions)):
            try:
                self.samplers.append(TaskSampler(row, ways, shots, queries, indices))
            except InputError as error:
                raise InputError(f"partition {p} cannot make tasks: {error}") from None

    def sample(self, rng: np.random.Generator) -> Task:
        return self.samplers[rng.integers(len(self.samplers))].sample(rng)


def confidence_interval(accuracies: np.ndarray) -> tuple[float, float]:
    """Mean and the half-width of its 95 % normal interval, ``1.96 * sd / sqrt(n)`` (sd with ddof 1)."""
    accuracies = np.asarray(accuracies, dtype=float)
    if len(accuracies) < 2:
        raise InputError("a confidence interval needs at least 2 tasks", item=len(accuracies))
    return float(accuracies.mean()), float(1.96 * accuracies.std(ddof=1) / math.sqrt(len(accuracies)))


def load_omniglot(folder: str | os.PathLike[str], size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Omniglot from its published files: ``folder/<alphabet>/<character>/*.png`` (e.g. the unpacked
    ``images_background`` and ``images_evaluation`` of github.com/brendenlake/omniglot).

    Returns ``(images (n, 1, size, size) float32 in [0, 1], ink = 1, labels (n,) one per character)``.

    Raises:
        InputError: the folder is missing or holds no ``alphabet/character/*.png`` files.
    """
    from PIL import Image

    root = Path(folder)
    if not root.is_dir():
        raise InputError(
            "Omniglot folder not found",
            item=str(root),
            expected="the unpacked images_background/ (or images_evaluation/) of github.com/brendenlake/omniglot",
        )
    characters = sorted(p for p in root.glob("*/*") if p.is_dir())
    images, labels = [], []
    for label, character in enumerate(characters):
        for file in sorted(character.glob("*.png")):
            with Image.open(file) as image:
                grey = image.convert("L").resize((size, size), Image.Resampling.BOX)
            images.append(1.0 - np.asarray(grey, dtype=np.float32) / 255.0)
            labels.append(label)
    if not images:
        raise InputError("no Omniglot images found", item=str(root), expected="<alphabet>/<character>/*.png")
    return np.stack(images)[:, None], np.asarray(labels, dtype=np.int64)
