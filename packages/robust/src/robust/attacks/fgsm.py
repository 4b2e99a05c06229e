"""FGSM: the fast gradient sign method (Goodfellow, Shlens & Szegedy, ICLR 2015).

``x_adv = clip(x + eps * sign(grad_x loss(x, y)), 0, 1)``: one gradient call per example.
"""

from __future__ import annotations

from torch import Tensor, nn

from robust.attacks.base import Attack, check_budget

__all__ = ["FGSM"]


class FGSM(Attack):
    """One signed-gradient step of size `eps` in L-inf (torchattacks' default eps = 8/255)."""

    name = "fgsm"

    def __init__(
        self, model: nn.Module, eps: float = 8 / 255, *, targeted: bool = False, seed: int = 0
    ) -> None:
        super().__init__(model, targeted=targeted, seed=seed)
        check_budget("eps", eps)
        self.eps = float(eps)

    def perturb(self, x: Tensor, y: Tensor) -> Tensor:
        grad = self.loss_gradient(x, y)
        return (x + self.eps * grad.sign()).clamp(0.0, 1.0)

    def budget(self) -> dict[str, object]:
        return {"norm": "linf", "eps": self.eps}
