"""Saliency-guided adaptive JPEG quantisation (Prakash et al., DCC 2018; sec. 32 of the notes).

JPEG's lossy step on 8x8 (`block`) tiles: level shift to [-128, 127], orthonormal 2-D DCT per
tile, division by the quantisation table of the tile's quality (the IJG scaling of the standard
luminance table, `quantisation_table`), rounding, and the inverse. Adaptive quantisation chooses
each tile's quality from a saliency map: salient tiles (the object) keep a high quality,
background tiles a low one, so adversarial noise off the object is quantised away while the object
keeps its detail. Saliency here is the model-free spectral-residual map of Hou & Zhang (2007)
(`spectral_residual_saliency`; the paper uses a saliency detector, not named in our notes); each
tile's mean saliency, over the image's most salient tile, picks one of `qualities` (ascending) by
equal-width bins. One quality level is plain JPEG.

Rounding has no useful gradient, so the forward runs under ``torch.no_grad``; an attacker adapts
with BPDA (the identity backward, `robust.attacks.adaptive.BPDA`), as Athalye et al. did for JPEG.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.attacks.dct import dct_matrix

__all__ = [
    "LUMINANCE_TABLE",
    "AdaptiveJPEG",
    "jpeg_quantise",
    "quantisation_table",
    "spectral_residual_saliency",
]

LUMINANCE_TABLE = (
    (16, 11, 10, 16, 24, 40, 51, 61),
    (12, 12, 14, 19, 26, 58, 60, 55),
    (14, 13, 16, 24, 40, 57, 69, 56),
    (14, 17, 22, 29, 51, 87, 80, 62),
    (18, 22, 37, 56, 68, 109, 103, 77),
    (24, 35, 55, 64, 81, 104, 113, 92),
    (49, 64, 78, 87, 103, 121, 120, 101),
    (72, 92, 95, 98, 112, 100, 103, 99),
)
"""The JPEG standard's (ITU T.81, Annex K) luminance quantisation table at quality 50."""


def _check_quality(quality: object) -> int:
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise InputError("JPEG quality must be an integer in [1, 100]", item=f"quality={quality!r}")
    return quality


def quantisation_table(quality: int, block: int = 8) -> Tensor:
    """The IJG quantisation table of `quality` (1..100): the standard table scaled by ``5000 / q``
    (``q < 50``) or ``200 - 2 q``, ``floor((T s + 50) / 100)`` clipped to [1, 255]; ``(block, block)``.

    A `block` other than 8 samples the 8x8 table at ``(8 i // block, 8 j // block)``.
    """
    _check_quality(quality)
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality
    base = torch.tensor(LUMINANCE_TABLE, dtype=torch.float64)
    index = torch.arange(block) * 8 // block
    table = torch.floor((base[index][:, index] * scale + 50) / 100).clamp(1, 255)
    return table.float()


def jpeg_quantise(x: Tensor, qualities: Tensor, block: int = 8) -> Tensor:
    """JPEG's DCT quantisation of ``x (n, c, h, w)`` in [0, 1] with a quality per tile.

    Args:
        x: images; sides not divisible by `block` are padded by edge replication and cropped back.
        qualities: ``(n, ceil(h / block), ceil(w / block))`` integer JPEG qualities (1..100) per tile.
        block: the tile side (JPEG: 8).

    Returns:
        the decoded images, clipped to [0, 1] (the pixels themselves are not rounded to 8 bits).
    """
    if x.ndim != 4:
        raise InputError("jpeg_quantise takes (n, c, h, w) images", item=tuple(x.shape))
    n, c, h, w = x.shape
    rows, cols = math.ceil(h / block), math.ceil(w / block)
    if tuple(qualities.shape) != (n, rows, cols):
        raise InputError(
            "one quality per tile expected", item=tuple(qualities.shape), expected=f"{(n, rows, cols)}"
        )
    values, index = torch.unique(qualities.long(), return_inverse=True)
    tables = torch.stack([quantisation_table(int(q), block) for q in values]).to(x.device, x.dtype)
    padded = nn.functional.pad(x, (0, cols * block - w, 0, rows * block - h), mode="replicate")
    tiles = padded.reshape(n, c, rows, block, cols, block).permute(0, 1, 2, 4, 3, 5) * 255 - 128
    basis = dct_matrix(block, dtype=x.dtype, device=x.device)
    coefficients = basis @ tiles @ basis.T
    step = tables[index.to(x.device)][:, None]  # (n, 1, rows, cols, block, block)
    decoded = basis.T @ (torch.round(coefficients / step) * step) @ basis
    out = (decoded + 128) / 255
    out = out.permute(0, 1, 2, 4, 3, 5).reshape(n, c, rows * block, cols * block)[..., :h, :w]
    return out.clamp(0, 1)


