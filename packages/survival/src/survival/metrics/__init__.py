"""Evaluation of individual survival distributions (Haider, Hoehn, Davis & Greiner, JMLR 2020, Section 4).

Every function takes the test patients' event indicators and times (and, where censoring weights
or a population curve are needed, the training patients' ones) plus the model's predictions: a
risk score for concordance, a `SurvivalCurves` for everything else. Conventions:

* ``event``: (n,) 0/1 or bool, 1 = event observed, 0 = right-censored (other codes are refused,
  as the models refuse them); ``time``: (n,) float >= 0.
* Kaplan-Meier curves (scikit-survival's estimator) are right-continuous; the censoring
  distribution ``G`` (for IPCW) is the Kaplan-Meier estimate of the censoring times in which, at a
  tied time, events precede censoring.
* `CONVENTIONS` fixes every remaining choice (evaluation times, truncation, bins) once.

One module per job: `concordance`, `brier`, `l1`, `calibration`, `evaluation`.
"""

from survival.metrics._inputs import kaplan_meier
from survival.metrics.brier import brier_score, integrated_brier_score
from survival.metrics.calibration import DCalibration, OneCalibration, d_calibration, one_calibration
from survival.metrics.concordance import concordance_harrell, concordance_uno
from survival.metrics.evaluation import CONVENTIONS, FOLD_METRICS, Conventions, evaluate, fold_metrics
from survival.metrics.l1 import l1_loss

__all__ = [
    "CONVENTIONS",
    "FOLD_METRICS",
    "Conventions",
    "DCalibration",
    "OneCalibration",
    "brier_score",
    "concordance_harrell",
    "concordance_uno",
    "d_calibration",
    "evaluate",
    "fold_metrics",
    "integrated_brier_score",
    "kaplan_meier",
    "l1_loss",
    "one_calibration",
]
