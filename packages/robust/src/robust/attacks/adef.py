"""ADef: adversarial deformations (Alaifari, Alberti & Gauksson, ICLR 2019).

The image is deformed, ``x_tau(p) = x(p + tau(p))`` (bilinear resampling, `robust.attacks.flow`),
by a vector field ``tau (n, 2, h, w)`` built iteratively in DeepFool's manner: at the current field,
for each candidate class ``l`` (the ``candidates`` highest other logits) the gap
``g_l = Z_l - Z_y`` (negative while ``y`` wins) is linearised in the field, ``g_l(tau + d) ~ g_l(tau) +
<S_l, d>`` with ``S_l = dg_l / dtau`` (autograd through the resampler), and the smooth step
``d_l = -g_l * (phi * S_l) / <S_l, phi * S_l>`` along the Gaussian-filtered gradient ``phi * S_l``
closes the gap to first order. The smallest step (in ADef's T-norm, the largest displacement
length ``max_p ||tau(p)||_2``) is taken, times ``1 + overshoot``. Every field is therefore
``phi * V`` for the accumulated raw field ``V`` (kept as `raw_field_`): smooth by construction.
A field whose T-norm exceeds `max_norm` is scaled back to it. Examples stop once fooled.

Defaults: Gaussian sigma 1.0 pixel, 100 iterations and 10 candidate classes (foolbox's ADef
defaults, from the authors' code), overshoot 0.2 (ours), no norm limit.
Cost: one gradient call per candidate per iteration per example still running.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.attacks.base import Attack, check_budget
from robust.attacks.flow import gaussian_smooth, resample

__all__ = ["ADef", "t_norm"]


def t_norm(field: Tensor) -> Tensor:
    """``(n,)`` ADef's T-norm of ``field (n, 2, h, w)``: the largest displacement length (pixels)."""
    return field.pow(2).sum(1).sqrt().flatten(1).amax(1)


class ADef(Attack):
    """Iterative smooth deformations (untargeted).

    Args:
        sigma: standard deviation (pixels) of the Gaussian that smooths every step.
        max_iter: iterations at most.
        candidates: other classes considered per step (the highest logits).
        overshoot: each step is ``1 + overshoot`` times the linearised one.
        max_norm: largest T-norm of the field (pixels; ``inf`` for none).
        seed: see `Attack` (ADef draws nothing).

    Attributes:
        field_: ``(n, 2, h, w)`` the deformations applied (pixels: horizontal, vertical).
        raw_field_: ``(n, 2, h, w)`` V with ``field_ = gaussian_smooth(V, sigma)`` (before any rescaling
            by `max_norm`, which multiplies both).
    """

    name = "adef"
    min_image_dims = 4

    def __init__(
        self,
        model: nn.Module,
        sigma: float = 1.0,
        max_iter: int = 100,
        candidates: int = 10,
        overshoot: float = 0.2,
        max_norm: float = float("inf"),
        *,
        seed: int = 0,
    ) -> None:
        super().__init__(model, seed=seed)
        check_budget("sigma", sigma)
        check_budget("max_iter", max_iter, positive=True, integer=True)
        check_budget("candidates", candidates, positive=True, integer=True)
        check_budget("overshoot", overshoot)
        check_budget("max_norm", max_norm, positive=True)
        self.sigma, self.max_iter, self.candidates = float(sigma), max_iter, candidates
        self.overshoot, self.max_norm = float(overshoot), float(max_norm)
        self.field_: Tensor | None = None
        self.raw_field_: Tensor | None = None

    def perturb(self, x: Tensor, y: Tensor) -> Tensor:
        if x.ndim != 4:
            raise InputError("ADef needs images (n, c, h, w)", item=f"shape {tuple(x.shape)}")
        n, _, h, w = x.shape
        raw = torch.zeros(n, 2, h, w, dtype=x.dtype, device=x.device)
        field = torch.zeros_like(raw)
        rows = torch.arange(n, device=x.device)
        for _ in range(self.max_iter):
            point = field.detach().requires_grad_(True)
            logits = self.logits(resample(x, point))
            active = logits.argmax(1) == y
            if not bool(active.any()):
                break
            k = min(self.candidates, logits.shape[1] - 1)
            others = logits.detach().scatter(1, y[:, None], -float("inf")).topk(k, dim=1).indices  # (n, k)
            best_step = torch.zeros_like(raw)
            best_raw = torch.zeros_like(raw)
            best_size = torch.full((n,), float("inf"), dtype=x.dtype, device=x.device)
            for j in range(k):
                gap = logits[rows, others[:, j]] - logits[rows, y]  # (n,) < 0 while y wins
                (slope,) = torch.autograd.grad(gap.sum(), point, retain_graph=j < k - 1)
                smooth = gaussian_smooth(slope, self.sigma)
                inner = (slope * smooth).flatten(1).sum(1)
                scale = torch.where(
                    inner > 0, -gap.detach() / inner.clamp_min(1e-30), torch.zeros_like(inner)
                )
                step = smooth * scale.view(-1, 1, 1, 1)
                size = torch.where(inner > 0, t_norm(step), torch.full_like(inner, float("inf")))
                take = size < best_size
                best_step[take], best_raw[take], best_size[take] = (
                    step[take],
                    (slope * scale.view(-1, 1, 1, 1))[take],
                    size[take],
                )
            self._charge(k, active)
            move = active & torch.isfinite(best_size)
            if not bool(move.any()):
                break
            factor = (1 + self.overshoot) * move.to(x.dtype).view(-1, 1, 1, 1)
            field = field + factor * best_step
            raw = raw + factor * best_raw
            norm = t_norm(field)
            shrink = torch.where(
                norm > self.max_norm, self.max_norm / norm.clamp_min(1e-30), torch.ones_like(norm)
            )
            field, raw = field * shrink.view(-1, 1, 1, 1), raw * shrink.view(-1, 1, 1, 1)
        self.field_, self.raw_field_ = field.detach(), raw.detach()
        with torch.no_grad():
            return resample(x, self.field_).clamp(0.0, 1.0)

    def budget(self) -> dict[str, object]:
        return {
            "sigma": self.sigma,
            "max_iter": self.max_iter,
            "candidates": self.candidates,
            "overshoot": self.overshoot,
            "max_norm": self.max_norm,
        }
