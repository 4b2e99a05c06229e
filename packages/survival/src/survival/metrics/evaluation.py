"""The package's one set of evaluation conventions, and `evaluate`, which applies them.

`CONVENTIONS` (named ``"haider2020"``) is used by `evaluate`, by cross-validation
(`survival.experiment.cross_validate`), hence by ``survival evaluate``, ``reproduce survival``, the
benchmark and the README tables:

* risk score for concordance: minus the mean survival time of each curve (`SurvivalModel.predict`);
* Uno's C truncated at ``tau`` = 90th percentile of the training times;
* IBS over 50 evenly spaced times from the 10th to the 90th percentile of the test times, IPCW
  with the censoring Kaplan-Meier of the training rows;
* L1 of the median survival time: hinge, and margin with the training rows' Kaplan-Meier;
* 1-calibration at ``t*`` = median event time of the training rows (pooled out-of-fold
  predictions: of all rows), 10 groups, the binomial (D'Agostino-Nam) variance;
* D-calibration with 10 bins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.errors import InputError
from survival.curves import SurvivalCurves
from survival.metrics._inputs import outcomes
from survival.metrics.brier import integrated_brier_score
from survival.metrics.calibration import d_calibration, one_calibration
from survival.metrics.concordance import concordance_harrell, concordance_uno
from survival.metrics.l1 import l1_loss

__all__ = ["CONVENTIONS", "FOLD_METRICS", "Conventions", "evaluate", "fold_metrics"]

FOLD_METRICS = ("c_harrell", "c_uno", "ibs", "l1_hinge", "l1_margin")


@dataclass(frozen=True)
class Conventions:
    """Choices every evaluation makes; see the module docstring for the default set."""

    name: str = "haider2020"
    ibs_quantiles: tuple[float, float] = (0.1, 0.9)
    ibs_points: int = 50
    uno_tau_quantile: float = 0.9
    one_cal_bins: int = 10
    one_cal_variance: str = "binomial"
    d_cal_bins: int = 10

    def ibs_grid(self, test_time: np.ndarray) -> np.ndarray:
        """(ibs_points,) integration times between the quantiles of the test times."""
        return np.linspace(*np.quantile(test_time, self.ibs_quantiles), self.ibs_points)

    def uno_tau(self, train_time: np.ndarray) -> float:
        return float(np.quantile(train_time, self.uno_tau_quantile))

    def one_cal_time(self, train_event: np.ndarray, train_time: np.ndarray) -> float:
        """t* of 1-calibration: the median event time of the reference rows."""
        return float(np.median(np.asarray(train_time)[np.asarray(train_event, dtype=bool)]))


CONVENTIONS = Conventions()


def _safe(fn, *args, **kwargs) -> float:
    try:
        return float(fn(*args, **kwargs))
    except InputError:
        return math.nan


def fold_metrics(
    curves: SurvivalCurves,
    event: np.ndarray,
    time: np.ndarray,
    train_event: np.ndarray,
    train_time: np.ndarray,
    *,
    risk: np.ndarray | None = None,
    conventions: Conventions = CONVENTIONS,
) -> dict[str, float]:
    """The per-test-set metrics `FOLD_METRICS` under `conventions` (NaN where undefined).

    Args:
        curves: the test patients' curves; risk: (n,) scores (default: minus the mean survival time).
    """
    ev, tm = outcomes(event, time)
    tr_ev, tr_tm = outcomes(train_event, train_time, "train")
    score = -curves.mean_survival_time() if risk is None else risk
    return {
        "c_harrell": _safe(concordance_harrell, ev, tm, score),
        "c_uno": _safe(concordance_uno, ev, tm, score, tr_ev, tr_tm, tau=conventions.uno_tau(tr_tm)),
        "ibs": _safe(integrated_brier_score, curves, ev, tm, tr_ev, tr_tm, times=conventions.ibs_grid(tm)),
        "l1_hinge": _safe(l1_loss, curves, ev, tm, method="hinge"),
        "l1_margin": _safe(l1_loss, curves, ev, tm, method="margin", train_event=tr_ev, train_time=tr_tm),
    }


def evaluate(
    curves: SurvivalCurves,
    event: np.ndarray,
    time: np.ndarray,
    train_event: np.ndarray,
    train_time: np.ndarray,
    *,
    risk: np.ndarray | None = None,
    conventions: Conventions = CONVENTIONS,
) -> dict[str, float]:
    """Every metric of the paper on one test set, under `conventions` (the package's one set).

    Returns:
        `FOLD_METRICS` plus ``one_cal_p`` (1-calibration p-value at the median training event
        time) and ``d_cal_p`` (D-calibration p-value).
    """
    ev, tm = outcomes(event, time)
    tr_ev, tr_tm = outcomes(train_event, train_time, "train")
    result = fold_metrics(curves, ev, tm, tr_ev, tr_tm, risk=risk, conventions=conventions)
    bins = min(conventions.one_cal_bins, max(2, ev.size // 5))
    result["one_cal_p"] = _safe(
        lambda: (
            one_calibration(
                curves,
                ev,
                tm,
                conventions.one_cal_time(tr_ev, tr_tm),
                n_bins=bins,
                variance=conventions.one_cal_variance,
            ).p_value
        )
    )
    result["d_cal_p"] = _safe(lambda: d_calibration(curves, ev, tm, n_bins=conventions.d_cal_bins).p_value)
    return result
