"""Universal adversarial perturbations: one eps-ball perturbation that fools a model on most images.

`fit_universal_perturbation` is the stochastic-gradient generator of Shafahi et al. ("Universal
adversarial training", AAAI 2020, Algorithm 1): over epochs of minibatches, ascend the mean of the
clipped cross-entropy ``min(CE(f(x + v), y), beta)`` (the clip keeps images that are already
fooled from dominating) with a signed step, projecting ``v`` onto the L-inf ball and keeping
``x + v`` in [0, 1] by clipping inside the loss. `fooling_rate` is Moosavi-Dezfooli et al.'s
measure (CVPR 2017): the share of images whose predicted label changes when ``v`` is added.
`fit_deepfool_universal` is Moosavi-Dezfooli et al.'s own construction (Algorithm 1): pass over the
images in random order; whenever ``x_i + v`` keeps ``x_i``'s label, add DeepFool's minimal
perturbation that sends ``x_i + v`` across the nearest boundary and project ``v`` back onto the
eps-ball (L-inf or L2); stop when the fooling rate on the fitting images reaches ``1 - delta`` or
after `max_passes`. Universal adversarial training (Shafahi et al.) and its game-theoretic variant
(Perolat et al., fictitious play) train the model against these generators:
`robust.defenses.training`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.attacks.base import check_budget
from robust.attacks.norms import project_l2, project_linf
from robust.guard import evaluation_mode

__all__ = ["UniversalResult", "fit_deepfool_universal", "fit_universal_perturbation", "fooling_rate"]


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
    _check_images(x, y)
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


def _check_images(x: Tensor, y: Tensor | None) -> None:
    if not x.is_floating_point() or float(x.min()) < 0 or float(x.max()) > 1:
        raise InputError("images must be floating point in [0, 1]")
    if y is not None and y.shape != (len(x),):
        raise InputError(f"labels must have shape ({len(x)},)", item=f"shape {tuple(y.shape)}")


def fit_deepfool_universal(
    model: nn.Module,
    x: Tensor,
    eps: float,
    *,
    norm: str = "linf",
    delta: float = 0.2,
    max_passes: int = 5,
    overshoot: float = 0.02,
    deepfool_steps: int = 10,
    candidates: int = 10,
    batch_size: int = 1,
    seed: int = 0,
) -> UniversalResult:
    """Moosavi-Dezfooli et al.'s universal perturbation of ``model`` for images ``x (n, c, h, w)``.

    Labels are not needed: an image counts as fooled when ``clip(x + v, 0, 1)`` changes its
    predicted class.

    Args:
        eps: radius of the ball ``v`` lives in (L-inf per pixel, or L2 of the whole image).
        norm: ``"linf"`` or ``"l2"``.
        delta: stop once the fooling rate on ``x`` reaches ``1 - delta`` (the paper's 0.2).
        max_passes: passes over ``x`` at most.
        overshoot, deepfool_steps, candidates: DeepFool's (`robust.attacks.deepfool`).
        batch_size: 1 is the paper's sequential algorithm; ``b > 1`` computes DeepFool for ``b``
            images at the same ``v`` in one batched call and then adds their steps one after the
            other, projecting after each (the same updates in order, each computed up to ``b - 1``
            updates late; several times faster on a CPU).
        seed: seeds the order of the images in each pass.

    Returns:
        A `UniversalResult` holding the ``v`` of the pass with the highest fooling rate on ``x`` (the
        rate is not monotone over passes: each projection can undo earlier gains); ``history`` has one row per pass (fooling rate on ``x``, DeepFool
        updates made) and ``gradient_calls`` counts per-image gradient evaluations.

    Raises:
        InputError: a negative eps, an unknown norm, delta outside [0, 1], images outside [0, 1].
    """
    from robust.attacks.deepfool import DeepFool, deepfool_perturbation

    check_budget("eps", eps)
    check_budget("delta", delta)
    check_budget("max_passes", max_passes, positive=True, integer=True)
    check_budget("batch_size", batch_size, positive=True, integer=True)
    if norm not in ("linf", "l2"):
        raise InputError("unknown norm", item=f"norm={norm!r}", expected="'linf' or 'l2'")
    if delta > 1:
        raise InputError("delta must lie in [0, 1]", item=f"delta={delta}")
    _check_images(x, None)
    project = project_linf if norm == "linf" else project_l2
    attack = DeepFool(model, deepfool_steps, overshoot, candidates)
    labels = _predict(model, x)
    generator = torch.Generator().manual_seed(seed)
    v = torch.zeros(1, *x.shape[1:], device=x.device, dtype=x.dtype)
    history: list[dict[str, float]] = []
    calls = torch.zeros((), dtype=torch.long)
    best, best_rate = v, -1.0
    with evaluation_mode(model):
        for _ in range(max_passes):
            updates = 0
            for chunk in torch.randperm(len(x), generator=generator).split(batch_size):
                chunk = chunk.to(x.device)
                points = (x[chunk] + v).clamp(0, 1)
                with torch.no_grad():
                    keep = model(points).argmax(1) == labels[chunk]
                if not bool(keep.any()):
                    continue
                attack._counter = torch.zeros(int(keep.sum()), dtype=torch.long)
                steps = deepfool_perturbation(
                    attack,
                    points[keep],
                    labels[chunk][keep],
                    steps=deepfool_steps,
                    overshoot=overshoot,
                    candidates=candidates,
                    clip=True,
                )
                calls += attack._counter.sum()
                attack._counter = None
                for step in steps:
                    v = project(v + step[None], eps).detach()
                    updates += 1
            rate = fooling_rate(model, x, v)
            history.append({"fooling_rate": rate, "updates": float(updates)})
            if rate > best_rate:
                best, best_rate = v, rate
            if rate >= 1 - delta:
                break
    return UniversalResult(best, history, int(calls))
