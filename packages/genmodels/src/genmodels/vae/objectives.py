"""Training objectives of the VAE family, one call signature: ELBO, beta-VAE, KL warm-up and GECO.

Each objective turns one batch's `ELBOTerms` into a loss to minimise and a few metrics:

- ``elbo``: ``-(log p(x|z) - KL)`` (Kingma & Welling 2014);
- ``beta``: ``-(log p(x|z) - beta KL)`` (Higgins et al. 2017; beta = 4 by default);
- ``warmup``: beta rises linearly from 0 to 1 over ``warmup_steps`` steps (Bowman et al. 2016,
  Sønderby et al. 2016);
- ``geco``: ``KL + lambda C`` with the reconstruction constraint of `genmodels.geco.GECO`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from torch import Tensor

from core.errors import InputError
from genmodels.geco import GECO
from genmodels.vae.bounds import ELBOTerms

__all__ = ["OBJECTIVES", "Objective", "ObjectiveConfig", "make_objective"]

OBJECTIVES = ("elbo", "beta", "warmup", "geco")


@dataclass(frozen=True)
class ObjectiveConfig:
    """Which objective, and its settings (fields of the other objectives are ignored).

    Attributes:
        kind: "elbo", "beta", "warmup" or "geco".
        beta: the KL weight of "beta".
        warmup_steps: steps over which "warmup" raises the KL weight from 0 to 1.
        tolerance: GECO's tolerated RMS pixel error.
        alpha: GECO's moving-average factor (paper: 0.99).
        rate: GECO's multiplier speed (``lambda *= exp(rate * C_ma)``).
        initial_lambda: GECO's starting multiplier.
    """

    kind: Literal["elbo", "beta", "warmup", "geco"] = "elbo"
    beta: float = 4.0
    warmup_steps: int = 1000
    tolerance: float = 0.1
    alpha: float = 0.99
    rate: float = 0.01
    initial_lambda: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in OBJECTIVES:
            raise InputError("unknown objective", item=self.kind, expected=", ".join(OBJECTIVES))
        if self.beta < 0 or self.warmup_steps < 1:
            raise InputError("beta must be >= 0 and warmup_steps >= 1", item=(self.beta, self.warmup_steps))


class Objective:
    """``objective(terms, step) -> (loss, metrics)``; `state_dict` for what must survive a resume."""

    def __init__(self, config: ObjectiveConfig) -> None:
        self.config = config
        self.geco = (
            GECO(config.tolerance, config.alpha, config.rate, config.initial_lambda)
            if config.kind == "geco"
            else None
        )

    def kl_weight(self, step: int) -> float:
        """The KL weight of the ELBO-type objectives at (1-based) `step`."""
        if self.config.kind == "beta":
            return self.config.beta
        if self.config.kind == "warmup":
            return min(1.0, step / self.config.warmup_steps)
        return 1.0

    def __call__(self, terms: ELBOTerms, step: int) -> tuple[Tensor, dict[str, float]]:
        pixels = math.prod(terms.reconstruction.shape[1:])
        if self.geco is not None:
            return self.geco.loss(terms.kl, terms.squared_error, pixels)
        weight = self.kl_weight(step)
        loss = -(terms.log_likelihood - weight * terms.kl).mean()
        return loss, {"kl_weight": weight}

    def state_dict(self) -> dict[str, Any]:
        return self.geco.state_dict() if self.geco is not None else {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if self.geco is not None:
            self.geco.load_state_dict(state)


def make_objective(config: ObjectiveConfig) -> Objective:
    """The objective `config` names."""
    return Objective(config)
