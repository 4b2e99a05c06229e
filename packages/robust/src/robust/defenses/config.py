"""`DefenseConfig`, the config of the training defenses (torch-free, so the CLI's help reads its defaults)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from core.errors import InputError
from robust.config import TrainConfig

__all__ = ["RECIPES", "DefenseConfig"]

RECIPES = ("pgd", "alp", "universal", "universal-fp", "ibp", "noise")
"""Training defenses of `robust.defenses.training`."""


@dataclass(frozen=True)
class DefenseConfig:
    """One training-defense run.

    Attributes:
        train: the classifier, data, epochs (extendable), batch size, learning rate and seed.
        recipe: one of `RECIPES`.
        eps: the perturbation budget (L-inf per pixel or L2 of the image; Madry et al.'s MNIST 0.3).
        alpha: PGD step size (Madry et al.: 0.01).
        steps: PGD steps per training example (Madry et al.: 40).
        norm: ``"linf"`` or ``"l2"`` (PGD recipes; the universal ones are L-inf).
        alp_weight: ALP's lambda on the squared logit distance (ours: 0.5).
        universal_alpha: signed step of the universal perturbation per minibatch (``"universal"``;
            ours: 0.01, i.e. 30 steps to cross eps 0.3).
        fp_images: training images each best response is fitted on (``"universal-fp"``).
        fp_epochs: passes of the universal generator per best response (``"universal-fp"``).
        ibp_warmup_steps, ibp_ramp_steps: minibatch steps of clean training, then of the linear eps
            and kappa ramps (``"ibp"``; Gowal et al.'s 2k and 10k).
        ibp_kappa_final: kappa at the end of the ramp (starts at 1; Gowal et al.: 0.5).
        ibp_eps_factor: training radius over the test radius `eps` (Gowal et al.: 1.1).
        noise_sigma: standard deviation of the Gaussian input noise (``"noise"``: the training of
            PixelDP's and the random-noise defense's base model).
    """

    train: TrainConfig = field(default_factory=TrainConfig)
    recipe: Literal["pgd", "alp", "universal", "universal-fp", "ibp", "noise"] = "pgd"
    eps: float = 0.3
    alpha: float = 0.01
    steps: int = 40
    norm: Literal["linf", "l2"] = "linf"
    alp_weight: float = 0.5
    universal_alpha: float = 0.01
    fp_images: int = 1000
    fp_epochs: int = 2
    ibp_warmup_steps: int = 2000
    ibp_ramp_steps: int = 10000
    ibp_kappa_final: float = 0.5
    ibp_eps_factor: float = 1.1
    noise_sigma: float = 0.25

    def __post_init__(self) -> None:
        if self.recipe not in RECIPES:
            raise InputError("unknown defense recipe", item=self.recipe, expected=", ".join(RECIPES))
        if self.norm not in ("linf", "l2"):
            raise InputError("unknown norm", item=f"norm={self.norm!r}", expected="'linf' or 'l2'")
        if self.recipe.startswith("universal") and self.norm != "linf":
            raise InputError("universal adversarial training is L-inf here", item=f"norm={self.norm!r}")
        for name in ("eps", "alp_weight"):
            if not getattr(self, name) >= 0:
                raise InputError(f"DefenseConfig.{name} must be >= 0", item=getattr(self, name))
        for name in ("alpha", "universal_alpha"):
            if not getattr(self, name) > 0:
                raise InputError(f"DefenseConfig.{name} must be > 0", item=getattr(self, name))
        for name, minimum in (
            ("steps", 1),
            ("fp_images", 1),
            ("fp_epochs", 1),
            ("ibp_warmup_steps", 0),
            ("ibp_ramp_steps", 1),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise InputError(f"DefenseConfig.{name} must be an integer >= {minimum}", item=value)
        if not 0 <= self.ibp_kappa_final <= 1:
            raise InputError(
                "the kappa schedule runs from 1 down to ibp_kappa_final, which must lie in [0, 1]",
                item=f"ibp_kappa_final={self.ibp_kappa_final}",
            )
        if not self.noise_sigma >= 0:
            raise InputError("DefenseConfig.noise_sigma must be >= 0", item=self.noise_sigma)
        if not self.ibp_eps_factor > 0:
            raise InputError("DefenseConfig.ibp_eps_factor must be > 0", item=self.ibp_eps_factor)
        if self.recipe == "ibp" and self.norm != "linf":
            raise InputError("IBP certifies L-inf balls", item=f"norm={self.norm!r}")
