"""Random weight-perturbation ensembles (Zhou et al., sec. 11 of the robust paper notes).

`WeightPerturbationEnsemble(model, sigma, members)` holds `members` copies of a trained network
whose every floating-point parameter tensor ``W`` is replaced by ``W + sigma * std(W) * Z`` with
``Z`` standard Gaussian (the noise is relative to each tensor's own spread, so one ``sigma`` fits
conv filters, dense layers and biases alike). The members are drawn once, at construction, from the
module's own generator: the ensemble is a fixed, differentiable function of its input. Its forward
returns the log of the members' mean softmax probabilities ``(n, classes)``.

The paper's finding: adversarial examples crafted on the unperturbed network (or another network)
transfer far less to the ensemble. The paper does not attack the ensemble itself; a white-box attack
on the ensemble (it is differentiable) is the adaptive attack that applies.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from robust.attacks.base import check_budget

__all__ = ["WeightPerturbationEnsemble", "perturb_weights"]


def perturb_weights(model: nn.Module, sigma: float, generator: torch.Generator) -> nn.Module:
    """A deep copy of `model` with Gaussian noise of ``sigma * std(W)`` added to every float parameter ``W``.

    Tensors of one element (whose std is undefined) get noise of ``sigma * |W|``. Draws are on the CPU.
    """
    check_budget("sigma", sigma)
    member = copy.deepcopy(model)
    with torch.no_grad():
        for parameter in member.parameters():
            if not parameter.is_floating_point():
                continue
            scale = parameter.std() if parameter.numel() > 1 else parameter.abs()
            noise = torch.randn(parameter.shape, generator=generator).to(parameter.device, parameter.dtype)
            parameter.add_(sigma * scale * noise)
    return member


class WeightPerturbationEnsemble(nn.Module):
    """Mean softmax of `members` weight-perturbed copies of `model`.

    Args:
        model: the trained classifier (logits); not modified.
        sigma: relative weight-noise scale (noise std per tensor = sigma x the tensor's std).
        members: ensemble size.
        seed: the generator of the weight draws.

    Forward: ``(n, c, h, w) -> (n, classes)`` log mean probabilities (differentiable).
    """

    def __init__(self, model: nn.Module, sigma: float = 0.1, members: int = 10, *, seed: int = 0) -> None:
        super().__init__()
        check_budget("sigma", sigma)
        check_budget("members", members, positive=True, integer=True)
        generator = torch.Generator().manual_seed(seed)
        self.members = nn.ModuleList(perturb_weights(model, sigma, generator) for _ in range(members))
        self.sigma, self.seed = float(sigma), seed

    def forward(self, x: Tensor) -> Tensor:
        probabilities = torch.stack([member(x).softmax(-1) for member in self.members]).mean(0)
        return probabilities.clamp_min(1e-12).log()
