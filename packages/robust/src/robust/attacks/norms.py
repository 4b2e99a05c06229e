"""Per-example norms, normalisation and projections onto L-inf and L2 balls (batched over dim 0)."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["l2_norm", "linf_norm", "normalize_l2", "project", "project_l2", "project_linf"]

_TINY = 1e-12


def _view(values: Tensor, like: Tensor) -> Tensor:
    return values.view(-1, *([1] * (like.ndim - 1)))


def l2_norm(delta: Tensor) -> Tensor:
    """``(n,)`` Euclidean norm of each example of ``delta (n, ...)``."""
    return delta.flatten(1).norm(p=2, dim=1)


def linf_norm(delta: Tensor) -> Tensor:
    """``(n,)`` largest absolute entry of each example."""
    return delta.flatten(1).abs().amax(dim=1)


def normalize_l2(g: Tensor) -> Tensor:
    """Each example scaled to unit L2 norm (zero stays zero)."""
    return g / _view(l2_norm(g).clamp_min(_TINY), g)


def project_linf(delta: Tensor, eps: float) -> Tensor:
    """Euclidean projection onto the L-inf ball of radius `eps` (clipping)."""
    return delta.clamp(-eps, eps)


def project_l2(delta: Tensor, eps: float) -> Tensor:
    """Euclidean projection onto the L2 ball of radius `eps` (rescale the examples outside it)."""
    norms = l2_norm(delta)
    factor = torch.where(norms > eps, eps / norms.clamp_min(_TINY), torch.ones_like(norms))
    return delta * _view(factor, delta)


def project(x: Tensor, x_adv: Tensor, eps: float, norm: str) -> Tensor:
    """``x_adv`` moved back into the `norm`-ball of radius `eps` around ``x`` and into [0, 1].

    Clipping to [0, 1] after the ball projection never increases any coordinate's distance to
    ``x`` (itself in [0, 1]), so the result stays inside the ball.
    """
    delta = x_adv - x
    delta = project_linf(delta, eps) if norm == "linf" else project_l2(delta, eps)
    return (x + delta).clamp(0.0, 1.0)
