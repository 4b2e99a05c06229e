"""Input-purification defenses and their wrapper (sec. 30 of the robust paper notes).

- `PixelDeflection(window, deflections, threshold)` (Prakash et al. 2018): each of `deflections`
  randomly chosen pixels per image takes the value of a random pixel within ``+-window`` of it, then
  a wavelet denoiser soft-thresholds the detail coefficients of a one-level orthonormal Haar
  transform at `threshold` (the paper uses BayesShrink on a deeper wavelet; one Haar level keeps it
  small). Random pixels come from the module's own generator, advanced at every call (a randomised
  defense: EOT applies). Its output carries no gradient (``torch.no_grad``), as the reference
  implementation in numpy has none: plain gradient attacks on the defended model see zeros.
- `Defended(model, transform)`: ``model(transform(x))``, an ``nn.Module`` classifier.

Athalye & Carlini's finding: pixel deflection (and the guided denoiser) fall to PGD once the
attack is adapted: BPDA (the defense's backward pass replaced by the identity,
`robust.attacks.adaptive.BPDA`) with EOT over its randomness.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.attacks.base import check_budget

__all__ = ["Defended", "PixelDeflection", "haar_soft_threshold"]


def haar_soft_threshold(x: Tensor, threshold: float) -> Tensor:
    """Soft-threshold the detail coefficients of a one-level orthonormal 2-D Haar transform of ``x (n, c, h, w)``.

    Needs even ``h`` and ``w``; ``threshold = 0`` returns ``x`` (to float rounding).
    """
    check_budget("threshold", threshold)
    h, w = x.shape[-2:]
    if h % 2 or w % 2:
        raise InputError("the Haar denoiser needs even image sides", item=f"{h}x{w}")
    a, b = x[..., 0::2, 0::2], x[..., 0::2, 1::2]
    c, d = x[..., 1::2, 0::2], x[..., 1::2, 1::2]
    low = (a + b + c + d) / 2
    details = [(a - b + c - d) / 2, (a + b - c - d) / 2, (a - b - c + d) / 2]
    horizontal, vertical, diagonal = (t.sign() * (t.abs() - threshold).clamp_min(0) for t in details)
    out = torch.empty_like(x)
    out[..., 0::2, 0::2] = (low + horizontal + vertical + diagonal) / 2
    out[..., 0::2, 1::2] = (low - horizontal + vertical - diagonal) / 2
    out[..., 1::2, 0::2] = (low + horizontal - vertical - diagonal) / 2
    out[..., 1::2, 1::2] = (low - horizontal - vertical + diagonal) / 2
    return out


class PixelDeflection(nn.Module):
    """Random local pixel redistribution followed by Haar soft-threshold denoising (no gradient).

    Args:
        window: a deflected pixel copies a pixel at most `window` rows/columns away.
        deflections: deflected pixels per image (drawn with replacement).
        threshold: soft threshold of the Haar detail coefficients (0: no denoising).
        seed: the generator of the random pixels (advanced at every call).
    """

    def __init__(self, window: int = 2, deflections: int = 100, threshold: float = 0.05, *, seed: int = 0):
        super().__init__()
        check_budget("window", window, positive=True, integer=True)
        check_budget("deflections", deflections, integer=True)
        check_budget("threshold", threshold)
        self.window, self.deflections, self.threshold = window, deflections, float(threshold)
        self.generator = torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        k, g = self.deflections, self.generator
        rows, cols = torch.randint(0, h, (n, k), generator=g), torch.randint(0, w, (n, k), generator=g)
        shift = torch.randint(-self.window, self.window + 1, (2, n, k), generator=g)
        source_rows, source_cols = (rows + shift[0]).clamp(0, h - 1), (cols + shift[1]).clamp(0, w - 1)
        flat = x.reshape(n, c, h * w).clone()
        target = (rows * w + cols).to(x.device)[:, None, :].expand(n, c, k)
        source = (source_rows * w + source_cols).to(x.device)[:, None, :].expand(n, c, k)
        flat.scatter_(2, target, torch.gather(x.reshape(n, c, h * w), 2, source))
        out = flat.reshape(n, c, h, w)
        if self.threshold > 0:
            out = haar_soft_threshold(out, self.threshold)
        return out.clamp(0, 1)


class Defended(nn.Module):
    """``model(transform(x))``: a classifier behind an input transformation (purification defense)."""

    def __init__(self, model: nn.Module, transform: nn.Module) -> None:
        super().__init__()
        self.model, self.transform = model, transform

    def forward(self, x: Tensor) -> Tensor:
        return self.model(self.transform(x))
