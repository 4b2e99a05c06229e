"""Nucleotide substitution models: JC69 (the study's) and GTR with discrete-gamma rates (option).

Every model maps branch lengths in expected substitutions per site, shape (..., E), to
transition matrices of shape (..., E, C, 4, 4) for C rate categories, with
``P[..., i, j] = P(state j at the child | state i at the parent)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch
from scipy import stats

from core.errors import InputError

__all__ = ["GTR", "JC69", "SubstitutionModel", "discrete_gamma_rates"]


@runtime_checkable
class SubstitutionModel(Protocol):
    """What pruning needs: `frequencies` (4,), `category_weights` (C,), `transition_matrices(t)`."""

    frequencies: torch.Tensor
    category_weights: torch.Tensor

    def transition_matrices(self, branch_lengths: torch.Tensor) -> torch.Tensor: ...


@dataclass(frozen=True, eq=False)
class JC69:
    """Jukes-Cantor 1969: equal rates and frequencies, one rate category (the study's model).

    ``P_ii(t) = 1/4 + 3/4 exp(-4t/3)``, ``P_ij(t) = 1/4 - 1/4 exp(-4t/3)``.
    """

    def __post_init__(self) -> None:
        object.__setattr__(self, "frequencies", torch.full((4,), 0.25, dtype=torch.float64))
        object.__setattr__(self, "category_weights", torch.ones(1, dtype=torch.float64))

    def transition_matrices(self, branch_lengths: torch.Tensor) -> torch.Tensor:
        """(..., E) lengths -> (..., E, 1, 4, 4) matrices."""
        decay = torch.exp(-4.0 / 3.0 * branch_lengths)[..., None, None, None]
        eye = torch.eye(4, dtype=branch_lengths.dtype, device=branch_lengths.device)
        return 0.25 + decay * (eye - 0.25)


def discrete_gamma_rates(alpha: float, categories: int) -> torch.Tensor:
    """Yang (1994) discrete-gamma rates: the mean of each of `categories` equal-probability
    bins of a Gamma(alpha, rate=alpha) distribution (mean 1). Returns (categories,) float64."""
    if alpha <= 0 or categories < 1:
        raise InputError("gamma shape must be > 0 and categories >= 1", item=(alpha, categories))
    edges = stats.gamma.ppf(torch.linspace(0, 1, categories + 1).numpy(), a=alpha, scale=1 / alpha)
    # Mean of the bin: P(bin of Gamma(alpha+1)) * categories (mean of Gamma(alpha) is 1).
    upper = stats.gamma.cdf(edges, a=alpha + 1, scale=1 / alpha)
    rates = (upper[1:] - upper[:-1]) * categories
    return torch.tensor(rates, dtype=torch.float64)


@dataclass(frozen=True, eq=False)
class GTR:
    """General time-reversible model with optional discrete-gamma rate heterogeneity.

    Args:
        rates: exchangeabilities (AC, AG, AT, CG, CT, GT), positive.
        frequencies: base frequencies (A, C, G, T), positive, summing to 1.
        gamma_shape: alpha of the gamma rate distribution; None for a single rate.
        gamma_categories: number of discrete-gamma categories (4 is customary).
    """

    rates: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    base_frequencies: tuple[float, ...] = (0.25, 0.25, 0.25, 0.25)
    gamma_shape: float | None = None
    gamma_categories: int = 4

    def __post_init__(self) -> None:
        if len(self.rates) != 6 or min(self.rates) <= 0:
            raise InputError("GTR needs 6 positive exchangeabilities", item=self.rates)
        freqs = torch.tensor(self.base_frequencies, dtype=torch.float64)
        if freqs.shape != (4,) or (freqs <= 0).any() or abs(float(freqs.sum()) - 1) > 1e-6:
            raise InputError(
                "base frequencies must be 4 positive numbers summing to 1", item=self.base_frequencies
            )
        exch = torch.zeros(4, 4, dtype=torch.float64)
        iu = torch.triu_indices(4, 4, 1)
        exch[iu[0], iu[1]] = torch.tensor(self.rates, dtype=torch.float64)
        exch = exch + exch.T
        q = exch * freqs[None, :]
        q = q - torch.diag(q.sum(1))
        q = q / -(freqs * torch.diag(q)).sum()  # one expected substitution per unit length
        # Symmetrise: S = D^1/2 Q D^-1/2 is symmetric for a reversible Q.
        root = freqs.sqrt()
        sym = root[:, None] * q / root[None, :]
        eigval, eigvec = torch.linalg.eigh(sym)
        object.__setattr__(self, "frequencies", freqs)
        object.__setattr__(self, "_eigval", eigval)
        object.__setattr__(self, "_left", eigvec / root[:, None])
        object.__setattr__(self, "_right", eigvec.T * root[None, :])
        if self.gamma_shape is None:
            cat_rates = torch.ones(1, dtype=torch.float64)
        else:
            cat_rates = discrete_gamma_rates(self.gamma_shape, self.gamma_categories)
        object.__setattr__(self, "_category_rates", cat_rates)
        object.__setattr__(self, "category_weights", torch.full_like(cat_rates, 1.0 / cat_rates.shape[0]))

    def transition_matrices(self, branch_lengths: torch.Tensor) -> torch.Tensor:
        """(..., E) lengths -> (..., E, C, 4, 4) matrices ``V exp(Lambda r t) V^-1``."""
        scaled = branch_lengths[..., None] * self._category_rates.to(branch_lengths)  # (..., E, C)
        expo = torch.exp(scaled[..., None] * self._eigval.to(branch_lengths))  # (..., E, C, 4)
        left = self._left.to(branch_lengths)
        right = self._right.to(branch_lengths)
        return torch.einsum("ik,...k,kj->...ij", left, expo, right).clamp_min(0.0)
