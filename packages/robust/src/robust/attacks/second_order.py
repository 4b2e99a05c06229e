"""The second-order attack of Li, Chen, Wang & Carin ("Second-order adversarial attack and
certifiable robustness", 2018), sec. 3 of the reference notes.

Near a point where the loss gradient is small (an adversarially trained model, or a model under
random input noise), the best L2 step is along the dominant eigenvector of the loss Hessian. The
paper approximates that direction without forming the Hessian: the gradient averaged over
Gaussian perturbations of the current point, ``g = mean_i grad L(x_t + sigma z_i)``,
``z_i ~ N(0, I)`` (its expectation is the gradient of the Gaussian-smoothed loss, whose first-order
change with ``sigma`` is the Hessian acting on the noise), then a normalised projected step
``x_{t+1} = Proj(x_t + alpha g / ||g||_2)``. With ``sigma = 0`` it is L2 PGD. Noise draws come from
the attack's generator; the paper's MNIST setting is L2 with a few noise samples per step.

Defaults (ours, for 28x28 digits): L2 eps 2.0, alpha 0.25, 20 steps, sigma 0.3, 10 noise samples,
random start.
Cost: ``steps * samples`` gradient calls per example.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from robust.attacks.base import check_budget
from robust.attacks.norms import normalize_l2
from robust.attacks.pgd import PGD

__all__ = ["SecondOrder"]


class SecondOrder(PGD):
    """L2 PGD whose gradients are averaged over `samples` Gaussian perturbations of scale `sigma`.

    Args:
        eps, alpha, steps, random_start, restarts: as `PGD` (L2).
        sigma: standard deviation of the Gaussian perturbations (pixels in [0, 1] units).
        samples: noise draws per gradient.
    """

    name = "second-order"

    def __init__(
        self,
        model: nn.Module,
        eps: float = 2.0,
        alpha: float = 0.25,
        steps: int = 20,
        sigma: float = 0.3,
        samples: int = 10,
        random_start: bool = True,
        restarts: int = 1,
        *,
        targeted: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(model, eps, alpha, steps, "l2", random_start, restarts, targeted=targeted, seed=seed)
        check_budget("sigma", sigma)
        check_budget("samples", samples, positive=True, integer=True)
        self.sigma, self.samples = float(sigma), samples

    def loss_gradient(self, x: Tensor, y: Tensor, active: Tensor | None = None) -> Tensor:
        total = torch.zeros_like(x)
        for _ in range(self.samples):
            noisy = x + self.sigma * self.randn(*x.shape, like=x)
            total += super().loss_gradient(noisy, y, active)
        return total / self.samples

    def step(self, x_adv: Tensor, grad: Tensor) -> Tensor:
        return x_adv + self.alpha * normalize_l2(grad)

    def budget(self) -> dict[str, object]:
        return {**super().budget(), "sigma": self.sigma, "samples": self.samples}
