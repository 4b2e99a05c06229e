"""Evaluation of individual survival distributions (Haider, Hoehn, Davis & Greiner, JMLR 2020, Section 4).

Every function takes the test patients' event indicators and times (and, where censoring weights
or a population curve are needed, the training patients' ones) plus the model's predictions: a
risk score for concordance, a `SurvivalCurves` for everything else. Conventions:

* ``event``: (n,) bool, True = event observed, False = right-censored; ``time``: (n,) float >= 0.
* Kaplan-Meier curves are right-continuous; the censoring distribution ``G`` (for IPCW) is the
  Kaplan-Meier estimate of the censoring times in which, at a tied time, events precede censoring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from core.errors import InputError
from survival.curves import SurvivalCurves

__all__ = [
    "DCalibration",
    "OneCalibration",
    "brier_score",
    "concordance_harrell",
    "concordance_uno",
    "d_calibration",
    "evaluate",
    "integrated_brier_score",
    "kaplan_meier",
    "l1_loss",
    "one_calibration",
]

_CHUNK = 1024


def _arrays(event: np.ndarray, time: np.ndarray, what: str = "test") -> tuple[np.ndarray, np.ndarray]:
    ev = np.asarray(event).astype(bool).reshape(-1)
    tm = np.asarray(time, dtype=float).reshape(-1)
    if ev.size != tm.size:
        raise InputError(f"{what} event and time lengths differ", item=f"{ev.size} vs {tm.size}")
    if np.isnan(tm).any() or (tm < 0).any():
        row = int(np.flatnonzero(np.isnan(tm) | (tm < 0))[0])
        raise InputError(f"invalid {what} time", item=f"row {row}: {tm[row]}", expected="time >= 0")
    return ev, tm


def kaplan_meier(
    time: np.ndarray, event: np.ndarray, *, reverse: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate at the distinct observed times.

    Args:
        time: (n,) observed times.
        event: (n,) bool event indicators.
        reverse: estimate the censoring distribution G instead (censorings are the "events";
            at a tied time the events leave the risk set first).

    Returns:
        ``(times (k,), survival (k,))``: the right-continuous step function S(t) = survival[j]
        for times[j] <= t < times[j+1], and S(t) = 1 before times[0].
    """
    ev, tm = _arrays(event, time, "Kaplan-Meier")
    times, inverse = np.unique(tm, return_inverse=True)
    n_events = np.bincount(inverse, weights=ev.astype(float), minlength=times.size)
    n_total = np.bincount(inverse, minlength=times.size).astype(float)
    at_risk = n_total[::-1].cumsum()[::-1]
    if reverse:
        at_risk = at_risk - n_events
        n_events = n_total - n_events
    ratio = np.divide(n_events, at_risk, out=np.zeros_like(n_events), where=at_risk > 0)
    return times, np.cumprod(1.0 - ratio)


