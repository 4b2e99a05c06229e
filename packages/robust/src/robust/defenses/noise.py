"""Random-noise defense (Li et al. 2018, sec. 3): Gaussian noise added to the input, prediction
by majority vote over draws.

`RandomNoise(model, sigma, samples)` is itself a classifier module: its forward draws `samples`
noisy copies ``x + sigma z`` of each image and returns the log of the vote shares (a one-hot
average of the base model's predicted labels, floored at 1e-6 so the log is finite), so that
``argmax`` is the majority vote. The vote is not differentiable: gradient attacks on it see a
zero gradient, and the attacks that apply are those on the base model under the same noise (EOT
over `GaussianNoise`, or `robust.attacks.second_order.SecondOrder`, which averages gradients over
Gaussian perturbations). Draws come from the module's own generator (``seed``), reseeded at
every forward call, so the defense is a fixed function of its input, and repeated evaluations agree.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from robust.attacks.base import check_budget

__all__ = ["GaussianNoise", "RandomNoise"]


class GaussianNoise(nn.Module):
    """``model(x + sigma z)`` with a fresh draw each forward (a randomised model for EOT attacks).

    Draws come from the module's own generator, advanced at each call (not torch's global one).
    """

    def __init__(self, model: nn.Module, sigma: float, *, seed: int = 0) -> None:
        super().__init__()
        check_budget("sigma", sigma)
        self.model, self.sigma = model, float(sigma)
        self.generator = torch.Generator().manual_seed(seed)

    def forward(self, x: Tensor) -> Tensor:
        noise = torch.randn(x.shape, generator=self.generator).to(x.device, x.dtype)
        return self.model(x + self.sigma * noise)


class RandomNoise(nn.Module):
    """Majority vote of ``model`` over `samples` Gaussian draws of scale `sigma` around each input.

    Args:
        model: the base classifier (logits).
        sigma: noise standard deviation (pixel units of [0, 1] images).
        samples: draws per input.
        seed: the draws' generator seed (reset at each forward).

    Forward: ``(n, c, h, w) -> (n, classes)`` log vote shares (not differentiable).
    """

    def __init__(self, model: nn.Module, sigma: float = 0.3, samples: int = 32, *, seed: int = 0) -> None:
        super().__init__()
        check_budget("sigma", sigma)
        check_budget("samples", samples, positive=True, integer=True)
        self.model, self.sigma, self.samples, self.seed = model, float(sigma), samples, seed

    def forward(self, x: Tensor) -> Tensor:
        generator = torch.Generator().manual_seed(self.seed)
        votes = None
        with torch.no_grad():
            for _ in range(self.samples):
                noise = torch.randn(x.shape, generator=generator).to(x.device, x.dtype)
                logits = self.model(x + self.sigma * noise)
                one_hot = nn.functional.one_hot(logits.argmax(1), logits.shape[1]).to(x.dtype)
                votes = one_hot if votes is None else votes + one_hot
        assert votes is not None
        return (votes / self.samples).clamp_min(1e-6).log()
