"""Perceptually-aware PGD: a per-pixel budget from the local variation of the image (sec. 25;
Luo, Liu, Wei & Xu, "Towards imperceptible and robust adversarial example attacks", AAAI 2018).

Luo et al. measure how visible a change is by the *sensitivity* of each pixel, the inverse of the
standard deviation of its ``n x n`` neighbourhood: changes in flat regions are seen, changes in
textured regions are not. Their perceptual distance is ``D(x, x') = sum_i |x'_i - x_i| / SD_i``.
Here the sensitivity shapes the budget of L-inf PGD: pixel i may move by at most
``eps * SD_i / mean(SD)`` (the budget map averages to ``eps`` over each image, so its mean
allowance equals plain PGD's), and each step is ``alpha`` scaled the same way. Flat regions
(``SD = 0``, such as an MNIST background) are never changed.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.attacks.base import Attack, check_budget

__all__ = ["PerceptualPGD", "local_std", "perceptual_distance"]


def local_std(x: Tensor, window: int = 3) -> Tensor:
    """Standard deviation of each pixel's ``window x window`` neighbourhood (per channel), ``x (n, c, h, w)``.

    Neighbourhoods are cut at the border (only pixels inside the image count).
    """
    if window < 1 or window % 2 == 0:
        raise InputError("window must be an odd number >= 1", item=window)
    pool = nn.functional.avg_pool2d
    mean = pool(x, window, stride=1, padding=window // 2, count_include_pad=False)
    square = pool(x * x, window, stride=1, padding=window // 2, count_include_pad=False)
    return (square - mean * mean).clamp_min(0).sqrt()


def perceptual_distance(x: Tensor, x_adv: Tensor, window: int = 3, floor: float = 1e-2) -> Tensor:
    """Luo et al.'s ``sum_i |x'_i - x_i| / SD_i`` per example ``(n,)`` (SD floored at `floor`)."""
    return ((x_adv - x).abs() / local_std(x, window).clamp_min(floor)).flatten(1).sum(1)


class PerceptualPGD(Attack):
    """L-inf PGD whose per-pixel budget follows the local standard deviation of the image.

    Args:
        eps: mean per-pixel budget (the budget map averages to it over each image).
        alpha: mean step size.
        steps: gradient steps.
        window: side of the neighbourhood (Luo et al. use 3x3).

    Cost: `steps` gradient calls per example.
    """

    name = "perceptual-pgd"
    min_image_dims = 4

    def __init__(
        self,
        model: nn.Module,
        eps: float = 8 / 255,
        alpha: float = 2 / 255,
        steps: int = 10,
        window: int = 3,
        *,
        targeted: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(model, targeted=targeted, seed=seed)
        check_budget("eps", eps)
        check_budget("alpha", alpha, positive=True)
        check_budget("steps", steps, positive=True, integer=True)
        check_budget("window", window, positive=True, integer=True)
        local_std(torch.zeros(1, 1, 3, 3), window)  # validates the window
        self.eps, self.alpha, self.steps, self.window = float(eps), float(alpha), steps, window

    def budget_map(self, x: Tensor) -> Tensor:
        """``(n, c, h, w)`` relative budget ``SD_i / mean(SD)`` (mean 1 per image; zeros for a flat image)."""
        sd = local_std(x, self.window)
        mean = sd.flatten(1).mean(1).view(-1, *([1] * (x.ndim - 1)))
        return torch.where(mean > 0, sd / mean.clamp_min(1e-12), torch.zeros_like(sd))

    def perturb(self, x: Tensor, y: Tensor) -> Tensor:
        weight = self.budget_map(x)
        bound = self.eps * weight
        x_adv = x.clone()
        for _ in range(self.steps):
            grad = self.loss_gradient(x_adv, y)
            stepped = x_adv + self.alpha * weight * grad.sign()
            x_adv = torch.max(torch.min(stepped, x + bound), x - bound).clamp(0.0, 1.0).detach()
        return x_adv

    def budget(self) -> dict[str, object]:
        return {
            "norm": "linf-weighted",
            "eps": self.eps,
            "alpha": self.alpha,
            "steps": self.steps,
            "window": self.window,
        }