def _step(times: np.ndarray, surv: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Evaluate a right-continuous step function (value 1 before the first time)."""
    idx = np.searchsorted(times, np.asarray(t, dtype=float), side="right") - 1
    return np.where(idx >= 0, surv[np.maximum(idx, 0)], 1.0)


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
    ev, tm = _arrays(event, time)
    score = _risk(risk, ev.size)
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
    ev, tm = _arrays(event, time)
    tr_ev, tr_tm = _arrays(train_event, train_time, "train")
    score = _risk(risk, ev.size)
    g_times, g_surv = kaplan_meier(tr_tm, tr_ev, reverse=True)
    g = _step(g_times, g_surv, tm)
    weight = np.divide(1.0, np.square(g), out=np.zeros_like(g), where=g > 0)
    if tau is not None:
        weight = np.where(tm < tau, weight, 0.0)
    return _pairwise_concordance(ev, tm, score, weight, tied_tol)


def _probabilities(values: np.ndarray, n: int) -> np.ndarray:
    prob = np.asarray(values, dtype=float).reshape(-1)
    if prob.size != n:
        raise InputError("one probability per patient expected", item=f"{prob.size} values for {n} patients")
    bad = np.flatnonzero(~((prob >= 0) & (prob <= 1)))
    if bad.size:
        raise InputError("survival probabilities must lie in [0, 1]", item=f"row {bad[0]}: {prob[bad[0]]}")
    return prob


def _risk(risk: np.ndarray, n: int) -> np.ndarray:
    score = np.asarray(risk, dtype=float).reshape(-1)
    if score.size != n:
        raise InputError("one risk score per patient expected", item=f"{score.size} scores for {n} patients")
    if not np.all(np.isfinite(score)):
        raise InputError(
            "risk scores must be finite", item=f"row {int(np.flatnonzero(~np.isfinite(score))[0])}"
        )
    return score


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
    ev, tm = _arrays(event, time)
    tr_ev, tr_tm = _arrays(train_event, train_time, "train")
    grid = np.atleast_1d(np.asarray(times, dtype=float))
    if len(curves) != ev.size:
        raise InputError(
            "one curve per test patient expected", item=f"{len(curves)} curves, {ev.size} patients"
        )
    g_times, g_surv = kaplan_meier(tr_tm, tr_ev, reverse=True)
    g_obs = _step(g_times, g_surv, tm)
    g_grid = _step(g_times, g_surv, grid)
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
    ev, tm = _arrays(event, time)
    grid = np.linspace(*np.quantile(tm, [0.1, 0.9]), 50) if times is None else np.asarray(times, dtype=float)
    if grid.size < 2 or np.any(np.diff(grid) <= 0):
        raise InputError("integration grid must hold at least two increasing times", item=grid[:5])
    scores = brier_score(curves, ev, tm, grid, train_event, train_time)
    return float(np.trapezoid(scores, grid) / (grid[-1] - grid[0]))


def _km_best_guess(
    train_time: np.ndarray, train_event: np.ndarray, censor_times: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Best guess of the event time of patients censored at `censor_times` (Haider et al. 2020, Eq. 10).

    ``bg(c) = c + (integral_c^inf S_KM(t) dt) / S_KM(c)`` with the Kaplan-Meier curve of the
    training rows read as a piecewise-linear curve through its knots and extended linearly to
    zero. Returns ``(best_guess, S_KM(c))``; where ``S_KM(c) = 0`` the best guess is ``c``.
    """
    km_times, km_surv = kaplan_meier(train_time, train_event)
    km = SurvivalCurves.from_arrays(km_times, km_surv[None, :])
    c = np.asarray(censor_times, dtype=float)
    surv_c = km.survival_at(c)[0]
    total = km.mean_survival_time()[0]
    # area under the piecewise-linear curve from 0 to c
    t, s = km.times, km.probs[0]
    cum = np.concatenate([[0.0], np.cumsum((s[1:] + s[:-1]) * 0.5 * np.diff(t))])
    j = np.clip(np.searchsorted(t, np.minimum(c, t[-1]), side="right") - 1, 0, t.size - 1)
    inside = np.minimum(c, t[-1])
    area = cum[j] + (s[j] + km.survival_at(inside)[0]) * 0.5 * (inside - t[j])
    beyond = c > t[-1]
    if beyond.any():
        s_last = s[-1]
        area[beyond] += (s_last + surv_c[beyond]) * 0.5 * (c[beyond] - t[-1])
    remaining = np.maximum(total - area, 0.0)
    guess = np.where(surv_c > 1e-12, c + remaining / np.maximum(surv_c, 1e-12), c)
    return guess, surv_c


def l1_loss(
    predicted: SurvivalCurves | np.ndarray,
    event: np.ndarray,
    time: np.ndarray,
    *,
    method: str = "margin",
    train_event: np.ndarray | None = None,
    train_time: np.ndarray | None = None,
) -> float:
    """Mean absolute error between predicted and true survival times (Haider et al. 2020, Section 4.4).

    Args:
        predicted: `SurvivalCurves` (their median survival times are the predictions) or (n,) times.
        method: ``"uncensored"`` (events only), ``"hinge"`` (a censored patient costs
            ``max(0, c - pred)``, averaged over all patients), or ``"margin"`` (a censored patient
            is compared with its Kaplan-Meier best-guess time and weighted by ``1 - S_KM(c)``;
            normalised by the total weight). ``margin`` needs the training rows.

    Returns:
        The loss, in the units of `time`.
    """
    ev, tm = _arrays(event, time)
    pred = (
        predicted.median_survival_time()
        if isinstance(predicted, SurvivalCurves)
        else np.asarray(predicted, dtype=float).reshape(-1)
    )
    if pred.size != ev.size:
        raise InputError(
            "one prediction per patient expected", item=f"{pred.size} predictions, {ev.size} patients"
        )
    if method == "uncensored":
        if not ev.any():
            raise InputError("L1-uncensored needs at least one event", item="event")
        return float(np.mean(np.abs(tm[ev] - pred[ev])))
    if method == "hinge":
        errors = np.where(ev, np.abs(tm - pred), np.maximum(tm - pred, 0.0))
        return float(errors.mean())
    if method == "margin":
        if train_event is None or train_time is None:
            raise InputError("L1-margin needs the training rows", item="train_event/train_time")
        tr_ev, tr_tm = _arrays(train_event, train_time, "train")
        guess, surv_c = _km_best_guess(tr_tm, tr_ev, tm[~ev])
        target = tm.copy()
        target[~ev] = guess
        weight = np.ones(ev.size)
        weight[~ev] = 1.0 - surv_c
        return float(np.sum(weight * np.abs(target - pred)) / np.sum(weight))
    raise InputError("unknown L1 method", item=repr(method), expected="'uncensored', 'hinge' or 'margin'")


@dataclass(frozen=True)
class OneCalibration:
    """Hosmer-Lemeshow 1-calibration at one time (D'Agostino & Nam 2003; Haider et al. 2020, Section 4.5).

    Attributes:
        statistic: the chi-square statistic; p_value: its upper tail with ``n_bins - 1`` df.
        observed: (B,) Kaplan-Meier event probability in each group; expected: (B,) mean prediction.
        time: the evaluation time.
    """

    statistic: float
    p_value: float
    observed: np.ndarray
    expected: np.ndarray
    time: float


def one_calibration(
    predicted: SurvivalCurves | np.ndarray,
    event: np.ndarray,
    time: np.ndarray,
    t_star: float,
    *,
    n_bins: int = 10,
) -> OneCalibration:
    """1-calibration at `t_star`: patients sorted by predicted event probability ``1 - S_i(t*)``
    into `n_bins` groups of (nearly) equal size; in each group the observed probability is
    ``1 - KM(t*)`` of that group, the expected one the mean prediction; the statistic is
    ``sum_g n_g (O_g - E_g)^2 / (E_g (1 - E_g))``.

    Args:
        predicted: `SurvivalCurves`, or (n,) survival probabilities ``S_i(t*)`` already evaluated
            (e.g. out-of-fold predictions pooled over cross-validation folds).
    """
    ev, tm = _arrays(event, time)
    if n_bins < 2 or n_bins > ev.size:
        raise InputError("number of bins must be between 2 and the number of patients", item=n_bins)
    if isinstance(predicted, SurvivalCurves):
        p_event = 1.0 - predicted.survival_at(np.array([t_star]))[:, 0]
    else:
        p_event = 1.0 - _probabilities(predicted, ev.size)
    groups = np.array_split(np.argsort(-p_event, kind="stable"), n_bins)
    observed = np.empty(n_bins)
    expected = np.empty(n_bins)
    sizes = np.empty(n_bins)
    for g, rows in enumerate(groups):
        km_t, km_s = kaplan_meier(tm[rows], ev[rows])
        observed[g] = 1.0 - _step(km_t, km_s, np.array([t_star]))[0]
        expected[g] = p_event[rows].mean()
        sizes[g] = rows.size
    numerator = sizes * np.square(observed - expected)
    variance = expected * (1.0 - expected)
    contributions = np.divide(
        numerator, variance, out=np.where(numerator == 0, 0.0, np.inf), where=variance > 0
    )
    statistic = float(contributions.sum())
    return OneCalibration(
        statistic, float(stats.chi2.sf(statistic, n_bins - 1)), observed, expected, float(t_star)
    )


@dataclass(frozen=True)
class DCalibration:
    """D-calibration (Haider et al. 2020, Section 4.6, Algorithm 1).

    Attributes:
        statistic: Pearson chi-square of the histogram against the uniform; p_value: with
            ``n_bins - 1`` df (the model passes at p > 0.05).
        histogram: (B,) patient mass per survival-probability bin, bin 0 = [0, 1/B), last = [1 - 1/B, 1].
    """

    statistic: float
    p_value: float
    histogram: np.ndarray

    @property
    def passed(self) -> bool:
        return self.p_value > 0.05


def d_calibration(
    predicted: SurvivalCurves | np.ndarray, event: np.ndarray, time: np.ndarray, *, n_bins: int = 10
) -> DCalibration:
    """Test whether ``S_i(t_i)`` is uniform over patients (distributional calibration).

    An uncensored patient adds 1 to the bin holding ``p = S_i(t_i)``. A patient censored at ``c``
    with ``p = S_i(c)`` has an event time after c, so its survival probability at its event time
    lies uniformly below p: the bin holding p receives ``(p - lower edge) / p`` and every bin below
    it ``(1/B) / p`` (a censored patient with p = 0 adds 1 to the lowest bin).

    Args:
        predicted: `SurvivalCurves`, or (n,) probabilities ``S_i(t_i)`` already evaluated at each
            patient's own time (e.g. out-of-fold predictions pooled over folds).
    """
    ev, tm = _arrays(event, time)
    if n_bins < 2:
        raise InputError("D-calibration needs at least two bins", item=n_bins)
    if isinstance(predicted, SurvivalCurves):
        p = predicted.survival_at_own_times(tm)
    else:
        p = _probabilities(predicted, ev.size)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], p, side="right")  # p in [edges[b], edges[b+1]), p = 1 -> last
    hist = np.bincount(bins[ev], minlength=n_bins).astype(float)
    pc, bc = p[~ev], bins[~ev]
    positive = pc > 0
    first = np.ones(pc.size)
    first[positive] = (pc[positive] - edges[bc[positive]]) / pc[positive]
    hist += np.bincount(bc, weights=first, minlength=n_bins)
    # each censored patient adds (1/B)/p to all bins strictly below its own bin
    per_bin = np.bincount(bc[positive], weights=(1.0 / n_bins) / pc[positive], minlength=n_bins)
    below = np.cumsum(per_bin[::-1])[::-1]  # below[b] = sum over patients whose bin >= b
    hist[:-1] += below[1:]
    statistic, p_value = stats.chisquare(hist)
    return DCalibration(float(statistic), float(p_value), hist)


