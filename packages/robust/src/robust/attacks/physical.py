"""Adversarial lighting and geometry (Liu et al., ICLR 2019, sec. 10): attacks on the physical
parameters of a rendered scene (`robust.render`) instead of its pixels.

- `attack_lighting`: PGD on the 9 spherical-harmonic lighting coefficients, ``L + delta`` with
  ``||delta||_2 <= eps`` per image (normalised gradient steps, L2 projection).
- `attack_geometry`: PGD on the height field's vertices, ``z + delta`` with ``|delta| <= eps``
  (height units, pixels) per vertex, each step's gradient smoothed by a Gaussian of `smooth` pixels
  so the surface stays smooth (Liu et al. regularise the geometry change with a Laplacian term).

Both ascend the classifier's cross-entropy at ``render(scene)``, stop for examples once fooled,
and return a `PhysicalResult` with the plausibility measures: the lighting change's L2 norm, the
mean squared discrete Laplacian of the height change (mesh smoothness; 0 for an affine change),
and the pixel change's L-inf and L2 norms (the paper's point: physically plausible changes can be
large in pixel norms).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from robust.attacks.base import check_budget
from robust.attacks.flow import gaussian_smooth
from robust.attacks.norms import normalize_l2, project_l2
from robust.guard import evaluation_mode
from robust.render import Scene, render

__all__ = ["PhysicalResult", "attack_geometry", "attack_lighting", "laplacian_energy"]


@dataclass(frozen=True)
class PhysicalResult:
    """Outcome of a physical attack on ``n`` scenes.

    Attributes:
        scene: the adversarial scenes.
        images: ``(n, 1, h, w)`` their renders.
        fooled: ``(n,)`` bool, misclassified at the end.
        lighting_change: ``(n,)`` L2 norm of the lighting change.
        laplacian: ``(n,)`` mean squared Laplacian of the height change.
        pixel_linf, pixel_l2: ``(n,)`` norms of the change of the rendered image.
        gradient_calls: ``(n,)`` gradient evaluations per scene.
    """

    scene: Scene
    images: Tensor
    fooled: Tensor
    lighting_change: Tensor
    laplacian: Tensor
    pixel_linf: Tensor
    pixel_l2: Tensor
    gradient_calls: Tensor


def laplacian_energy(height: Tensor) -> Tensor:
    """``(n,)`` mean over interior vertices of the squared 5-point Laplacian of ``height (n, h, w)``."""
    lap = (
        height[:, 1:-1, :-2]
        + height[:, 1:-1, 2:]
        + height[:, :-2, 1:-1]
        + height[:, 2:, 1:-1]
        - 4 * height[:, 1:-1, 1:-1]
    )
    return lap.pow(2).flatten(1).mean(1)


def _attack(model, scene, y, field, eps, alpha, steps, project, smooth):
    original = render(scene)
    delta = torch.zeros_like(getattr(scene, field))
    calls = torch.zeros(len(y), dtype=torch.long)
    with evaluation_mode(model):
        for _ in range(steps):
            with torch.no_grad():
                current = scene.replace(**{field: getattr(scene, field) + delta})
                active = model(render(current)).argmax(1) == y
            if not bool(active.any()):
                break
            point = delta.detach().requires_grad_(True)
            logits = model(render(scene.replace(**{field: getattr(scene, field) + point})))
            loss = nn.functional.cross_entropy(logits, y, reduction="sum")
            (grad,) = torch.autograd.grad(loss, point)
            grad = smooth(grad)
            mask = active.to(delta.dtype).view(-1, *([1] * (delta.ndim - 1)))
            delta = project(delta + mask * alpha * normalize_l2(grad)).detach()
            calls += active.cpu().long()
        final = scene.replace(**{field: getattr(scene, field) + delta})
        with torch.no_grad():
            images = render(final)
            fooled = model(images).argmax(1) != y
    change = (images - original).flatten(1)
    return PhysicalResult(
        final,
        images,
        fooled,
        (final.lighting - scene.lighting).norm(dim=1),
        laplacian_energy(final.height - scene.height),
        change.abs().amax(1),
        change.norm(dim=1),
        calls,
    )


def attack_lighting(
    model: nn.Module, scene: Scene, y: Tensor, eps: float = 1.0, alpha: float = 0.1, steps: int = 20
) -> PhysicalResult:
    """Adversarial lighting: ``||delta L||_2 <= eps`` on the SH coefficients of each scene.

    Args:
        model: classifier of the renders ``(n, 1, h, w) -> (n, classes)``.
        scene: the scenes; y: ``(n,)`` their true labels.
        eps: L2 radius of the coefficient change; alpha: L2 step; steps: iterations at most.
    """
    check_budget("eps", eps)
    check_budget("alpha", alpha, positive=True)
    check_budget("steps", steps, positive=True, integer=True)
    return _attack(model, scene, y, "lighting", eps, alpha, steps, lambda d: project_l2(d, eps), lambda g: g)


def attack_geometry(
    model: nn.Module,
    scene: Scene,
    y: Tensor,
    eps: float = 0.5,
    alpha: float = 1.0,
    steps: int = 20,
    smooth: float = 1.0,
) -> PhysicalResult:
    """Adversarial geometry: ``|delta z| <= eps`` (pixels of height) per vertex of each height field.

    Args:
        eps: largest height change of a vertex; alpha: L2 step of the (smoothed) gradient direction
            over the whole height field; steps: iterations at most; smooth: Gaussian sigma (pixels)
            applied to each step's gradient (0: none).
    """
    check_budget("eps", eps)
    check_budget("alpha", alpha, positive=True)
    check_budget("steps", steps, positive=True, integer=True)
    check_budget("smooth", smooth)
    return _attack(
        model,
        scene,
        y,
        "height",
        eps,
        alpha,
        steps,
        lambda d: d.clamp(-eps, eps),
        lambda g: gaussian_smooth(g[:, None], smooth)[:, 0],
    )
