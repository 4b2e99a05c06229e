"""The invertible layers of RealNVP/Glow: actnorm, the invertible 1x1 convolution (LU), affine coupling, squeeze.

Every layer maps ``x (batch, channels, height, width)`` to ``(y, log_det)`` where ``log_det
(batch,)`` is ``log |det dy/dx|`` per image (nats), and has an exact `inverse`. The actnorm and 1x1
layers have log-determinants that do not depend on the input; an *additive* coupling has log-det 0,
so a flow made of those three only is the constant-volume Glow of Nalisnick et al. (2019).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from core.errors import InputError

__all__ = ["ActNorm", "AffineCoupling", "InvConv1x1", "Squeeze", "check_images"]


def check_images(x: torch.Tensor, channels: int, what: str) -> None:
    """Raise a one-line `InputError` unless `x` is ``(batch, channels, h, w)`` with `channels` channels."""
    if x.dim() != 4 or x.shape[1] != channels:
        raise InputError(f"{what} takes (batch, {channels}, height, width) tensors", item=tuple(x.shape))


class ActNorm(nn.Module):
    """Per-channel affine ``y = (x + bias) * exp(log_scale)``, initialised from the first batch (Glow, sec. 3.1).

    `initialize` sets bias and scale so the batch has zero mean and unit variance per channel;
    log-det ``= h * w * sum(log_scale)`` for every image.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        """Data-dependent initialisation from a batch ``(b, c, h, w)``."""
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        std = x.std(dim=(0, 2, 3), keepdim=True)
        self.bias.copy_(-mean)
        self.log_scale.copy_(-torch.log(std + 1e-6))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_images(x, self.channels, "ActNorm")
        log_det = x.shape[2] * x.shape[3] * self.log_scale.sum()
        return (x + self.bias) * torch.exp(self.log_scale), log_det.expand(x.shape[0])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y * torch.exp(-self.log_scale) - self.bias


class InvConv1x1(nn.Module):
    """Invertible 1x1 convolution with the LU parameterisation ``W = P L (U + diag(sign * exp(log_s)))`` (Glow, sec. 3.2).

    P is a fixed permutation, L unit lower triangular, U strictly upper triangular; initialised
    from a random rotation drawn from the global torch RNG (callers fork it). Log-det
    ``= h * w * sum(log_s)``.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        rotation, _ = torch.linalg.qr(torch.randn(channels, channels))
        permutation, lower, upper = torch.linalg.lu(rotation)
        diagonal = torch.diagonal(upper)
        self.register_buffer("permutation", permutation)
        self.register_buffer("sign", torch.sign(diagonal))
        self.register_buffer("lower_mask", torch.tril(torch.ones(channels, channels), -1))
        self.lower = nn.Parameter(lower)
        self.upper = nn.Parameter(torch.triu(upper, 1))
        self.log_s = nn.Parameter(torch.log(diagonal.abs()))

    def weight(self) -> torch.Tensor:
        """The ``(c, c)`` matrix W."""
        eye = torch.eye(self.channels, dtype=self.lower.dtype, device=self.lower.device)
        lower = self.lower * self.lower_mask + eye
        upper = self.upper * self.lower_mask.T + torch.diag(self.sign * torch.exp(self.log_s))
        return self.permutation @ lower @ upper

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_images(x, self.channels, "InvConv1x1")
        y = torch.einsum("ij,bjhw->bihw", self.weight(), x)
        log_det = x.shape[2] * x.shape[3] * self.log_s.sum()
        return y, log_det.expand(x.shape[0])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(self.weight()), y)


class AffineCoupling(nn.Module):
    """RealNVP/Glow coupling: the second half of the channels is shifted (and scaled) by a CNN of the first half.

    ``y_b = (x_b + t(x_a)) * s(x_a)`` with ``s = sigmoid(raw + 2)`` (Glow's parameterisation),
    log-det ``= sum log s``; ``additive=True`` drops the scale (log-det 0, NICE/constant-volume).
    The CNN is conv3x3-ReLU-conv1x1-ReLU-conv3x3 with the last layer zero-initialised (identity at start).
    """

    def __init__(self, channels: int, hidden: int, additive: bool = False) -> None:
        super().__init__()
        if channels < 2:
            raise InputError("a coupling layer needs at least 2 channels (squeeze first)", item=channels)
        self.channels, self.additive = channels, additive
        self.split = channels // 2
        out = (channels - self.split) * (1 if additive else 2)
        last = nn.Conv2d(hidden, out, 3, padding=1)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.net = nn.Sequential(
            nn.Conv2d(self.split, hidden, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(hidden, hidden, 1),
            nn.ReLU(),
            last,
        )

    def _shift_scale(self, xa: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        h = self.net(xa)
        if self.additive:
            return h, None
        shift, raw = h[:, 0::2], h[:, 1::2]
        return shift, torch.sigmoid(raw + 2.0)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_images(x, self.channels, "AffineCoupling")
        xa, xb = x[:, : self.split], x[:, self.split :]
        shift, scale = self._shift_scale(xa)
        if scale is None:
            return torch.cat([xa, xb + shift], 1), x.new_zeros(x.shape[0])
        yb = (xb + shift) * scale
        return torch.cat([xa, yb], 1), torch.log(scale).flatten(1).sum(1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        ya, yb = y[:, : self.split], y[:, self.split :]
        shift, scale = self._shift_scale(ya)
        xb = yb - shift if scale is None else yb / scale - shift
        return torch.cat([ya, xb], 1)


class Squeeze(nn.Module):
    """Space-to-depth: ``(b, c, h, w) -> (b, 4c, h/2, w/2)`` (RealNVP's squeeze), volume preserving."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, c, h, w = x.shape
        if h % 2 or w % 2:
            raise InputError("squeeze needs even height and width", item=tuple(x.shape))
        y = x.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(b, 4 * c, h // 2, w // 2)
        return y, x.new_zeros(b)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        b, c4, h, w = y.shape
        c = c4 // 4
        return y.reshape(b, c, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(b, c, 2 * h, 2 * w)


LOG_2PI = math.log(2 * math.pi)
