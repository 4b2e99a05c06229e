"""Observation models p(x | z) of the VAEs: log-likelihoods summed over pixels, and their means.

A likelihood turns the decoder's output ``(batch..., c, h, w)`` (unconstrained) into a
distribution over images in [0, 1]:

- `Bernoulli`: the decoder gives logits; ``log p(x|z) = sum x log p + (1 - x) log(1 - p)``
  (for grey levels in [0, 1] this is the usual cross-entropy, not a normalised density).
- `Gaussian`: the decoder gives the mean; fixed standard deviation ``sigma`` per pixel,
  ``log p(x|z) = -||x - mean||^2 / (2 sigma^2) - D log(sigma sqrt(2 pi))``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import functional as F

from genmodels.config import LIKELIHOODS

__all__ = ["LIKELIHOODS", "Bernoulli", "Gaussian", "Likelihood", "make_likelihood"]


class Likelihood(ABC):
    """Interface: `log_prob` (summed over the image) and `mean` (the reconstruction)."""

    @abstractmethod
    def log_prob(self, x: Tensor, output: Tensor) -> Tensor:
        """``log p(x | z)`` for images ``x (..., c, h, w)`` and decoder outputs of the same shape; ``(...)``."""

    @abstractmethod
    def mean(self, output: Tensor) -> Tensor:
        """The expected image under p(x | z), in [0, 1] for Bernoulli."""


@dataclass(frozen=True)
class Bernoulli(Likelihood):
    """Independent Bernoulli pixels with logits from the decoder."""

    def log_prob(self, x: Tensor, output: Tensor) -> Tensor:
        x, output = torch.broadcast_tensors(x, output)
        return -F.binary_cross_entropy_with_logits(output, x, reduction="none").flatten(-3).sum(-1)

    def mean(self, output: Tensor) -> Tensor:
        return torch.sigmoid(output)


@dataclass(frozen=True)
class Gaussian(Likelihood):
    """Independent Gaussian pixels, mean from the decoder, fixed standard deviation `sigma`."""

    sigma: float = 0.1

    def log_prob(self, x: Tensor, output: Tensor) -> Tensor:
        squared = (x - output).pow(2).flatten(-3).sum(-1)
        dims = math.prod(output.shape[-3:])
        return -squared / (2 * self.sigma**2) - dims * math.log(self.sigma * math.sqrt(2 * math.pi))

    def mean(self, output: Tensor) -> Tensor:
        return output


def make_likelihood(name: str, sigma: float = 0.1) -> Likelihood:
    """`Bernoulli()` or `Gaussian(sigma)` by name."""
    from core.errors import InputError

    if name == "bernoulli":
        return Bernoulli()
    if name == "gaussian":
        if not sigma > 0:
            raise InputError("Gaussian likelihood needs sigma > 0", item=sigma)
        return Gaussian(sigma)
    raise InputError("unknown likelihood", item=name, expected=", ".join(LIKELIHOODS))
