"""The branch-length posterior of a fixed topology: likelihood, i.i.d. exponential prior, and
the unconstrained (log branch length) parameterisation samplers and optimisers work in.

``p(D | tau) = int p(D | theta, tau) p(theta) d theta`` over the 2n-3 branch lengths ``theta``,
with ``p(theta) = prod_e lambda exp(-lambda theta_e)`` (the study: lambda = 10, mean 0.1).
In ``x = log theta`` the density gains the Jacobian ``sum_e x_e``.
"""

from __future__ import annotations

import torch

from phylo_marglik.alignment import SitePatterns
from phylo_marglik.configs import ExponentialPrior
from phylo_marglik.likelihood import TreeLikelihood
from phylo_marglik.substitution import SubstitutionModel
from phylo_marglik.tree import Topology

__all__ = ["BranchLengthPosterior", "ExponentialPrior"]


class BranchLengthPosterior:
    """Unnormalised posterior of the branch lengths of one topology.

    Args:
        topology: the fixed unrooted topology.
        patterns: the compressed alignment.
        model: substitution model (JC69 when None, the study's).
        prior: branch-length prior (Exponential(10) when None, the study's).

    Attributes:
        likelihood: the `TreeLikelihood`; ``likelihood.evaluations`` counts evaluations.
    """

    def __init__(
        self,
        topology: Topology,
        patterns: SitePatterns,
        model: SubstitutionModel | None = None,
        prior: ExponentialPrior | None = None,
    ) -> None:
        self.topology = topology
        self.likelihood = TreeLikelihood(topology, patterns, model)
        self.prior = prior if prior is not None else ExponentialPrior()

    @property
    def dim(self) -> int:
        """Number of branch lengths, 2n - 3."""
        return self.topology.n_branches

    @property
    def evaluations(self) -> int:
        return self.likelihood.evaluations

    @property
    def n_sites(self) -> int:
        return self.likelihood.patterns.n_sites

    def log_likelihood(self, branch_lengths: torch.Tensor) -> torch.Tensor:
        """(B, E) -> (B,) log p(D | theta)."""
        return self.likelihood.log_likelihood(branch_lengths)

    def log_prior(self, branch_lengths: torch.Tensor) -> torch.Tensor:
        """(B, E) -> (B,) log p(theta)."""
        return self.prior.log_prob(branch_lengths)

    def log_joint(self, branch_lengths: torch.Tensor) -> torch.Tensor:
        """(B, E) -> (B,) log p(D | theta) + log p(theta)."""
        return self.log_likelihood(branch_lengths) + self.log_prior(branch_lengths)

    def site_log_likelihood(self, branch_lengths: torch.Tensor) -> torch.Tensor:
        """(B, E) -> (B, P) per-pattern log-likelihoods (weights in ``likelihood.patterns.weights``)."""
        return self.likelihood.pattern_log_likelihood(branch_lengths)


def to_branch_lengths(x: torch.Tensor) -> torch.Tensor:
    """Unconstrained log lengths -> lengths, floored at 1e-12 so they stay positive."""
    return torch.exp(x).clamp_min(1e-12)
