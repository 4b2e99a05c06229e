"""Proposal generation from boundary peaks, boundary-sensitive proposal (BSP) features, Soft-NMS, sliding windows.

All in numpy on one video's curves (length ``T``; snippet ``t`` sits at time ``(t + 0.5) / T``, so times are
fractions of the video).
"""

from __future__ import annotations

import numpy as np

from vision_attention.bsn.metrics import temporal_iou

__all__ = ["boundary_candidates", "bsp_features", "generate_proposals", "nms", "sliding_windows", "soft_nms"]


def _times(length: int) -> np.ndarray:
    return (np.arange(length) + 0.5) / length


def boundary_candidates(curve: np.ndarray, peak_ratio: float = 0.9) -> np.ndarray:
    """Indices where `curve` is a local peak (above both neighbours) or above ``peak_ratio * max(curve)``."""
    c = np.asarray(curve, dtype=float)
    if c.ndim != 1 or len(c) < 3:
        raise ValueError(f"a boundary curve must be 1-D with >= 3 points, got shape {c.shape}")
    peak = np.zeros(len(c), dtype=bool)
    peak[1:-1] = (c[1:-1] > c[:-2]) & (c[1:-1] > c[2:])
    return np.flatnonzero(peak | (c > peak_ratio * c.max()))


def generate_proposals(
    start: np.ndarray, end: np.ndarray, peak_ratio: float = 0.9, max_duration: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Every (start candidate, later end candidate) pair: ``(segments (p, 2) in [0, 1], (p, 2) [p_s, p_e])``.

    A start at snippet ``i`` begins at ``i / T`` and an end at ``j`` finishes at ``(j + 1) / T`` (snippet edges).
    """
    length = len(start)
    starts, ends = boundary_candidates(start, peak_ratio), boundary_candidates(end, peak_ratio)
    segs, probs = [], []
    for i in starts:
        for j in ends:
            if j >= i and (j + 1 - i) / length <= max_duration + 1e-9:
                segs.append((i / length, (j + 1) / length))
                probs.append((start[i], end[j]))
    return np.asarray(segs, dtype=float).reshape(-1, 2), np.asarray(probs, dtype=float).reshape(-1, 2)


def bsp_features(
    actionness: np.ndarray, segments: np.ndarray, center_points: int = 16, boundary_points: int = 8
) -> np.ndarray:
    """``(p, center + 2 * boundary)``: the actionness curve sampled (linear interpolation) at ``center_points``
    evenly spaced times in the proposal ``[t_s, t_e]`` and ``boundary_points`` in each of its start region
    ``[t_s - d / 5, t_s + d / 5]`` and end region ``[t_e - d / 5, t_e + d / 5]`` (``d = t_e - t_s``; outside
    the video the curve is 0)."""
    curve = np.asarray(actionness, dtype=float)
    times = _times(len(curve))
    segs = np.asarray(segments, dtype=float).reshape(-1, 2)
    ts, te = segs[:, :1], segs[:, 1:]
    d = te - ts
    u_c = np.linspace(0, 1, center_points)[None]
    u_b = np.linspace(-1, 1, boundary_points)[None]
    at = np.concatenate([ts + d / 5 * u_b, ts + d * u_c, te + d / 5 * u_b], axis=1)
    return np.interp(at, times, curve, left=0.0, right=0.0)


def nms(segments: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Greedy NMS: indices kept, best first; a segment is dropped when its tIoU with a kept one exceeds `threshold`."""
    order = list(np.argsort(-np.asarray(scores, dtype=float), kind="stable"))
    keep = []
    while order:
        i = order.pop(0)
        keep.append(i)
        if order:
            iou = temporal_iou(segments[[i]], segments[order])[0]
            order = [k for k, v in zip(order, iou) if v <= threshold]
    return np.asarray(keep, dtype=int)


def soft_nms(
    segments: np.ndarray,
    scores: np.ndarray,
    sigma: float = 0.75,
    threshold: float = 0.65,
    top_k: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian Soft-NMS: take the best remaining segment, decay every other whose tIoU with it exceeds
    `threshold` by ``exp(-iou^2 / sigma)``, repeat. Returns (segments, new scores), best first. ``sigma = 0``
    removes them outright: greedy `nms`."""
    segs = np.asarray(segments, dtype=float).reshape(-1, 2)
    left = np.asarray(scores, dtype=float).copy()
    if len(left) != len(segs):
        raise ValueError(f"{len(segs)} segments but {len(left)} scores")
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    alive = np.ones(len(segs), dtype=bool)
    out_segments, out_scores = [], []
    limit = len(segs) if top_k is None else top_k
    while alive.any() and len(out_scores) < limit:
        candidates = np.flatnonzero(alive)
        i = candidates[np.argmax(left[candidates])]
        out_segments.append(segs[i])
        out_scores.append(left[i])
        alive[i] = False
        rest = np.flatnonzero(alive)
        if len(rest):
            iou = temporal_iou(segs[[i]], segs[rest])[0]
            hit = iou > threshold
            if sigma == 0:
                alive[rest[hit]] = False
            else:
                left[rest[hit]] *= np.exp(-(iou[hit] ** 2) / sigma)
    return np.asarray(out_segments, dtype=float).reshape(-1, 2), np.asarray(out_scores, dtype=float)


def sliding_windows(
    length: int, scales: tuple[float, ...] = (0.04, 0.08, 0.16, 0.32, 0.64), overlap: float = 0.5
) -> np.ndarray:
    """Multi-scale windows over a ``length``-snippet video: each scale (fraction of the video, rounded to whole
    snippets) slides with stride ``(1 - overlap)`` of its length. ``(w, 2)`` in [0, 1]."""
    out = []
    for scale in scales:
        width = max(1, round(scale * length))
        stride = max(1, round(width * (1 - overlap)))
        for first in range(0, length - width + 1, stride):
            out.append((first / length, (first + width) / length))
    return np.unique(np.asarray(out, dtype=float).reshape(-1, 2), axis=0)
