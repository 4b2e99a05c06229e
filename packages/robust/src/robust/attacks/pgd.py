"""Projected gradient descent (Madry et al., ICLR 2018) in L-inf and L2, and BIM / I-FGSM.

Each step ascends the loss (signed gradient for L-inf, L2-normalised gradient for L2), then
projects back onto the eps-ball around ``x`` and onto [0, 1]. PGD starts at a uniformly random
point of the ball (L2: a random direction at a uniformly drawn radius, as torchattacks'
``PGDL2``); with ``restarts > 1`` each example keeps the first restart that fools the model
(else the last one), the multi-restart evaluation Madry et al. use. BIM / I-FGSM (Kurakin,
Goodfellow & Bengio, 2017) is the same loop in L-inf without the random start.

Defaults are torchattacks': L-inf eps 8/255, alpha 2/255, 10 steps; L2 eps 1.0, alpha 0.2.
Madry et al.'s MNIST budget is eps 0.3, alpha 0.01, 40 steps (100 with restarts for evaluation).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.attacks.base import Attack, check_budget
from robust.attacks.norms import normalize_l2, project

__all__ = ["BIM", "PGD", "PGDL2"]

_DEFAULTS = {"linf": (8 / 255, 2 / 255), "l2": (1.0, 0.2)}


class PGD(Attack):
    """PGD with random start.

    Args:
        model: classifier returning logits.
        eps: radius of the ball (L-inf: per pixel; L2: of the whole image). None: the norm's default.
        alpha: step size (None: the norm's default).
        steps: gradient steps per restart.
        norm: ``"linf"`` or ``"l2"``.
        random_start: start at a random point of the ball (else at ``x``).
        restarts: independent restarts; an example keeps the first successful one.
        targeted, seed: see `Attack`.

    Cost: ``steps * restarts`` gradient calls per example.
    """

    name = "pgd"

    def __init__(
        self,
        model: nn.Module,
        eps: float | None = None,
        alpha: float | None = None,
        steps: int = 10,
        norm: Literal["linf", "l2"] = "linf",
        random_start: bool = True,
        restarts: int = 1,
        *,
        targeted: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(model, targeted=targeted, seed=seed)
        if norm not in _DEFAULTS:
            raise InputError("unknown norm", item=f"norm={norm!r}", expected="'linf' or 'l2'")
        default_eps, default_alpha = _DEFAULTS[norm]
        self.eps = float(default_eps if eps is None else eps)
        self.alpha = float(default_alpha if alpha is None else alpha)
        check_budget("eps", self.eps)
        check_budget("alpha", self.alpha, positive=True)
        check_budget("steps", steps, positive=True, integer=True)
        check_budget("restarts", restarts, positive=True, integer=True)
        self.steps, self.norm, self.random_start, self.restarts = steps, norm, bool(random_start), restarts

    def start(self, x: Tensor) -> Tensor:
        """The starting point of one restart: a uniform draw from the ball (clipped to [0, 1]) or ``x``."""
        if not self.random_start or self.eps == 0:
            return x.clone()
        if self.norm == "linf":
            delta = (2 * self.rand(*x.shape, like=x) - 1) * self.eps
        else:
            direction = normalize_l2(self.randn(*x.shape, like=x))
            radius = self.rand(len(x), like=x).view(-1, *([1] * (x.ndim - 1)))
            delta = direction * radius * self.eps
        return (x + delta).clamp(0.0, 1.0)

    def step(self, x_adv: Tensor, grad: Tensor) -> Tensor:
        """One ascent step before projection."""
        if self.norm == "linf":
            return x_adv + self.alpha * grad.sign()
        return x_adv + self.alpha * normalize_l2(grad)

    def perturb(self, x: Tensor, y: Tensor) -> Tensor:
        best = x.clone()
        done = torch.zeros(len(x), dtype=torch.bool, device=x.device)
        for restart in range(self.restarts):
            x_adv = self.start(x)
            for _ in range(self.steps):
                grad = self.loss_gradient(x_adv, y)
                x_adv = project(x, self.step(x_adv, grad), self.eps, self.norm).detach()
            if self.restarts == 1:
                return x_adv
            fooled = self.succeeded(x_adv, y)
            take = ~done if restart == self.restarts - 1 else (~done & fooled)
            best[take] = x_adv[take]
            done |= take
        return best

    def budget(self) -> dict[str, object]:
        return {
            "norm": self.norm,
            "eps": self.eps,
            "alpha": self.alpha,
            "steps": self.steps,
            "random_start": self.random_start,
            "restarts": self.restarts,
        }


class PGDL2(PGD):
    """`PGD` in L2 (torchattacks' ``PGDL2``): eps 1.0, alpha 0.2, 10 steps by default."""

    name = "pgd-l2"

    def __init__(
        self,
        model: nn.Module,
        eps: float = 1.0,
        alpha: float = 0.2,
        steps: int = 10,
        random_start: bool = True,
        restarts: int = 1,
        *,
        targeted: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(model, eps, alpha, steps, "l2", random_start, restarts, targeted=targeted, seed=seed)


class BIM(PGD):
    """BIM / I-FGSM: L-inf PGD from ``x`` itself (no random start), eps 8/255, alpha 2/255, 10 steps."""

    name = "bim"

    def __init__(
        self,
        model: nn.Module,
        eps: float = 8 / 255,
        alpha: float = 2 / 255,
        steps: int = 10,
        *,
        targeted: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(model, eps, alpha, steps, "linf", False, 1, targeted=targeted, seed=seed)

    def budget(self) -> dict[str, object]:
        return {"norm": "linf", "eps": self.eps, "alpha": self.alpha, "steps": self.steps}
