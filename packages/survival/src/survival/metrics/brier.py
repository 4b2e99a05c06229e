"""Brier score and integrated Brier score with inverse probability of censoring weights (Graf et al. 1999)."""

from __future__ import annotations

import numpy as np

from core.errors import InputError
from survival.curves import SurvivalCurves
from survival.metrics._inputs import censoring_survival, outcomes

__all__ = ["brier_score", "integrated_brier_score"]


def brier_score(
    curves: SurvivalCurves,
    event: np.ndarray,
    time: np.ndarray,
    times: np.ndarray,
    train_event: np.ndarray,
    train_time: np.ndarray,
) -> np.ndarray:
    """IPCW Brier score at each of `times` (Graf et al. 1999).

    ``BS(t) = mean_i [ S_i(t)^2 1{t_i <= t, event_i} / G(t_i) + (1 - S_i(t))^2 1{t_i > t} / G(t) ]``
    with ``G`` estimated on the training rows (a zero G gives the term weight zero).

    Returns:
        (k,) Brier scores.
    """
    ev, tm = outcomes(event, time)
    tr_ev, tr_tm = outcomes(train_event, train_time, "train")
    grid = np.atleast_1d(np.asarray(times, dtype=float))
    if len(curves) != ev.size:
        raise InputError(
            "one curve per test patient expected", item=f"{len(curves)} curves, {ev.size} patients"
        )
    g_obs = censoring_survival(tr_ev, tr_tm, tm)
    g_grid = censoring_survival(tr_ev, tr_tm, grid)
    inv_obs = np.divide(1.0, g_obs, out=np.zeros_like(g_obs), where=g_obs > 0)
    inv_grid = np.divide(1.0, g_grid, out=np.zeros_like(g_grid), where=g_grid > 0)
    pred = curves.survival_at(grid)  # (n, k)
    case = (tm[:, None] <= grid[None, :]) & ev[:, None]
    control = tm[:, None] > grid[None, :]
    terms = np.square(pred) * case * inv_obs[:, None] + np.square(1.0 - pred) * control * inv_grid[None, :]
    return terms.mean(axis=0)


def integrated_brier_score(
    curves: SurvivalCurves,
    event: np.ndarray,
    time: np.ndarray,
    train_event: np.ndarray,
    train_time: np.ndarray,
    times: np.ndarray | None = None,
) -> float:
    """Brier score integrated over `times` by the trapezoid rule, divided by the time span.

    Args:
        times: (k >= 2,) increasing evaluation grid; default 50 points evenly spaced between the
            10th and 90th percentiles of the test times.
    """
    ev, tm = outcomes(event, time)
    grid = np.linspace(*np.quantile(tm, [0.1, 0.9]), 50) if times is None else np.asarray(times, dtype=float)
    if grid.size < 2 or np.any(np.diff(grid) <= 0):
        raise InputError("integration grid must hold at least two increasing times", item=grid[:5])
    scores = brier_score(curves, ev, tm, grid, train_event, train_time)
    return float(np.trapezoid(scores, grid) / (grid[-1] - grid[0]))
