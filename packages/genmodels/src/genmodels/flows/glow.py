"""The multi-scale flow: squeeze, K x (actnorm, 1x1 conv, coupling), split, repeated L times (Glow, fig. 2).

`Glow.log_prob` returns the exact log density of continuous images in [0, 1]^D split into the
*density* term ``sum log N(z; 0, I)`` and the *volume* term ``sum log |det df/dx|`` (Nalisnick et
al. 2019, sec. 4): ``log p(x) = density + volume``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from genmodels.config import FlowConfig
from genmodels.flows.layers import ActNorm, AffineCoupling, InvConv1x1, Squeeze, check_images

__all__ = ["FlowConfig", "FlowTerms", "Glow", "build_flow", "standard_normal_log_prob"]


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """``sum log N(z; 0, I)`` over every dimension but the first: ``(b, ...) -> (b,)`` nats."""
    return -0.5 * (z.pow(2) + math.log(2 * math.pi)).flatten(1).sum(1)


@dataclass
class FlowTerms:
    """``log_prob = density + volume``, each ``(batch,)`` nats; `latents`: the factored-out z's, in order."""

    log_prob: torch.Tensor
    density: torch.Tensor
    volume: torch.Tensor
    latents: list[torch.Tensor]


class _Step(nn.Module):
    def __init__(self, channels: int, hidden: int, additive: bool) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            [ActNorm(channels), InvConv1x1(channels), AffineCoupling(channels, hidden, additive)]
        )


class Glow(nn.Module):
    """The flow of `FlowConfig`; input images ``(b, c, h, w)`` continuous in [0, 1] (centred to [-0.5, 0.5])."""

    def __init__(self, config: FlowConfig) -> None:
        super().__init__()
        self.config = config
        c, h, w = config.image_shape
        self.squeeze = Squeeze()
        self.levels = nn.ModuleList()
        self.latent_shapes: list[tuple[int, int, int]] = []
        for level in range(config.levels):
            c, h, w = 4 * c, h // 2, w // 2
            self.levels.append(
                nn.ModuleList(
                    [_Step(c, config.hidden, config.coupling == "additive") for _ in range(config.steps)]
                )
            )
            if level < config.levels - 1:
                self.latent_shapes.append((c // 2, h, w))
                c = c - c // 2
        self.latent_shapes.append((c, h, w))
        self.register_buffer("initialized", torch.tensor(False))

    @property
    def dims(self) -> int:
        """Dimensions D of one image."""
        return math.prod(self.config.image_shape)

    def _run(self, x: torch.Tensor, init: bool) -> FlowTerms:
        check_images(x, self.config.image_shape[0], "Glow")
        if tuple(x.shape[1:]) != tuple(self.config.image_shape):
            from core.errors import InputError

            raise InputError(
                "images do not have the flow's shape", item=tuple(x.shape), expected=self.config.image_shape
            )
        h = x - 0.5
        volume = x.new_zeros(x.shape[0])
        density = x.new_zeros(x.shape[0])
        latents = []
        for index, steps in enumerate(self.levels):
            h, _ = self.squeeze(h)
            for step in steps:
                for layer in step.layers:
                    if init and isinstance(layer, ActNorm):
                        layer.initialize(h)
                    h, log_det = layer(h)
                    volume = volume + log_det
            if index < len(self.levels) - 1:
                half = h.shape[1] // 2
                z, h = h[:, :half], h[:, half:]
                density = density + standard_normal_log_prob(z)
                latents.append(z)
        density = density + standard_normal_log_prob(h)
        latents.append(h)
        return FlowTerms(density + volume, density, volume, latents)

    def log_prob(self, x: torch.Tensor) -> FlowTerms:
        """Exact ``log p(x)`` of continuous images ``(b, c, h, w)`` in [0, 1] and its two terms (nats per image).

        The first call in training mode initialises every actnorm from the batch (Glow's data-dependent init).
        """
        if self.training and not bool(self.initialized):
            with torch.no_grad():
                self._run(x, init=True)
            self.initialized.fill_(True)
        return self._run(x, init=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``log p(x)`` ``(b,)``."""
        return self.log_prob(x).log_prob

    def inverse(self, latents: list[torch.Tensor]) -> torch.Tensor:
        """Images ``(b, c, h, w)`` from the latents in `latent_shapes` order (exact inverse of `log_prob`)."""
        h = latents[-1]
        for index in reversed(range(len(self.levels))):
            if index < len(self.levels) - 1:
                h = torch.cat([latents[index], h], 1)
            for step in reversed(self.levels[index]):
                for layer in reversed(step.layers):
                    h = layer.inverse(h)
            h = self.squeeze.inverse(h)
        return h + 0.5

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, temperature: float = 1.0) -> torch.Tensor:
        """`n` images ``(n, c, h, w)`` from latents ``temperature * N(0, I)`` (clamped to [0, 1])."""
        parameter = next(self.parameters())
        latents = [
            temperature * torch.randn(n, *shape, generator=generator).to(parameter.device, parameter.dtype)
            for shape in self.latent_shapes
        ]
        return self.inverse(latents).clamp(0, 1)


def build_flow(config: FlowConfig) -> Glow:
    """A `Glow` of `config` (initial weights from the global torch RNG: fork it around the call)."""
    return Glow(config)
