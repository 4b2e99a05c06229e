"""The detectors' scores (higher = more in-distribution), each with an optional input perturbation.

- ``max-softmax`` (Hendrycks & Gimpel): the largest softmax probability at temperature 1.
- ``odin`` (Liang et al. 2018): the largest softmax probability at temperature T of the input moved by
  ``eps`` along ``-sign(grad_x of -log S_max(x; T))``, i.e. towards a more confident prediction.
- ``confidence`` (DeVries & Taylor 2018): the network's c, of the input moved by ``eps`` along
  ``-sign(grad_x of -log c)``, the same perturbation applied to the confidence branch (no temperature).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from core.errors import InputError

__all__ = ["DETECTORS", "detector_scores"]

DETECTORS = ("max-softmax", "odin", "confidence")


def _score(logits: torch.Tensor, confidence: torch.Tensor, detector: str, temperature: float) -> torch.Tensor:
    if detector == "confidence":
        return confidence
    scale = temperature if detector == "odin" else 1.0
    return F.softmax(logits / scale, dim=1).max(dim=1).values


def detector_scores(
    model: torch.nn.Module,
    images: torch.Tensor,
    detector: str,
    *,
    epsilon: float = 0.0,
    temperature: float = 1000.0,
    chunk: int = 500,
) -> torch.Tensor:
    """Scores ``(N,)`` of ``images (N, 1, H, W)`` under a model returning ``(logits, confidence)``.

    Raises:
        InputError: an unknown detector or a negative epsilon.
    """
    if detector not in DETECTORS:
        raise InputError("unknown OoD detector", item=detector, expected=str(DETECTORS))
    if epsilon < 0:
        raise InputError("epsilon must be >= 0", item=epsilon)
    model.eval()
    out = []
    for part in images.split(chunk):
        if epsilon > 0:
            x = part.detach().clone().requires_grad_()
            logits, confidence = model(x)
            score = _score(logits, confidence, detector, temperature)
            (grad,) = torch.autograd.grad((-torch.log(score.clamp_min(1e-30))).sum(), x)
            part = (x - epsilon * grad.sign()).detach()
        with torch.no_grad():
            logits, confidence = model(part)
            out.append(_score(logits, confidence, detector, temperature))
    return torch.cat(out)
