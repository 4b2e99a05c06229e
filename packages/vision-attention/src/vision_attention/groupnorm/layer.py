"""The Group Normalization layer (Wu & He 2018, eq. 1-3 with the GN set S_i) and the four normalisations.

GN normalises each example over ``C / G`` channels and all spatial positions: for ``x`` of shape
``(N, C, *)``, reshape to ``(N, G, C/G * prod(*))``, subtract the mean and divide by ``sqrt(var + eps)``
(biased variance), reshape back, then a per-channel affine ``gamma * x + beta``. Written out here because
the paper's method is the subject of the study (the issue asks for the layer itself); `torch.nn.GroupNorm`
computes the same function (the tests check values and gradients against it). `make_norm` builds the study's
four normalisations: BN is `torch.nn.BatchNorm2d`, and GN, LN (G = 1) and IN (G = C) are this one class, as
the paper defines them.
"""

from __future__ import annotations

import torch
from torch import nn

from core.errors import InputError

__all__ = ["GroupNorm", "make_norm"]


class GroupNorm(nn.Module):
    """Group normalisation of ``(N, C, *)`` inputs (any number of trailing dimensions, at least none).

    Args:
        num_groups: G, a divisor of `num_channels`.
        num_channels: C.
        eps: added to the variance.
        affine: learn per-channel ``weight`` (gamma, ones) and ``bias`` (beta, zeros).

    Raises:
        InputError: G is not a positive divisor of C; an input whose channel count is not C.
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True) -> None:
        super().__init__()
        for name, value in (("num_groups", num_groups), ("num_channels", num_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"GroupNorm {name} must be a positive integer", item=value)
        if num_channels % num_groups:
            raise InputError(
                "GroupNorm num_groups must divide num_channels",
                item=f"num_groups={num_groups}, num_channels={num_channels}",
            )
        self.num_groups, self.num_channels, self.eps = num_groups, num_channels, eps
        self.weight = nn.Parameter(torch.ones(num_channels)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_channels)) if affine else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, *) -> (N, C, *)``, normalised per example and group of channels."""
        if x.dim() < 2 or x.shape[1] != self.num_channels:
            raise InputError(
                "GroupNorm input must be (N, C, ...) with C channels",
                item=tuple(x.shape),
                expected=f"C = {self.num_channels}",
            )
        grouped = x.reshape(x.shape[0], self.num_groups, -1)
        mean = grouped.mean(dim=-1, keepdim=True)
        var = grouped.var(dim=-1, unbiased=False, keepdim=True)
        out = ((grouped - mean) / torch.sqrt(var + self.eps)).reshape(x.shape)
        if self.weight is not None:
            shape = (1, -1) + (1,) * (x.dim() - 2)
            out = out * self.weight.reshape(shape) + self.bias.reshape(shape)
        return out

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.weight is not None}"


def make_norm(kind: str, channels: int, groups: int) -> nn.Module:
    """``"batch"`` -> `torch.nn.BatchNorm2d`; ``"group"`` / ``"layer"`` / ``"instance"`` -> `GroupNorm`
    with `groups` / 1 / `channels` groups.

    Raises:
        InputError: an unknown kind.
    """
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return GroupNorm(groups, channels)
    if kind == "layer":
        return GroupNorm(1, channels)
    if kind == "instance":
        return GroupNorm(channels, channels)
    raise InputError("unknown normalisation", item=kind, expected="batch, group, layer or instance")
