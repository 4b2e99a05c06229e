"""`DefenseConfig`, the config of the training defenses (torch-free, so the CLI's help reads its defaults)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from core.errors import InputError
from robust.config import TrainConfig

__all__ = ["RECIPES", "DefenseConfig", "check_cost_matrix"]

RECIPES = ("pgd", "alp", "universal", "universal-fp", "ibp", "ibp-cost", "noise")
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
        cost_matrix: ``"ibp-cost"``: the ``k x k`` cost matrix, flattened row-major (entry ``i * k +
            j`` is the cost of turning class ``i`` into ``j``; `robust.certify.cost.cost_matrix` gives
            the presets). Required by that recipe, ignored by the others.
        cost_alpha: ``"ibp-cost"``: weight of Zhang & Evans' cost-sensitive certified regulariser
            next to the clean cross-entropy (their default 1).
    """

    train: TrainConfig = field(default_factory=TrainConfig)
    recipe: Literal["pgd", "alp", "universal", "universal-fp", "ibp", "ibp-cost", "noise"] = "pgd"
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
    cost_matrix: tuple[float, ...] = ()
    cost_alpha: float = 1.0

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
        if self.recipe.startswith("ibp") and self.norm != "linf":
            raise InputError("IBP certifies L-inf balls", item=f"norm={self.norm!r}")
        if not self.cost_alpha >= 0:
            raise InputError("DefenseConfig.cost_alpha must be >= 0", item=self.cost_alpha)
        if self.recipe == "ibp-cost" and not self.cost_matrix:
            raise InputError(
                "recipe ibp-cost needs a cost matrix (cost_matrix; on the CLI --cost-matrix or --cost-preset)",
                item="cost_matrix=()",
            )
        if self.recipe == "ibp-cost":
            check_cost_matrix(self.cost_matrix, self.train.model.num_classes)


def check_cost_matrix(values: Sequence[float], num_classes: int) -> None:
    """Refuse a flat cost matrix of the wrong size, with a negative or non-finite entry (named by
    row and column) or without any positive entry off the diagonal."""
    if len(values) != num_classes * num_classes:
        raise InputError(
            f"the cost matrix needs {num_classes} x {num_classes} = {num_classes**2} entries (row-major)",
            item=f"{len(values)} entries",
        )
    for index, value in enumerate(values):
        if not (math.isfinite(value) and value >= 0):
            i, j = divmod(index, num_classes)
            raise InputError("cost matrix entries must be finite and >= 0", item=f"C[{i}, {j}] = {value}")
    if not any(v > 0 for n, v in enumerate(values) if n // num_classes != n % num_classes):
        raise InputError(
            "the cost matrix has no positive entry off the diagonal: nothing to certify", item="C"
        )
