"""MI-FGSM: momentum iterative FGSM (Dong et al., CVPR 2018).

``g_{t+1} = mu * g_t + grad / ||grad||_1``, ``x_{t+1} = proj(x_t + alpha * sign(g_{t+1}))``. The
paper's defaults: decay mu = 1.0, 10 iterations, alpha = eps / steps; torchattacks uses eps 8/255,
alpha 2/255, 10 steps, which are the defaults here. (torchattacks divides by the mean absolute
gradient instead of the L1 norm: the same direction, as the two differ by one constant factor.)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from robust.attacks.base import Attack, check_budget
from robust.attacks.norms import project

__all__ = ["MIFGSM"]


class MIFGSM(Attack):
    """Momentum iterative FGSM in L-inf; ``decay=0`` is I-FGSM. Cost: `steps` gradient calls."""

    name = "mifgsm"

    def __init__(
        self,
        model: nn.Module,
        eps: float = 8 / 255,
        alpha: float = 2 / 255,
        steps: int = 10,
        decay: float = 1.0,
        *,
        targeted: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(model, targeted=targeted, seed=seed)
        check_budget("eps", eps)
        check_budget("alpha", alpha, positive=True)
        check_budget("steps", steps, positive=True, integer=True)
        check_budget("decay", decay)
        self.eps, self.alpha, self.steps, self.decay = float(eps), float(alpha), steps, float(decay)

    def perturb(self, x: Tensor, y: Tensor) -> Tensor:
        x_adv = x.clone()
        momentum = torch.zeros_like(x)
        for _ in range(self.steps):
            grad = self.loss_gradient(x_adv, y)
            l1 = grad.abs().flatten(1).sum(1).clamp_min(1e-12).view(-1, *([1] * (x.ndim - 1)))
            momentum = self.decay * momentum + grad / l1
            x_adv = project(x, x_adv + self.alpha * momentum.sign(), self.eps, "linf").detach()
        return x_adv

    def budget(self) -> dict[str, object]:
        return {
            "norm": "linf",
            "eps": self.eps,
            "alpha": self.alpha,
            "steps": self.steps,
            "decay": self.decay,
        }
