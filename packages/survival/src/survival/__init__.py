"""survival: individual survival distributions (Haider, Hoehn, Davis & Greiner, JMLR 2020).

Models with the scikit-survival estimator API (`fit(X, y)` on `Surv` structured arrays,
`predict_survival_function(X)`, `predict(X)` a risk score): `MTLR` and `NeuralMTLR`, and the
ISD baselines `KaplanMeier`, `CoxKP`, `CoxElasticNetKP`, `WeibullAFT`, `RandomSurvivalForestKM`.
Every model returns `SurvivalCurves`, so every metric in `survival.metrics` (concordance, IPCW
Brier score, L1 hinge/margin, 1-calibration, D-calibration) applies to every model.
"""

from survival.base import SurvivalModel
from survival.baselines import (
    CoxElasticNetKP,
    CoxKP,
    KaplanMeier,
    RandomSurvivalForestKM,
    WeibullAFT,
    kalbfleisch_prentice_baseline,
)
from survival.curves import SurvivalCurves
from survival.data import (
    DATASETS,
    Preprocessor,
    SurvivalDataset,
    event_time,
    from_csv,
    from_dataframe,
    load_dataset,
    make_target,
    simulate_exponential,
)
from survival.metrics import (
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

__all__ = [
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
__version__ = "0.1.0"
