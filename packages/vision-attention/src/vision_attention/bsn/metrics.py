"""Temporal IoU, AR@AN and its AUC (the ActivityNet proposal metrics), in numpy.

``ar_at_an``: for each average number of proposals AN, each video keeps its AN highest-scoring proposals;
recall at a tIoU threshold is the fraction of all ground-truth segments (pooled over videos) matched by at
least one kept proposal with tIoU >= the threshold; AR is its mean over the thresholds (ActivityNet:
0.50, 0.55, ..., 0.95). AUC is the area under AR(AN) for AN = 1..max by the trapezoid rule, divided by
``max - 1`` (so a perfect AR of 1 gives 1; ActivityNet reports 100 x this). Segments are ``(start, end)``
in any common unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["ACTIVITYNET_TIOU", "ar_at_an", "auc", "temporal_iou"]

ACTIVITYNET_TIOU = tuple(np.round(np.linspace(0.5, 0.95, 10), 2).tolist())


def temporal_iou(proposals: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """``(p, g)`` tIoU of proposals ``(p, 2)`` against segments ``(g, 2)``."""
    p = np.asarray(proposals, dtype=float).reshape(-1, 2)
    g = np.asarray(segments, dtype=float).reshape(-1, 2)
    inter = np.clip(
        np.minimum(p[:, None, 1], g[None, :, 1]) - np.maximum(p[:, None, 0], g[None, :, 0]), 0, None
    )
    union = (p[:, 1] - p[:, 0])[:, None] + (g[:, 1] - g[:, 0])[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def ar_at_an(
    proposals: Mapping[str, tuple[np.ndarray, np.ndarray]],
    ground_truth: Mapping[str, np.ndarray],
    numbers: Sequence[int] = tuple(range(1, 101)),
    thresholds: Sequence[float] = ACTIVITYNET_TIOU,
) -> np.ndarray:
    """AR at each AN of `numbers`: ``proposals[video] = (segments (p, 2), scores (p,))``.

    Raises:
        ValueError: a ground-truth video has no entry in `proposals`, or no ground truth at all.
    """
    total = sum(len(np.asarray(g).reshape(-1, 2)) for g in ground_truth.values())
    if total == 0:
        raise ValueError("ground_truth holds no segment")
    hits = np.zeros((len(numbers), len(thresholds)))
    for video, segments in ground_truth.items():
        if video not in proposals:
            raise ValueError(f"no proposals for video {video!r}")
        gt = np.asarray(segments, dtype=float).reshape(-1, 2)
        if len(gt) == 0:
            continue
        found, scores = proposals[video]
        found = np.asarray(found, dtype=float).reshape(-1, 2)
        order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
        iou = temporal_iou(found[order], gt)  # (p, g), best first
        for i, n in enumerate(numbers):
            best = iou[:n].max(axis=0) if n > 0 and len(iou) else np.zeros(len(gt))
            for j, t in enumerate(thresholds):
                hits[i, j] += int((best >= t - 1e-12).sum())
    return (hits / total).mean(axis=1)


def auc(recall: Sequence[float], numbers: Sequence[int] = tuple(range(1, 101))) -> float:
    """Trapezoid area under AR(AN), divided by the AN range."""
    x = np.asarray(numbers, dtype=float)
    y = np.asarray(recall, dtype=float)
    return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)) / (x[-1] - x[0]))
