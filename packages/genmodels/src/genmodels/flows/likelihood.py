"""Uniform dequantisation and bits per dimension (Theis et al. 2016; RealNVP/Glow's reporting unit).

Images with `levels` grey levels, ``x = k / (levels - 1)`` for integer k, become continuous
``y = (k + u) / levels`` with ``u ~ U[0, 1)^D`` in [0, 1]^D. For any density p on [0, 1]^D,
``log P(k) >= E_u[log p(y)] - D log(levels)`` (Jensen), so ``bits/dim = -(log p(y) - D log levels)
/ (D log 2)`` is an upper bound on the discrete model's code length per pixel.
"""

from __future__ import annotations

import math

import torch

from core.errors import InputError

__all__ = ["bits_per_dim", "dequantize", "discrete_log_likelihood"]


def dequantize(x: torch.Tensor, levels: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``(k + u) / levels`` for images `x` in [0, 1] of `levels` grey levels (any shape, same shape back).

    Raises:
        InputError: values outside [0, 1].
    """
    if x.numel() and (float(x.min()) < 0 or float(x.max()) > 1):
        raise InputError("dequantize takes images in [0, 1]", item=(float(x.min()), float(x.max())))
    k = torch.round(x * (levels - 1))
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype).to(x.device)
    return (k + u) / levels


def discrete_log_likelihood(log_prob_continuous: torch.Tensor, dims: int, levels: int) -> torch.Tensor:
    """The dequantisation correction: ``log p(y) - D log(levels)``, nats per image (a lower bound on log P(k))."""
    return log_prob_continuous - dims * math.log(levels)


def bits_per_dim(log_prob_continuous: torch.Tensor, dims: int, levels: int) -> torch.Tensor:
    """``-(log p(y) - D log levels) / (D ln 2)``: bits per dimension of each image, shape of the input."""
    return -discrete_log_likelihood(log_prob_continuous, dims, levels) / (dims * math.log(2))
