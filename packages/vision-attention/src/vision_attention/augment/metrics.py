"""AUC of melanoma scores and its bootstrap confidence intervals (the paper reports AUC, ISIC 2017's metric).

- `roc_auc`: the area under the ROC curve of scores against binary labels, ties counting one half (the
  Mann-Whitney statistic; the same function as `vision_attention.confidence.metrics.auroc`).
- `bootstrap_auc`: the AUC and a percentile confidence interval over stratified bootstrap resamples of the
  test set (positives and negatives resampled separately, so every resample has both classes).
- `paired_bootstrap_difference`: ``AUC(b) - AUC(a)`` of two score vectors on the same images, with the
  interval of the same resamples (train-only vs train + test-time augmentation).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from core.errors import InputError
from vision_attention.confidence.metrics import auroc

__all__ = ["bootstrap_auc", "paired_bootstrap_difference", "roc_auc"]


def _check(labels: np.ndarray, *scores: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    labels = np.asarray(labels).ravel()
    if not np.isin(labels, (0, 1)).all():
        raise InputError("AUC labels must be 0 or 1", item=sorted(set(labels.tolist()) - {0, 1})[:5])
    if labels.sum() == 0 or labels.sum() == labels.size:
        raise InputError(
            "AUC needs both classes among the labels", item=f"{int(labels.sum())} of {labels.size} positive"
        )
    out = []
    for values in scores:
        values = np.asarray(values, dtype=np.float64).ravel()
        if values.shape != labels.shape:
            raise InputError("scores and labels differ in length", item=(values.size, labels.size))
        if not np.isfinite(values).all():
            raise InputError("AUC scores must be finite")
        out.append(values)
    return labels.astype(bool), out


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """AUC of ``scores (n,)`` (higher = more likely positive) against ``labels (n,)`` in {0, 1}.

    Raises:
        InputError: labels other than 0 / 1, a single class, lengths that differ, non-finite scores.
    """
    labels, (scores,) = _check(labels, scores)
    return auroc(scores[labels], scores[~labels])


def _resample_aucs(labels: np.ndarray, scores: list[np.ndarray], resamples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    positive, negative = np.flatnonzero(labels), np.flatnonzero(~labels)
    rows = np.concatenate(
        [
            positive[rng.integers(positive.size, size=(resamples, positive.size))],
            negative[rng.integers(negative.size, size=(resamples, negative.size))],
        ],
        axis=1,
    )
    n, m = positive.size, negative.size
    out = []
    for values in scores:
        ranks = rankdata(values[rows], axis=1)
        out.append((ranks[:, :n].sum(1) - n * (n + 1) / 2) / (n * m))
    return np.stack(out)


def bootstrap_auc(
    labels: np.ndarray, scores: np.ndarray, resamples: int = 2000, level: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """``(auc, low, high)``: the AUC and the percentile interval at `level` over `resamples` stratified
    bootstrap resamples of the images (seeded).

    Raises:
        InputError: as `roc_auc`; resamples below 1 or a level outside (0, 1).
    """
    if not 0 < level < 1 or resamples < 1:
        raise InputError("bootstrap needs resamples >= 1 and 0 < level < 1", item=(resamples, level))
    labels, (scores,) = _check(labels, scores)
    aucs = _resample_aucs(labels, [scores], resamples, seed)[0]
    tail = (1 - level) / 2
    low, high = np.quantile(aucs, [tail, 1 - tail])
    return auroc(scores[labels], scores[~labels]), float(low), float(high)


def paired_bootstrap_difference(
    labels: np.ndarray,
    scores_a: np.ndarray,
    scores_b: np.ndarray,
    resamples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``(AUC(b) - AUC(a), low, high)`` on the same images, the interval over paired stratified resamples."""
    if not 0 < level < 1 or resamples < 1:
        raise InputError("bootstrap needs resamples >= 1 and 0 < level < 1", item=(resamples, level))
    labels, (a, b) = _check(labels, scores_a, scores_b)
    aucs = _resample_aucs(labels, [a, b], resamples, seed)
    tail = (1 - level) / 2
    low, high = np.quantile(aucs[1] - aucs[0], [tail, 1 - tail])
    difference = auroc(b[labels], b[~labels]) - auroc(a[labels], a[~labels])
    return difference, float(low), float(high)
