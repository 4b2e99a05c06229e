"""In-fills: what a dropped pixel is replaced with (Chang et al. 2019, sec. 3-4).

An in-fill maps ``(images, keep, generator)`` to a fill image of the same shape; `compose` returns
``keep * images + (1 - keep) * fill``, so a pixel with ``keep = 1`` is the input's, exactly. Heuristic
in-fills ignore the kept pixels (mean, noise) or use the whole image (blur, as the paper's); the
generative one is the in-painting network conditioned on the kept pixels only.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch.nn import functional as F

from core.errors import InputError
from vision_attention.infill.config import INFILLS

__all__ = ["Infill", "compose", "gaussian_blur", "make_infill"]

Infill = Callable[[torch.Tensor, torch.Tensor, torch.Generator | None], torch.Tensor]


def compose(images: torch.Tensor, keep: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:
    """``keep * images + (1 - keep) * fill``, all ``(n, 1, S, S)`` (keep may broadcast)."""
    return keep * images + (1 - keep) * fill


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``images (n, c, H, W)`` with standard deviation `sigma` pixels, reflected
    at the borders (the kernel's radius is ``ceil(3 sigma)``, at most ``min(H, W) - 1``)."""
    radius = max(1, min(math.ceil(3 * sigma), min(images.shape[-2:]) - 1))
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    channels = images.shape[1]
    padded = F.pad(images, (radius, radius, radius, radius), mode="reflect")
    rows = F.conv2d(padded, kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)
    return F.conv2d(rows, kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)


def make_infill(
    name: str,
    *,
    mean: float = 0.5,
    blur_sigma: float = 3.0,
    inpainter: torch.nn.Module | None = None,
) -> Infill:
    """The in-fill called `name` (one of `INFILLS`).

    Args:
        name: ``"mean"`` (the constant `mean`, e.g. the training images' mean grey level), ``"blur"`` (a
            Gaussian blur of the image, `blur_sigma` pixels), ``"noise"`` (U(0, 1) per pixel, drawn from the
            generator), ``"generative"`` (``inpainter(images, keep)``).
        inpainter: the in-painting network, needed for ``"generative"``; it is put in eval mode with its
            parameters frozen (``requires_grad_(False)``), and the gradient flows through it to the mask.

    Raises:
        InputError: an unknown name, or ``"generative"`` without an in-painter.
    """
    if name not in INFILLS:
        raise InputError("unknown in-fill", item=name, expected=str(INFILLS))
    if name == "mean":
        return lambda images, keep, generator=None: torch.full_like(images, mean)
    if name == "blur":
        return lambda images, keep, generator=None: gaussian_blur(images, blur_sigma)
    if name == "noise":
        return lambda images, keep, generator=None: torch.rand(
            images.shape, generator=generator, dtype=images.dtype, device=images.device
        )
    if inpainter is None:
        raise InputError("the generative in-fill needs an in-painter", item=name)
    inpainter.eval().requires_grad_(False)
    return lambda images, keep, generator=None: inpainter(images, keep)
