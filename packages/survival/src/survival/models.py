"""The registry of models by the names the ISD paper uses, so experiments and the CLI pick by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.errors import InputError
from survival.base import SurvivalModel
from survival.baselines import CoxElasticNetKP, CoxKP, KaplanMeier, RandomSurvivalForestKM, WeibullAFT
from survival.mtlr import MTLR, NeuralMTLR

__all__ = ["MODELS", "make_model"]

MODELS: dict[str, Callable[..., SurvivalModel]] = {
    "km": KaplanMeier,
    "coxkp": CoxKP,
    "coxen-kp": CoxElasticNetKP,
    "aft": WeibullAFT,
    "rsf-km": RandomSurvivalForestKM,
    "mtlr": MTLR,
    "neural-mtlr": NeuralMTLR,
}


def make_model(name: str, **params: Any) -> SurvivalModel:
    """A fresh model by its paper name (``"mtlr"``, ``"coxkp"``, ...) with hyper-parameters `params`.

    Raises:
        InputError: unknown name or hyper-parameter.
    """
    if name not in MODELS:
        raise InputError("unknown model", item=repr(name), expected=f"one of {sorted(MODELS)}")
    factory = MODELS[name]
    try:
        return factory(**params)
    except TypeError as exc:
        raise InputError(f"bad hyper-parameter for model '{name}'", item=str(exc)) from exc
