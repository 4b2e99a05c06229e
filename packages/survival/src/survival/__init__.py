"""survival: individual survival distributions (Haider, Hoehn, Davis & Greiner, JMLR 2020).

Models with the scikit-survival estimator API (`fit(X, y)` on `Surv` structured arrays,
`predict_survival_function(X)`, `predict(X)` a risk score): `MTLR` and `NeuralMTLR`, and the
ISD baselines `KaplanMeier`, `CoxKP`, `CoxElasticNetKP`, `WeibullAFT`, `RandomSurvivalForestKM`.
Every model also returns `SurvivalCurves` (`predict_curves`), so every metric in
`survival.metrics` (concordance, IPCW Brier score, L1 hinge/margin, 1-calibration, D-calibration)
applies to every model.

``import survival`` is cheap: names load from their modules on first use (PEP 562), so torch,
scikit-learn and scikit-survival are imported only by what needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:
    from survival.base import SurvivalModel
    from survival.baselines import (
        CoxElasticNetKP,
        CoxKP,
        KaplanMeier,
        RandomSurvivalForestKM,
        WeibullAFT,
        kalbfleisch_prentice_baseline,
    )
    from survival.curves import SurvivalCurves, SurvivalFunction
    from survival.datasets import DATASETS, SurvivalDataset, load_dataset
    from survival.metrics import (
        CONVENTIONS,
        DCalibration,
        OneCalibration,
        brier_score,
        concordance_harrell,
        concordance_uno,
        d_calibration,
        evaluate,
        integrated_brier_score,
        kaplan_meier,
        l1_loss,
        one_calibration,
    )
    from survival.models import MODELS, make_model
    from survival.mtlr import MTLR, MTLRConfig, NeuralMTLR
    from survival.preprocess import Preprocessor
    from survival.simulate import simulate_exponential
    from survival.tables import from_csv, from_dataframe
    from survival.target import event_time, make_target

_WHERE = {
    "SurvivalModel": "survival.base",
    "CoxElasticNetKP": "survival.baselines",
    "CoxKP": "survival.baselines",
    "KaplanMeier": "survival.baselines",
    "RandomSurvivalForestKM": "survival.baselines",
    "WeibullAFT": "survival.baselines",
    "kalbfleisch_prentice_baseline": "survival.baselines",
    "SurvivalCurves": "survival.curves",
    "SurvivalFunction": "survival.curves",
    "DATASETS": "survival.datasets",
    "SurvivalDataset": "survival.datasets",
    "load_dataset": "survival.datasets",
    "CONVENTIONS": "survival.metrics",
    "DCalibration": "survival.metrics",
    "OneCalibration": "survival.metrics",
    "brier_score": "survival.metrics",
    "concordance_harrell": "survival.metrics",
    "concordance_uno": "survival.metrics",
    "d_calibration": "survival.metrics",
    "evaluate": "survival.metrics",
    "integrated_brier_score": "survival.metrics",
    "kaplan_meier": "survival.metrics",
    "l1_loss": "survival.metrics",
    "one_calibration": "survival.metrics",
    "MODELS": "survival.models",
    "make_model": "survival.models",
    "MTLR": "survival.mtlr",
    "MTLRConfig": "survival.mtlr",
    "NeuralMTLR": "survival.mtlr",
    "Preprocessor": "survival.preprocess",
    "simulate_exponential": "survival.simulate",
    "from_csv": "survival.tables",
    "from_dataframe": "survival.tables",
    "event_time": "survival.target",
    "make_target": "survival.target",
}

__all__ = [
    "CONVENTIONS",
    "DATASETS",
    "MODELS",
    "MTLR",
    "CoxElasticNetKP",
    "CoxKP",
    "DCalibration",
    "KaplanMeier",
    "MTLRConfig",
    "NeuralMTLR",
    "OneCalibration",
    "Preprocessor",
    "RandomSurvivalForestKM",
    "SurvivalCurves",
    "SurvivalDataset",
    "SurvivalFunction",
    "SurvivalModel",
    "WeibullAFT",
    "brier_score",
    "concordance_harrell",
    "concordance_uno",
    "d_calibration",
    "evaluate",
    "event_time",
    "from_csv",
    "from_dataframe",
    "integrated_brier_score",
    "kalbfleisch_prentice_baseline",
    "kaplan_meier",
    "l1_loss",
    "load_dataset",
    "make_model",
    "make_target",
    "one_calibration",
    "simulate_exponential",
]
__version__ = "0.2.0"


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
