"""Calibration: 1-calibration at one time (Hosmer-Lemeshow / D'Agostino-Nam) and D-calibration
(Haider et al. 2020, Sections 4.5-4.6)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import InputError
from survival.curves import SurvivalCurves
from survival.metrics._inputs import kaplan_meier, outcomes, probabilities, step

__all__ = ["DCalibration", "OneCalibration", "d_calibration", "one_calibration"]


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


def _greenwood_event_variance(time: np.ndarray, event: np.ndarray, t_star: float) -> float:
    """Greenwood's variance of the Kaplan-Meier estimate ``S(t*)`` (equal to that of ``1 - S(t*)``).

    ``Var = S(t*)^2 sum_{t_j <= t*} d_j / (n_j (n_j - d_j))``; infinite when a risk set empties
    through events before t*.
    """
    times, inverse = np.unique(time, return_inverse=True)
    deaths = np.bincount(inverse, weights=event.astype(float), minlength=times.size)
    at_risk = np.bincount(inverse, minlength=times.size)[::-1].cumsum()[::-1].astype(float)
    use = (times <= t_star) & (deaths > 0)
    survivors = at_risk[use] - deaths[use]
    if np.any(survivors <= 0):
        return float("inf")
    km_t, km_s = kaplan_meier(time, event)
    s = step(km_t, km_s, np.array([t_star]))[0]
    return float(s**2 * np.sum(deaths[use] / (at_risk[use] * survivors)))


def one_calibration(
    predicted: SurvivalCurves | np.ndarray,
    event: np.ndarray,
    time: np.ndarray,
    t_star: float,
    *,
    n_bins: int = 10,
    variance: str = "binomial",
) -> OneCalibration:
    """1-calibration at `t_star`: patients sorted by predicted event probability ``1 - S_i(t*)``
    into `n_bins` groups of (nearly) equal size; in each group the observed probability is
    ``1 - KM(t*)`` of that group and the expected one the mean prediction.

    Two variances of ``O_g`` (SurvivalEVAL's ``adjust_variance`` False / True):

    * ``"binomial"`` (default; D'Agostino & Nam 2003 as used by Haider et al. 2020): statistic
      ``sum_g n_g (O_g - E_g)^2 / (E_g (1 - E_g))`` on ``n_bins - 1`` degrees of freedom;
    * ``"greenwood"`` (Demler, Paynter & Cook 2015): ``sum_g (O_g - E_g)^2 / Var_GW(O_g)`` with
      Greenwood's variance of the group's Kaplan-Meier estimate, on ``n_bins`` degrees of freedom
      (p-value NaN when a group's variance is zero).

    Args:
        predicted: `SurvivalCurves`, or (n,) survival probabilities ``S_i(t*)`` already evaluated
            (e.g. out-of-fold predictions pooled over cross-validation folds).
    """
    from scipy import stats

    ev, tm = outcomes(event, time)
    if n_bins < 2 or n_bins > ev.size:
        raise InputError("number of bins must be between 2 and the number of patients", item=n_bins)
    if variance not in ("binomial", "greenwood"):
        raise InputError(
            "unknown 1-calibration variance", item=repr(variance), expected="'binomial' or 'greenwood'"
        )
    if isinstance(predicted, SurvivalCurves):
        p_event = 1.0 - predicted.survival_at(np.array([t_star]))[:, 0]
    else:
        p_event = 1.0 - probabilities(predicted, ev.size)
    groups = np.array_split(np.argsort(-p_event, kind="stable"), n_bins)
    observed = np.empty(n_bins)
    expected = np.empty(n_bins)
    spread = np.empty(n_bins)
    for g, rows in enumerate(groups):
        km_t, km_s = kaplan_meier(tm[rows], ev[rows])
        observed[g] = 1.0 - step(km_t, km_s, np.array([t_star]))[0]
        expected[g] = p_event[rows].mean()
        spread[g] = (
            expected[g] * (1.0 - expected[g]) / rows.size
            if variance == "binomial"
            else _greenwood_event_variance(tm[rows], ev[rows], t_star)
        )
    numerator = np.square(observed - expected)
    contributions = np.divide(numerator, spread, out=np.where(numerator == 0, 0.0, np.inf), where=spread > 0)
    statistic = float(contributions.sum())
    dof = n_bins - 1 if variance == "binomial" else n_bins
    defined = variance == "binomial" or bool(np.all(spread > 0))
    p_value = float(stats.chi2.sf(statistic, dof)) if defined else float("nan")
    return OneCalibration(statistic, p_value, observed, expected, float(t_star))


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
    ev, tm = outcomes(event, time)
    if n_bins < 2:
        raise InputError("D-calibration needs at least two bins", item=n_bins)
    if isinstance(predicted, SurvivalCurves):
        p = predicted.survival_at_own_times(tm)
    else:
        p = probabilities(predicted, ev.size)
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
    from scipy import stats

    statistic, p_value = stats.chisquare(hist)
    return DCalibration(float(statistic), float(p_value), hist)
