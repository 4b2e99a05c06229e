"""VAE networks: a `VAE` module (encoder, decoder, likelihood) and the MLP and convolutional builders.

The encoder maps images ``(batch, c, h, w)`` to ``2 * latent_dim`` numbers, the mean and the
log-variance of a diagonal Gaussian q(z | x); the decoder maps z ``(batch, latent_dim)`` to the
likelihood's parameters ``(batch, c, h, w)``. The prior is N(0, I).

- MLP: ReLU layers of widths ``hidden`` in the encoder, mirrored in the decoder (Kingma & Welling
  2014 used one tanh layer of 400 units on MNIST; ``hidden=(400,)`` keeps their width).
- Convolutional: ``channels`` stride-2 4x4 convolutions (each halves the side; the side must be
  divisible by ``2 ** len(channels)``), a linear layer to the latent, and the mirror image with
  transposed convolutions. World Models' own V (no padding, 64x64 only) lives in
  `genmodels.world_models.vision`.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor, nn

from core.errors import InputError
from genmodels.config import VAEConfig
from genmodels.vae.likelihoods import Likelihood, make_likelihood

__all__ = ["VAE", "VAEConfig", "build_vae"]


class VAE(nn.Module):
    """A Gaussian-latent VAE: ``encode`` -> (mean, log_var), ``decode`` -> likelihood parameters.

    Args:
        encoder: images ``(batch, c, h, w)`` -> ``(batch, 2 * latent_dim)``.
        decoder: ``(batch, latent_dim)`` -> ``(batch, c, h, w)``.
        likelihood: the observation model p(x | z).
        image_shape: ``(c, h, w)``, checked on every `encode`.
    """

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        likelihood: Likelihood,
        latent_dim: int,
        image_shape: tuple[int, ...],
    ) -> None:
        super().__init__()
        self.encoder, self.decoder, self.likelihood = encoder, decoder, likelihood
        self.latent_dim, self.image_shape = latent_dim, tuple(image_shape)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and log-variance of q(z | x), each ``(batch, latent_dim)``.

        Raises:
            InputError: `x` is not ``(batch, *image_shape)``.
        """
        if x.dim() != 4 or tuple(x.shape[1:]) != self.image_shape:
            raise InputError(
                "images do not fit the model",
                item=f"shape {tuple(x.shape)}",
                expected=f"(batch, {self.image_shape})",
            )
        mean, log_var = self.encoder(x).chunk(2, dim=-1)
        return mean, log_var

    def decode(self, z: Tensor) -> Tensor:
        """Likelihood parameters ``(batch, c, h, w)`` for latents ``(batch, latent_dim)``."""
        return self.decoder(z)

    def reconstruct(self, x: Tensor) -> Tensor:
        """The likelihood's mean at z = the mean of q(z | x) (no sampling)."""
        return self.likelihood.mean(self.decode(self.encode(x)[0]))

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Means of p(x | z) for `n` draws z ~ N(0, I): ``(n, c, h, w)``."""
        device = next(self.parameters()).device
        z = torch.randn((n, self.latent_dim), generator=generator, device=device)
        return self.likelihood.mean(self.decode(z))


def _mlp(sizes: list[int]) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return layers


def build_vae(config: VAEConfig) -> VAE:
    """The MLP or convolutional VAE `config` describes (weights from torch's default init)."""
    channels, height, width = config.image_shape
    likelihood = make_likelihood(config.likelihood, config.sigma)
    if config.architecture == "mlp":
        pixels = math.prod(config.image_shape)
        encoder = nn.Sequential(nn.Flatten(), *_mlp([pixels, *config.hidden, 2 * config.latent_dim]))
        decoder = nn.Sequential(
            *_mlp([config.latent_dim, *reversed(config.hidden), pixels]), nn.Unflatten(1, config.image_shape)
        )
        return VAE(encoder, decoder, likelihood, config.latent_dim, config.image_shape)
    if config.architecture == "world-models":
        return _world_models_vae(config, likelihood)
    factor = 2 ** len(config.channels)
    inner = (config.channels[-1], height // factor, width // factor)
    convs: list[nn.Module] = []
    previous = channels
    for out in config.channels:
        convs += [nn.Conv2d(previous, out, 4, stride=2, padding=1), nn.ReLU()]
        previous = out
    encoder = nn.Sequential(*convs, nn.Flatten(), nn.Linear(math.prod(inner), 2 * config.latent_dim))
    deconvs: list[nn.Module] = [
        nn.Linear(config.latent_dim, math.prod(inner)),
        nn.ReLU(),
        nn.Unflatten(1, inner),
    ]
    widths = [*reversed(config.channels[:-1]), channels]
    previous = config.channels[-1]
    for i, out in enumerate(widths):
        deconvs.append(nn.ConvTranspose2d(previous, out, 4, stride=2, padding=1))
        if i < len(widths) - 1:
            deconvs.append(nn.ReLU())
        previous = out
    return VAE(encoder, nn.Sequential(*deconvs), likelihood, config.latent_dim, config.image_shape)


def _world_models_vae(config: VAEConfig, likelihood: Likelihood) -> VAE:
    """V of World Models (reference code of Ha & Schmidhuber 2018): 64x64x3 -> 2x2x256 -> z -> 64x64x3."""
    encoder = nn.Sequential(
        nn.Conv2d(3, 32, 4, stride=2),
        nn.ReLU(),  # 31x31
        nn.Conv2d(32, 64, 4, stride=2),
        nn.ReLU(),  # 14x14
        nn.Conv2d(64, 128, 4, stride=2),
        nn.ReLU(),  # 6x6
        nn.Conv2d(128, 256, 4, stride=2),
        nn.ReLU(),  # 2x2
        nn.Flatten(),
        nn.Linear(1024, 2 * config.latent_dim),
    )
    decoder = nn.Sequential(
        nn.Linear(config.latent_dim, 1024),
        nn.Unflatten(1, (1024, 1, 1)),
        nn.ConvTranspose2d(1024, 128, 5, stride=2),
        nn.ReLU(),  # 5x5
        nn.ConvTranspose2d(128, 64, 5, stride=2),
        nn.ReLU(),  # 13x13
        nn.ConvTranspose2d(64, 32, 6, stride=2),
        nn.ReLU(),  # 30x30
        nn.ConvTranspose2d(32, 3, 6, stride=2),
        nn.Sigmoid(),  # 64x64
    )
    return VAE(encoder, decoder, likelihood, config.latent_dim, config.image_shape)
