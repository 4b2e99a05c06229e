"""Concordance: Harrell's C and Uno's IPCW C (Haider et al. 2020, Section 4.1)."""

from __future__ import annotations

import numpy as np

from core.errors import InputError
from survival.metrics._inputs import censoring_survival, outcomes, risk_scores

__all__ = ["concordance_harrell", "concordance_uno"]

_CHUNK = 1024


def _pairwise_concordance(
    ev: np.ndarray, tm: np.ndarray, risk: np.ndarray, weight: np.ndarray, tied_tol: float
) -> float:
    numerator = 0.0
    denominator = 0.0
    rows = np.flatnonzero(ev & (weight > 0))
    for start in range(0, rows.size, _CHUNK):
        i = rows[start : start + _CHUNK]
        ti, ri, wi = tm[i, None], risk[i, None], weight[i, None]
        comparable = (tm[None, :] > ti) | ((tm[None, :] == ti) & ~ev[None, :])
        diff = ri - risk[None, :]
        tie = np.abs(diff) <= tied_tol
        score = np.where(tie, 0.5, (diff > 0).astype(float))
        numerator += float((wi * (score * comparable)).sum())
        denominator += float((wi * comparable).sum())
    if denominator == 0:
        raise InputError(
            "no comparable pairs: concordance is undefined",
            item=f"{int(ev.sum())} events among {ev.size} rows",
        )
    return numerator / denominator


def concordance_harrell(
    event: np.ndarray, time: np.ndarray, risk: np.ndarray, *, tied_tol: float = 1e-8
) -> float:
    """Harrell's concordance index.

    A pair (i, j) is comparable when i had an event and ``t_i < t_j`` (or ``t_i == t_j`` with j
    censored); it is concordant when ``risk_i > risk_j``; tied risks (within `tied_tol`) count 1/2.

    Args:
        event: (n,) bool; time: (n,) float; risk: (n,) higher = earlier expected event.

    Returns:
        C in [0, 1] (0.5 = random ordering).
    """
    ev, tm = outcomes(event, time)
    score = risk_scores(risk, ev.size)
    return _pairwise_concordance(ev, tm, score, np.ones(ev.size), tied_tol)


def concordance_uno(
    event: np.ndarray,
    time: np.ndarray,
    risk: np.ndarray,
    train_event: np.ndarray,
    train_time: np.ndarray,
    *,
    tau: float | None = None,
    tied_tol: float = 1e-8,
) -> float:
    """Uno's IPCW concordance (Uno et al. 2011): Harrell's pairs weighted by ``G(t_i)^-2``.

    ``G`` is the censoring distribution estimated on the training rows. Only events before
    `tau` (default: no truncation) contribute.
    """
    ev, tm = outcomes(event, time)
    tr_ev, tr_tm = outcomes(train_event, train_time, "train")
    score = risk_scores(risk, ev.size)
    g = censoring_survival(tr_ev, tr_tm, tm)
    weight = np.divide(1.0, np.square(g), out=np.zeros_like(g), where=g > 0)
    if tau is not None:
        weight = np.where(tm < tau, weight, 0.0)
    return _pairwise_concordance(ev, tm, score, weight, tied_tol)
