"""Universal adversarial perturbations: one eps-ball perturbation that fools a model on most images.

`fit_universal_perturbation` is the stochastic-gradient generator of Shafahi et al. ("Universal
adversarial training", AAAI 2020, Algorithm 1): over epochs of minibatches, ascend the mean of the
clipped cross-entropy ``min(CE(f(x + v), y), beta)`` (the clip keeps images that are already
fooled from dominating) with a signed step, projecting ``v`` onto the L-inf ball and keeping
``x + v`` in [0, 1] by clipping inside the loss. `fooling_rate` is Moosavi-Dezfooli et al.'s
measure (CVPR 2017): the share of images whose predicted label changes when ``v`` is added.
The DeepFool-based iterative construction of Moosavi-Dezfooli et al., universal adversarial
training of the model and the game-theoretic variant of sec. 18 are planned, not implemented yet.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.attacks.base import check_budget
from robust.guard import evaluation_mode

__all__ = ["UniversalResult", "fit_universal_perturbation", "fooling_rate"]


@dataclass(frozen=True)
class UniversalResult:
    """A fitted universal perturbation.

    Attributes:
        perturbation: ``(1, c, h, w)`` with entries in [-eps, eps].
        history: per epoch, the mean clipped loss and the fooling rate on the fitting images.
        gradient_calls: minibatch gradient evaluations spent (each over ``batch_size`` images).
    """

    perturbation: Tensor
    history: list[dict[str, float]]
    gradient_calls: int


def _predict(model: nn.Module, x: Tensor, batch_size: int = 500) -> Tensor:
    with evaluation_mode(model), torch.no_grad():
        return torch.cat([model(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


def fooling_rate(model: nn.Module, x: Tensor, perturbation: Tensor) -> float:
    """Share of images ``x (n, c, h, w)`` whose predicted class changes under ``clip(x + v, 0, 1)``."""
    return float((_predict(model, x) != _predict(model, (x + perturbation).clamp(0, 1))).float().mean())


def fit_universal_perturbation(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    eps: float,
    *,
    alpha: float | None = None,
    epochs: int = 5,
    batch_size: int = 100,
    beta: float = 9.0,
    seed: int = 0,
) -> UniversalResult:
    """Fit one L-inf universal perturbation for ``model`` on images ``x (n, c, h, w)``, labels ``y (n,)``.

    Args:
        eps: L-inf radius of the perturbation.
        alpha: signed step per minibatch (default ``eps / 10``).
        epochs: passes over ``x``.
        batch_size: images per step.
        beta: clip of the per-image cross-entropy (Shafahi et al. use a clipped loss; 9 nats here).
        seed: seeds the minibatch order.

    Raises:
        InputError: a negative eps, non-positive step/epochs/batch, or images outside [0, 1].
    """
    check_budget("eps", eps)
    alpha = eps / 10 if alpha is None else alpha
    check_budget("alpha", alpha, positive=True)
    check_budget("epochs", epochs, positive=True, integer=True)
    check_budget("batch_size", batch_size, positive=True, integer=True)
    check_budget("beta", beta, positive=True)
    if not x.is_floating_point() or float(x.min()) < 0 or float(x.max()) > 1:
        raise InputError("images must be floating point in [0, 1]")
    if y.shape != (len(x),):
        raise InputError(f"labels must have shape ({len(x)},)", item=f"shape {tuple(y.shape)}")
    generator = torch.Generator().manual_seed(seed)
    v = torch.zeros(1, *x.shape[1:], device=x.device, dtype=x.dtype)
    history, calls = [], 0
    with evaluation_mode(model):
        for _ in range(epochs):
            order = torch.randperm(len(x), generator=generator).to(x.device)
            total = 0.0
            for batch in order.split(batch_size):
                point = v.clone().requires_grad_(True)
                loss = nn.functional.cross_entropy(
                    model((x[batch] + point).clamp(0, 1)), y[batch], reduction="none"
                )
                value = loss.clamp(max=beta).mean()
                (grad,) = torch.autograd.grad(value, point)
                v = (v + alpha * grad.sign()).clamp(-eps, eps).detach()
                total += float(value.detach()) * len(batch)
                calls += 1
            history.append({"clipped_loss": total / len(x), "fooling_rate": fooling_rate(model, x, v)})
    return UniversalResult(v, history, calls)
