"""The orthonormal 2-D DCT and low-frequency noise (Guo, Frank & Weinberger, "Low Frequency
Adversarial Perturbation", UAI 2019).

Low-frequency noise is Gaussian noise drawn only in the top-left ``r x r`` block of DCT
coefficients (``r = ceil(ratio * side)``) and mapped back to pixels by the inverse DCT; the black-box
attacks search in this ``r^2``-dimensional subspace instead of all ``side^2`` pixels per channel.
The DCT-II matrix is written out (not `scipy.fft`) so it stays on torch tensors and devices; the
tests check it against ``scipy.fft.dct(norm="ortho")``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from core.errors import InputError

__all__ = ["dct2", "dct_matrix", "idct2", "low_frequency_noise", "low_frequency_side"]


def dct_matrix(n: int, *, dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu") -> Tensor:
    """The orthonormal DCT-II matrix ``C (n, n)``: ``C[k, i] = s_k cos(pi (2i + 1) k / 2n)``,
    ``s_0 = sqrt(1/n)``, ``s_k = sqrt(2/n)``; ``C @ C.T = I``."""
    if n < 1:
        raise InputError("DCT size must be >= 1", item=n)
    k = torch.arange(n, dtype=torch.float64)[:, None]
    i = torch.arange(n, dtype=torch.float64)[None, :]
    matrix = torch.cos(math.pi * (2 * i + 1) * k / (2 * n)) * math.sqrt(2.0 / n)
    matrix[0] /= math.sqrt(2.0)
    return matrix.to(dtype=dtype, device=device)


def dct2(x: Tensor) -> Tensor:
    """2-D orthonormal DCT over the last two dims of ``x (..., h, w)``."""
    rows = dct_matrix(x.shape[-2], dtype=x.dtype, device=x.device)
    cols = dct_matrix(x.shape[-1], dtype=x.dtype, device=x.device)
    return rows @ x @ cols.T


def idct2(coefficients: Tensor) -> Tensor:
    """Inverse of `dct2` (the transpose, the DCT being orthonormal)."""
    rows = dct_matrix(coefficients.shape[-2], dtype=coefficients.dtype, device=coefficients.device)
    cols = dct_matrix(coefficients.shape[-1], dtype=coefficients.dtype, device=coefficients.device)
    return rows.T @ coefficients @ cols


def low_frequency_side(side: int, ratio: float) -> int:
    """Side ``r = ceil(ratio * side)`` of the kept block of coefficients, in [1, side]."""
    if not 0 < ratio <= 1:
        raise InputError("low-frequency ratio must lie in (0, 1]", item=ratio)
    return max(1, min(side, math.ceil(ratio * side)))


def low_frequency_noise(shape: tuple[int, ...], ratio: float, generator: torch.Generator) -> Tensor:
    """Gaussian noise ``shape (..., h, w)`` restricted to the lowest ``r x r`` DCT frequencies (CPU).

    Each kept coefficient is standard normal, so the noise is a standard Gaussian in the
    ``r_h * r_w``-dimensional low-frequency subspace (its pixel-space norm is that of the coefficients).
    """
    *lead, h, w = shape
    rh, rw = low_frequency_side(h, ratio), low_frequency_side(w, ratio)
    coefficients = torch.zeros(*lead, h, w)
    coefficients[..., :rh, :rw] = torch.randn(*lead, rh, rw, generator=generator)
    return idct2(coefficients)
