"""L1 losses of the median survival time: uncensored, hinge and margin (Haider et al. 2020, Section 4.4)."""

from __future__ import annotations

import numpy as np

from core.errors import InputError
from survival.curves import SurvivalCurves
from survival.metrics._inputs import kaplan_meier, outcomes

__all__ = ["l1_loss"]


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
    ev, tm = outcomes(event, time)
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
        tr_ev, tr_tm = outcomes(train_event, train_time, "train")
        guess, surv_c = _km_best_guess(tr_tm, tr_ev, tm[~ev])
        target = tm.copy()
        target[~ev] = guess
        weight = np.ones(ev.size)
        weight[~ev] = 1.0 - surv_c
        return float(np.sum(weight * np.abs(target - pred)) / np.sum(weight))
    raise InputError("unknown L1 method", item=repr(method), expected="'uncensored', 'hinge' or 'margin'")
