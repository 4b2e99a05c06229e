"""Similarity between two saliency maps, the paper's three measures (Adebayo et al. 2018, sec. 3).

- `rank_correlation`: Spearman's rank correlation of the pixel values (`scipy.stats.spearmanr`), of the
  signed maps or of their absolute values.
- `ssim`: structural similarity (`skimage.metrics.structural_similarity`) of the maps after
  `normalize_map` (absolute value, scaled to [0, 1] by the 99th percentile, as in the paper's figures).
- `hog_similarity`: Pearson correlation of the histograms of oriented gradients
  (`skimage.feature.hog`) of the normalised maps.

Each takes two maps ``(h, w)`` (or ``(1, h, w)``) and returns a float; a constant map has no rank
correlation (NaN, reported as ``None`` in tables).
"""

from __future__ import annotations

import numpy as np

from core.errors import InputError

__all__ = ["SIMILARITIES", "hog_similarity", "normalize_map", "rank_correlation", "ssim"]


def _plane(saliency) -> np.ndarray:
    array = np.asarray(saliency.detach().cpu() if hasattr(saliency, "detach") else saliency, dtype=np.float64)
    array = np.squeeze(array)
    if array.ndim != 2:
        raise InputError("a saliency map must be one (h, w) plane", item=array.shape)
    return array


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    first, second = _plane(a), _plane(b)
    if first.shape != second.shape:
        raise InputError("saliency maps differ in shape", item=(first.shape, second.shape))
    return first, second


def normalize_map(saliency) -> np.ndarray:
    """``|map|`` divided by its 99th percentile and clipped to [0, 1] (all zeros stay zeros)."""
    plane = np.abs(_plane(saliency))
    scale = np.percentile(plane, 99)
    if scale <= 0:
        scale = plane.max()
    return np.clip(plane / scale, 0.0, 1.0) if scale > 0 else plane


def rank_correlation(a, b, *, absolute: bool = False) -> float:
    """Spearman's rank correlation of the pixels of `a` and `b` (of ``|a|``, ``|b|`` with `absolute`)."""
    from scipy.stats import spearmanr

    first, second = _pair(a, b)
    if absolute:
        first, second = np.abs(first), np.abs(second)
    if np.ptp(first) == 0 or np.ptp(second) == 0:
        return float("nan")
    return float(spearmanr(first.ravel(), second.ravel()).statistic)


def ssim(a, b) -> float:
    """SSIM of the normalised maps (data range 1; window 7, or the largest odd side that fits)."""
    from skimage.metrics import structural_similarity

    first, second = (normalize_map(m) for m in _pair(a, b))
    window = min(7, min(first.shape) - (1 - min(first.shape) % 2))
    return float(structural_similarity(first, second, data_range=1.0, win_size=window))


def hog_similarity(a, b) -> float:
    """Pearson correlation of the HOG descriptors of the normalised maps (cells of side/7 pixels, at least 2)."""
    from skimage.feature import hog

    first, second = (normalize_map(m) for m in _pair(a, b))
    cell = max(2, first.shape[0] // 7)
    options = {"orientations": 9, "pixels_per_cell": (cell, cell), "cells_per_block": (2, 2)}
    u, v = hog(first, **options), hog(second, **options)
    if np.ptp(u) == 0 or np.ptp(v) == 0:
        return float("nan")
    return float(np.corrcoef(u, v)[0, 1])


SIMILARITIES = {
    "spearman": lambda a, b: rank_correlation(a, b, absolute=False),
    "spearman_abs": lambda a, b: rank_correlation(a, b, absolute=True),
    "ssim": ssim,
    "hog": hog_similarity,
}
"""The measures each check reports, by column name."""
