"""Training objectives of the VAE family, one call signature: ELBO, beta-VAE, KL warm-up and GECO.

Each objective turns one batch's `ELBOTerms` into a loss to minimise and a few metrics:

- ``elbo``: ``-(log p(x|z) - KL)`` (Kingma & Welling 2014);
- ``beta``: ``-(log p(x|z) - beta KL)`` (Higgins et al. 2017; beta = 4 by default);
- ``warmup``: beta rises linearly from 0 to 1 over ``warmup_steps`` steps (Bowman et al. 2016,
  Sønderby et al. 2016);
- ``geco``: ``KL + lambda C`` with the reconstruction constraint of `genmodels.geco.GECO`;
- ``kl-tolerance``: ``-log p(x|z) + max(mean KL, kl_tolerance * latent_dim)`` (World Models' V,
  Ha & Schmidhuber 2018, reference code: the KL stops being pushed below 0.5 nats per dimension).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from torch import Tensor

from genmodels.config import OBJECTIVES, ObjectiveConfig
from genmodels.geco import GECO
from genmodels.vae.bounds import ELBOTerms

__all__ = ["OBJECTIVES", "Objective", "ObjectiveConfig", "make_objective"]


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
        if self.config.kind == "kl-tolerance":
            floor = self.config.kl_tolerance * terms.kl_dims
            loss = -terms.log_likelihood.mean() + terms.kl.mean().clamp(min=floor)
            return loss, {"kl_weight": float(terms.kl.detach().mean() > floor)}
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