def spectral_residual_saliency(x: Tensor, sigma: float = 1.0) -> Tensor:
    """Hou & Zhang's spectral-residual saliency of ``x (n, c, h, w)``: ``(n, h, w)``, each map in [0, 1].

    ``A = log(1 + |F(x)|)`` of the channel-mean image, residual ``R = A - box3(A)``, saliency
    ``|F^-1(exp(R + i phase))|^2`` smoothed by a Gaussian of `sigma` px and divided by its maximum.
    """
    gray = x.mean(1)
    spectrum = torch.fft.fft2(gray)
    amplitude = torch.log1p(spectrum.abs())
    smooth = nn.functional.avg_pool2d(
        nn.functional.pad(amplitude[:, None], (1, 1, 1, 1), mode="circular"), 3, stride=1
    )[:, 0]
    saliency = torch.fft.ifft2(torch.polar(torch.exp(amplitude - smooth), spectrum.angle())).abs() ** 2
    if sigma > 0:
        radius = max(1, math.ceil(2 * sigma))
        t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
        kernel = torch.exp(-(t**2) / (2 * sigma**2))
        kernel = kernel / kernel.sum()
        s = saliency[:, None]
        s = nn.functional.conv2d(
            nn.functional.pad(s, (radius, radius, 0, 0), mode="replicate"), kernel.view(1, 1, 1, -1)
        )
        s = nn.functional.conv2d(
            nn.functional.pad(s, (0, 0, radius, radius), mode="replicate"), kernel.view(1, 1, -1, 1)
        )
        saliency = s[:, 0]
    return saliency / saliency.flatten(1).amax(1).clamp_min(1e-12)[:, None, None]


class AdaptiveJPEG(nn.Module):
    """Saliency-guided adaptive JPEG quantisation as an input purifier (no gradient).

    Args:
        qualities: ascending JPEG qualities; tile saliency (relative to the image's most salient
            tile) in ``[k / L, (k + 1) / L)`` gets ``qualities[k]``. One value: plain JPEG.
        block: the tile side (JPEG: 8).
        sigma: Gaussian smoothing of the saliency map, px.
    """

    def __init__(self, qualities: tuple[int, ...] = (10, 50, 90), block: int = 8, sigma: float = 1.0) -> None:
        super().__init__()
        if not qualities:
            raise InputError("AdaptiveJPEG needs at least one quality", item=qualities)
        for q in qualities:
            _check_quality(q)
        if list(qualities) != sorted(set(qualities)):
            raise InputError("qualities must be strictly ascending", item=f"qualities={tuple(qualities)!r}")
        if isinstance(block, bool) or not isinstance(block, int) or block < 1:
            raise InputError("block must be a positive integer", item=f"block={block!r}")
        if not sigma >= 0:
            raise InputError("sigma must be >= 0", item=f"sigma={sigma!r}")
        self.qualities, self.block, self.sigma = tuple(qualities), block, float(sigma)

    def tile_levels(self, x: Tensor) -> Tensor:
        """``(n, rows, cols)`` indices into `qualities` from the tiles' mean saliency."""
        n, _, h, w = x.shape
        levels = len(self.qualities)
        rows, cols = math.ceil(h / self.block), math.ceil(w / self.block)
        if levels == 1:
            return torch.zeros(n, rows, cols, dtype=torch.long, device=x.device)
        saliency = spectral_residual_saliency(x, self.sigma)[:, None]
        saliency = nn.functional.pad(saliency, (0, cols * self.block - w, 0, rows * self.block - h))
        tiles = nn.functional.avg_pool2d(saliency, self.block)[:, 0]
        relative = tiles / tiles.flatten(1).amax(1).clamp_min(1e-12)[:, None, None]
        return (relative * levels).floor().long().clamp(0, levels - 1)

    @torch.no_grad()
    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4:
            raise InputError("AdaptiveJPEG takes (n, c, h, w) images", item=tuple(x.shape))
        qualities = torch.tensor(self.qualities, device=x.device)[self.tile_levels(x)]
        return jpeg_quantise(x, qualities, self.block)
