"""ACC, LA and BTI on an accuracy matrix ``R[i, j]`` (test accuracy on task ``j`` after training on
task ``i``): ACC ``mean_j R[T-1, j]`` (retained accuracy), LA ``mean_j R[j, j]`` (learning accuracy)
and BTI ``mean_{j<T-1} (R[T-1, j] - R[j, j])`` (backward transfer and interference; negative =
forgetting)."""

from __future__ import annotations

import numpy as np

from core.errors import InputError

__all__ = ["continual_metrics"]


def continual_metrics(result: np.ndarray) -> dict[str, float]:
    """ACC, LA and BTI (see the module docstring) of an accuracy matrix R (T, T)."""
    result = np.asarray(result, dtype=float)
    if result.ndim != 2 or result.shape[0] != result.shape[1] or result.shape[0] == 0:
        raise InputError(f"continual_metrics needs a square (T, T) accuracy matrix, got shape {result.shape}")
    last = result.shape[0] - 1
    diagonal = np.diag(result)
    bti = float(np.mean(result[last, :last] - diagonal[:last])) if last else 0.0
    return {"acc": float(result[last].mean()), "la": float(diagonal.mean()), "bti": bti}
