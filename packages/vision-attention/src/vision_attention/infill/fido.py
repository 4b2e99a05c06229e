"""FIDO (Chang et al. 2019): per-pixel Bernoulli dropout masks optimised through a concrete relaxation.

For each image x of class c, logits l (one per pixel) give theta = sigmoid(l), the probability that the
pixel is kept (SSR) or dropped (SDR). A concrete (relaxed Bernoulli) sample
``z = sigmoid((l + log v - log(1 - v)) / temperature)``, ``v ~ U(0, 1)`` (Maddison et al. 2017; Jang et al.
2017) is differentiable in l and tends to a Bernoulli(theta) sample as the temperature goes to 0. The
objectives (`FidoConfig`), with s_c the classifier's log-probability of c and x_r the in-filled image:

- SSR: minimise ``-s_c(z x + (1 - z) fill) + lambda mean(theta) + mu TV(theta)``: the smallest region that,
  kept alone, still supports c;
- SDR: minimise ``s_c((1 - z) x + z fill) + lambda mean(theta) + mu TV(theta)``: the smallest region whose
  in-filling removes c.

The saliency map is theta. Every image has its own logits and its own loss terms, and Adam's update is
element-wise, so an image's map does not depend on the other images of the batch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from core.errors import InputError
from core.progress import progress
from vision_attention.infill.config import FidoConfig
from vision_attention.infill.infills import Infill, compose

__all__ = ["FidoResult", "concrete_mask", "explain", "fido_loss", "hard_probability", "total_variation"]


@dataclass(frozen=True)
class FidoResult:
    """``theta (n, 1, H, W)``: the optimised keep (SSR) / drop (SDR) probabilities; ``losses``: the mean
    loss per step; ``seconds``: optimisation time."""

    theta: torch.Tensor
    losses: list[float]
    seconds: float


def concrete_mask(
    logits: torch.Tensor, temperature: float, samples: int = 1, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``(samples, *logits.shape)`` relaxed Bernoulli(sigmoid(logits)) samples in (0, 1).

    ``sigmoid((logits + log v - log(1 - v)) / temperature)`` with ``v ~ U(0, 1)``; as ``temperature -> 0``
    each sample tends to the hard ``1[logits + log v - log(1 - v) > 0]``, a Bernoulli(sigmoid(logits)) draw.
    """
    if not temperature > 0:
        raise InputError("the concrete temperature must be > 0", item=temperature)
    v = torch.rand((samples, *logits.shape), generator=generator, dtype=logits.dtype, device=logits.device)
    v = v.clamp(1e-6, 1 - 1e-6)
    return torch.sigmoid((logits + torch.log(v) - torch.log1p(-v)) / temperature)


def total_variation(theta: torch.Tensor) -> torch.Tensor:
    """``(n,)``: mean absolute difference between vertical neighbours plus that between horizontal ones."""
    vertical = (theta[..., 1:, :] - theta[..., :-1, :]).abs().flatten(1).mean(1)
    horizontal = (theta[..., :, 1:] - theta[..., :, :-1]).abs().flatten(1).mean(1)
    return vertical + horizontal


def _log_probability(classifier: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.log_softmax(classifier(images), 1).gather(1, labels[:, None])[:, 0]


def fido_loss(
    classifier: torch.nn.Module,
    infill: Infill,
    images: torch.Tensor,
    labels: torch.Tensor,
    logits: torch.Tensor,
    config: FidoConfig,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``(n,)`` the `FidoConfig` objective of each image (Monte-Carlo over ``config.samples`` masks).

    Args:
        images: ``(n, 1, H, W)``; labels: ``(n,)`` the class explained; logits: ``(n, 1, H, W)``.
    """
    samples, n = config.samples, len(images)
    z = concrete_mask(logits, config.temperature, samples, generator).flatten(0, 1)
    keep = z if config.objective == "ssr" else 1 - z
    repeated = images.repeat(samples, 1, 1, 1)
    filled = compose(repeated, keep, infill(repeated, keep, generator))
    score = _log_probability(classifier, filled, labels.repeat(samples)).view(samples, n).mean(0)
    theta = torch.sigmoid(logits)
    penalty = config.sparsity * theta.flatten(1).mean(1) + config.smoothness * total_variation(theta)
    return (-score if config.objective == "ssr" else score) + penalty


def hard_probability(
    classifier: torch.nn.Module,
    infill: Infill,
    images: torch.Tensor,
    labels: torch.Tensor,
    theta: torch.Tensor,
    objective: str,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``(n,)`` p(c | x_r) with the hard mask ``theta > 0.5`` (kept region for SSR, in-filled one for SDR)."""
    region = (theta > 0.5).to(images.dtype)
    keep = region if objective == "ssr" else 1 - region
    with torch.no_grad():
        filled = compose(images, keep, infill(images, keep, generator))
        return _log_probability(classifier, filled, labels).exp()


def explain(
    classifier: torch.nn.Module,
    infill: Infill,
    images: torch.Tensor,
    labels: torch.Tensor,
    config: FidoConfig,
    *,
    quiet: bool = True,
) -> FidoResult:
    """Optimise the FIDO masks of ``images (n, 1, H, W)`` for ``labels (n,)`` (Adam on the logits).

    The classifier (and the in-painter inside `infill`) is put in eval mode and not changed.

    Raises:
        InputError: images not ``(n, 1, H, W)`` or labels of another length.
    """
    if images.ndim != 4 or len(labels) != len(images) or len(images) == 0:
        raise InputError(
            "explain needs images (n, 1, H, W) and labels (n,)",
            item=f"images {tuple(images.shape)}, labels {tuple(labels.shape)}",
        )
    classifier.eval()
    generator = torch.Generator(device=images.device).manual_seed(config.seed)
    start = torch.logit(torch.tensor(config.initial)).item()
    logits = torch.full_like(images, start, requires_grad=True)
    optimizer = torch.optim.Adam([logits], lr=config.learning_rate)
    frozen = [p for p in classifier.parameters() if p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    losses = []
    began = time.perf_counter()
    try:
        steps = range(config.steps)
        for _ in steps if quiet else progress(steps, desc=f"fido {config.objective}/{config.infill}"):
            optimizer.zero_grad(set_to_none=True)
            loss = fido_loss(classifier, infill, images, labels, logits, config, generator).sum()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()) / len(images))
    finally:
        for p in frozen:
            p.requires_grad_(True)
    return FidoResult(torch.sigmoid(logits.detach()), losses, time.perf_counter() - began)