def evaluate(
    curves: SurvivalCurves,
    risk: np.ndarray,
    event: np.ndarray,
    time: np.ndarray,
    train_event: np.ndarray,
    train_time: np.ndarray,
) -> dict[str, float]:
    """Every metric of the paper on one test set: concordance (Harrell, Uno), IBS, L1 (hinge,
    margin), 1-calibration p-value at the median training event time, D-calibration p-value."""
    ev, tm = _arrays(event, time)
    tr_ev, tr_tm = _arrays(train_event, train_time, "train")
    t_star = float(np.median(tr_tm[tr_ev]))
    lo, hi = np.quantile(tm, [0.1, 0.9])
    return {
        "c_harrell": concordance_harrell(ev, tm, risk),
        "c_uno": concordance_uno(ev, tm, risk, tr_ev, tr_tm, tau=float(np.quantile(tr_tm, 0.9))),
        "ibs": integrated_brier_score(curves, ev, tm, tr_ev, tr_tm, times=np.linspace(lo, hi, 50)),
        "l1_hinge": l1_loss(curves, ev, tm, method="hinge"),
        "l1_margin": l1_loss(curves, ev, tm, method="margin", train_event=tr_ev, train_time=tr_tm),
        "one_cal_p": one_calibration(curves, ev, tm, t_star, n_bins=min(10, max(2, ev.size // 5))).p_value,
        "d_cal_p": d_calibration(curves, ev, tm).p_value,
    }
