"""Out-of-distribution detection metrics, in-distribution as the positive class (higher score = in).

- AUROC: the probability that a random in-distribution score exceeds a random out-of-distribution one,
  ties counting one half (the Mann-Whitney statistic, which equals the area under the ROC curve).
- FPR at 95% TPR: the share of out-of-distribution inputs accepted at the highest threshold that still
  accepts at least 95% of the in-distribution ones (the smallest FPR on the ROC curve with TPR >= 0.95).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from core.errors import InputError

__all__ = ["auroc", "fpr_at_tpr"]


def _check(inside: np.ndarray, outside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    inside = np.asarray(inside, dtype=np.float64).ravel()
    outside = np.asarray(outside, dtype=np.float64).ravel()
    if inside.size == 0 or outside.size == 0:
        raise InputError(
            "OoD metrics need in- and out-of-distribution scores", item=(inside.size, outside.size)
        )
    if not (np.isfinite(inside).all() and np.isfinite(outside).all()):
        raise InputError("OoD scores must be finite")
    return inside, outside


def auroc(inside: np.ndarray, outside: np.ndarray) -> float:
    """Area under the ROC curve of `inside` (positives) against `outside` scores (1-D, any lengths)."""
    inside, outside = _check(inside, outside)
    ranks = rankdata(np.concatenate([inside, outside]))  # average ranks: ties count one half
    n, m = inside.size, outside.size
    return float((ranks[:n].sum() - n * (n + 1) / 2) / (n * m))


def fpr_at_tpr(inside: np.ndarray, outside: np.ndarray, tpr: float = 0.95) -> float:
    """Share of `outside` scores >= the threshold that accepts at least `tpr` of `inside` (highest such)."""
    inside, outside = _check(inside, outside)
    if not 0 < tpr <= 1:
        raise InputError("tpr must be in (0, 1]", item=tpr)
    ordered = np.sort(inside)[::-1]
    threshold = ordered[int(np.ceil(tpr * inside.size - 1e-9)) - 1]
    return float((outside >= threshold).mean())
