"""Interval bound propagation (Gowal et al. 2018, sec. 5): sound elementwise bounds on every layer
of a feed-forward network over an L-inf ball, and the verified (certified) accuracy they give.

`interval_bounds(model, lower, upper)` pushes a box through the layers in order, in about two
forward passes: affine layers (Linear, Conv2d, BatchNorm in eval mode) map the centre ``mu`` and
radius ``r`` of the box to ``layer(mu)`` and ``|W| r``; monotone layers (ReLU, max/avg pooling,
Flatten) map the two corners. `margin_lower_bounds` folds the last Linear layer into the
specification matrix ``C = e_y - e_j`` (the logit margins), which is tighter than bounding the
logits first (Gowal et al.'s elision). `verified` is True where every margin's lower bound is
positive: no point of the ball (clipped to [0, 1]) can change the prediction. Models are
``nn.Sequential`` chains (nested ones are flattened); any other layer is refused by class name.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from core.errors import InputError

__all__ = [
    "SUPPORTED",
    "input_box",
    "interval_bounds",
    "layers_of",
    "margin_lower_bounds",
    "verified",
    "verified_accuracy",
]

SUPPORTED = (
    nn.Linear,
    nn.Conv2d,
    nn.ReLU,
    nn.Flatten,
    nn.MaxPool2d,
    nn.AvgPool2d,
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.Identity,
)
"""Layer classes IBP propagates through."""


def layers_of(model: nn.Module) -> list[nn.Module]:
    """The layers of a (nested) ``nn.Sequential`` in order; refuses unsupported layers by class name."""
    if not isinstance(model, nn.Sequential):
        if isinstance(model, SUPPORTED):
            return [model]
        raise InputError("IBP needs an nn.Sequential of supported layers", item=type(model).__name__)
    layers: list[nn.Module] = []
    for layer in model:
        if isinstance(layer, nn.Sequential):
            layers += layers_of(layer)
        elif isinstance(layer, SUPPORTED):
            layers.append(layer)
        else:
            raise InputError(
                f"IBP does not support the layer {type(layer).__name__}",
                expected=", ".join(cls.__name__ for cls in SUPPORTED),
            )
    return layers


def input_box(x: Tensor, eps: float | Tensor) -> tuple[Tensor, Tensor]:
    """The L-inf ball of radius `eps` (a float or ``(n,)`` per example) around ``x``, clipped to [0, 1]."""
    if isinstance(eps, Tensor):
        eps = eps.view(-1, *([1] * (x.ndim - 1)))
    return (x - eps).clamp(0.0, 1.0), (x + eps).clamp(0.0, 1.0)


def _propagate(layer: nn.Module, lower: Tensor, upper: Tensor) -> tuple[Tensor, Tensor]:
    if isinstance(layer, nn.Linear | nn.Conv2d):
        mu, r = (upper + lower) / 2, (upper - lower) / 2
        mu = layer(mu)
        if isinstance(layer, nn.Linear):
            r = nn.functional.linear(r, layer.weight.abs())
        else:
            r = nn.functional.conv2d(
                r, layer.weight.abs(), None, layer.stride, layer.padding, layer.dilation, layer.groups
            )
        return mu - r, mu + r
    if isinstance(layer, nn.BatchNorm1d | nn.BatchNorm2d):
        if layer.training:
            raise InputError("IBP needs batch norm in eval mode", item=type(layer).__name__)
        mu, r = (upper + lower) / 2, (upper - lower) / 2
        scale = layer.weight / (layer.running_var + layer.eps).sqrt()
        shape = (1, -1) + (1,) * (mu.ndim - 2)
        mu, r = layer(mu), r * scale.abs().view(shape)
        return mu - r, mu + r
    return layer(lower), layer(upper)  # monotone: ReLU, pooling, Flatten, Identity


def interval_bounds(model: nn.Module, lower: Tensor, upper: Tensor) -> tuple[Tensor, Tensor]:
    """Elementwise bounds ``(lower, upper)`` of ``model``'s output over the box ``[lower, upper]``."""
    if lower.shape != upper.shape or bool((lower > upper).any()):
        raise InputError("the box needs lower <= upper of one shape", item=f"{tuple(lower.shape)}")
    for layer in layers_of(model):
        lower, upper = _propagate(layer, lower, upper)
    return lower, upper


def margin_lower_bounds(model: nn.Module, x: Tensor, y: Tensor, eps: float | Tensor) -> Tensor:
    """``(n, classes)`` lower bounds of ``z_y - z_j`` over the ball (``+inf`` at ``j = y``).

    The last layer must be ``nn.Linear``; it is folded into the specification matrix.
    """
    layers = layers_of(model)
    last = layers[-1]
    if not isinstance(last, nn.Linear):
        raise InputError("the last layer must be nn.Linear for margin bounds", item=type(last).__name__)
    lower, upper = input_box(x, eps)
    for layer in layers[:-1]:
        lower, upper = _propagate(layer, lower, upper)
    mu, r = (upper + lower) / 2, (upper - lower) / 2  # (n, d)
    w = last.weight[y][:, None, :] - last.weight[None, :, :]  # (n, k, d): rows of C W
    b = (last.bias[y][:, None] - last.bias[None, :]) if last.bias is not None else 0.0
    bound = (w @ mu[:, :, None])[..., 0] - (w.abs() @ r[:, :, None])[..., 0] + b
    return bound.scatter(1, y[:, None], float("inf"))


def verified(model: nn.Module, x: Tensor, y: Tensor, eps: float | Tensor) -> Tensor:
    """``(n,)`` bool: IBP proves that no point of the L-inf ball of radius `eps` changes the class from ``y``."""
    return (margin_lower_bounds(model, x, y, eps) > 0).all(1)


def verified_accuracy(model: nn.Module, x: Tensor, y: Tensor, eps: float, batch_size: int = 500) -> float:
    """Share of ``x (n, ...)`` classified ``y`` with an IBP certificate at L-inf radius `eps`."""
    from robust.guard import evaluation_mode

    hits = 0
    with evaluation_mode(model), torch.no_grad():
        for s in range(0, len(x), batch_size):
            hits += int(verified(model, x[s : s + batch_size], y[s : s + batch_size], eps).sum())
    return hits / max(len(x), 1)
