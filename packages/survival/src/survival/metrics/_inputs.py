"""Checks shared by every metric, and the one Kaplan-Meier estimator of the package.

Kaplan-Meier (and its reverse, the censoring distribution ``G`` used for IPCW) is scikit-survival's
`kaplan_meier_estimator`, the estimator the IPCW metrics of scikit-survival use, so ours agree with
theirs by construction (at tied times events leave the risk set before censorings).
"""

from __future__ import annotations

import numpy as np

from core.errors import InputError
from survival.target import check_event, check_time


def outcomes(event: np.ndarray, time: np.ndarray, what: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """``(event (n,) bool, time (n,) float)`` under the models' rules (0/1 events, times >= 0)."""
    ev = check_event(event, name=f"{what} event")
    tm = check_time(time, name=f"{what} time")
    if ev.size != tm.size:
        raise InputError(f"{what} event and time lengths differ", item=f"{ev.size} vs {tm.size}")
    return ev, tm


def kaplan_meier(
    time: np.ndarray, event: np.ndarray, *, reverse: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate at the distinct observed times (scikit-survival's estimator).

    Args:
        time: (n,) observed times.
        event: (n,) bool event indicators.
        reverse: estimate the censoring distribution G instead (censorings are the "events";
            at a tied time the events leave the risk set first).

    Returns:
        ``(times (k,), survival (k,))``: the right-continuous step function S(t) = survival[j]
        for times[j] <= t < times[j+1], and S(t) = 1 before times[0].
    """
    from sksurv.nonparametric import kaplan_meier_estimator

    ev, tm = outcomes(event, time, "Kaplan-Meier")
    times, surv = kaplan_meier_estimator(ev, tm, reverse=reverse)
    return np.asarray(times, dtype=float), np.asarray(surv, dtype=float)


def step(times: np.ndarray, surv: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Evaluate a right-continuous step function (value 1 before the first time)."""
    idx = np.searchsorted(times, np.asarray(t, dtype=float), side="right") - 1
    return np.where(idx >= 0, surv[np.maximum(idx, 0)], 1.0)


def censoring_survival(train_event: np.ndarray, train_time: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``G(t)``: the censoring survival of the training rows at the times `t`."""
    g_times, g_surv = kaplan_meier(train_time, train_event, reverse=True)
    return step(g_times, g_surv, t)


def risk_scores(risk: np.ndarray, n: int) -> np.ndarray:
    score = np.asarray(risk, dtype=float).reshape(-1)
    if score.size != n:
        raise InputError("one risk score per patient expected", item=f"{score.size} scores for {n} patients")
    if not np.all(np.isfinite(score)):
        raise InputError(
            "risk scores must be finite", item=f"row {int(np.flatnonzero(~np.isfinite(score))[0])}"
        )
    return score


def probabilities(values: np.ndarray, n: int) -> np.ndarray:
    prob = np.asarray(values, dtype=float).reshape(-1)
    if prob.size != n:
        raise InputError("one probability per patient expected", item=f"{prob.size} values for {n} patients")
    bad = np.flatnonzero(~((prob >= 0) & (prob <= 1)))
    if bad.size:
        raise InputError("survival probabilities must lie in [0, 1]", item=f"row {bad[0]}: {prob[bad[0]]}")
    return prob
