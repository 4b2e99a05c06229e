"""The package's configuration dataclasses, in one module that imports neither torch nor NumPy,
so that the CLI can read their defaults (`core.cli.add_config_arguments`) while ``--help`` stays
fast. Each is re-exported where it is used (`phylo_marglik.mcmc`, `phylo_marglik.estimators`,
`phylo_marglik.posterior`, `phylo_marglik.study`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from core.errors import InputError

__all__ = ["STUDY_ORDER", "EstimatorConfig", "ExponentialPrior", "MCMCConfig", "StudyConfig"]

# The study's order of presentation (power posteriors, posterior-sample based, sampling, optimisation).
STUDY_ORDER = (
    "gss", "ss", "ps", "mps", "hm", "shm", "bs", "cpo", "ppd",
    "nmc", "ns", "ml", "map", "gl", "ll", "bl", "glis", "elbo", "vbis",
)  # fmt: skip


@dataclass(frozen=True)
class MCMCConfig:
    """MCMC budget (the study's: 1,000,000 iterations, a sample every 1000, first 100 dropped).

    Attributes:
        iterations: proposals per chain after burn-in.
        thin: keep one state every `thin` iterations.
        burnin: number of `thin`-spaced samples run (and adapted on) before keeping any.
        scaler_fraction: probability that an iteration is a one-branch scaler move.
        target_block: acceptance rate the block move adapts to (0.234 for high dimensions).
        target_scaler: acceptance rate the scaler move adapts to.
    """

    iterations: int = 1_000_000
    thin: int = 1000
    burnin: int = 100
    scaler_fraction: float = 0.5
    target_block: float = 0.234
    target_scaler: float = 0.44

    def __post_init__(self) -> None:
        if self.iterations < self.thin or self.thin < 1 or self.burnin < 0:
            raise InputError(
                "MCMC needs iterations >= thin >= 1 and burnin >= 0",
                item=(self.iterations, self.thin, self.burnin),
            )
        if not 0 <= self.scaler_fraction <= 1:
            raise InputError("scaler_fraction must lie in [0, 1]", item=self.scaler_fraction)

    @property
    def samples(self) -> int:
        return self.iterations // self.thin


@dataclass(frozen=True)
class EstimatorConfig:
    """Budgets and settings of all estimators; defaults are the study's (Fourment et al. 2020).

    Attributes:
        mcmc: chain budget of each power posterior and, unless `posterior_mcmc` is given, of the
            posterior run (1,000,000 iterations, every 1000th kept, 100 kept samples burn-in).
        posterior_mcmc: budget of the posterior run behind HM, SHM, BS, CPO, PPD and the GSS
            reference (None: the same as `mcmc`, the study's choice).
        n_steps: number of power posteriors / stepping stones (50).
        alpha: temperatures are quantiles of Beta(alpha, 1): ``beta_k = (k / K)^(1 / alpha)`` (0.3).
        importance_samples: draws for NMC, GLIS and VBIS, and for the final ELBO estimate (10,000).
        batch_size: branch-length vectors per likelihood call when drawing many samples.
        shm_delta: mixture weight of the prior in the stabilised harmonic mean (0.01).
        live_points: nested sampling live points (50).
        ns_replace: live points replaced per nested-sampling iteration (1 is classic NS; more
            replaces the k worst at once with the matching order-statistics shrinkage).
        ns_steps: constrained random-walk steps per replacement.
        ns_tolerance: stop when the live points can add less than this fraction to Z.
        ns_max_iterations: safety cap on nested-sampling iterations.
        vi_iterations: Adam steps of the mean-field variational fit (ELBO, VBIS).
        vi_samples: reparameterised draws per Adam step.
        vi_learning_rate: Adam learning rate.
        optimizer_iterations: L-BFGS iterations for the ML / MAP / Laplace modes.
        min_ess: a chain (or power posterior) whose effective sample size is below this gets a
            warning on its estimate: with fewer than ~20 effective draws the ESS itself, and so
            the standard error built on it, is unreliable (20).
        bridge_tolerance: bridge sampling stops when its iterate changes by less than this
            relative amount (1e-10, as Gronau et al.'s bridgesampling).
        bridge_max_iterations: bridge sampling's cap; reaching it marks the estimate unconverged.

    `EstimatorConfig()` is the study's budget (days of CPU per data set); ``preset("quick")`` is
    the budget sized for seconds to a minute per estimate on a 30-taxon tree.
    """

    mcmc: MCMCConfig = field(default_factory=MCMCConfig)
    posterior_mcmc: MCMCConfig | None = None
    n_steps: int = 50
    alpha: float = 0.3
    importance_samples: int = 10_000
    batch_size: int = 500
    shm_delta: float = 0.01
    live_points: int = 50
    ns_replace: int = 1
    ns_steps: int = 20
    ns_tolerance: float = 1e-3
    ns_max_iterations: int = 200_000
    vi_iterations: int = 5_000
    vi_samples: int = 10
    vi_learning_rate: float = 0.01
    optimizer_iterations: int = 200
    min_ess: float = 20.0
    bridge_tolerance: float = 1e-10
    bridge_max_iterations: int = 1000

    @classmethod
    def preset(cls, name: str) -> EstimatorConfig:
        """A named budget: "study" (the paper's, `EstimatorConfig()`) or "quick".

        "quick": 8 power posteriors of 1000 iterations (every 2nd kept, 20 burn-in iterations),
        a 3000-iteration posterior chain, 1000 importance draws, 16 live points replaced 4 at a
        time, 300 variational steps, 100 L-BFGS iterations. On DS2 (29 taxa, 55 branches) GSS
        at this budget ranks the SRF's most probable topology first (tests/phylo_marglik/
        test_study_ds2.py: 640 s for its 5 topologies on a shared 2-core machine at load ~17).

        Raises:
            InputError: an unknown name.
        """
        if name == "study":
            return cls()
        if name == "quick":
            return cls(
                mcmc=MCMCConfig(iterations=1000, thin=2, burnin=10),
                posterior_mcmc=MCMCConfig(iterations=3000, thin=3, burnin=20),
                n_steps=8,
                importance_samples=1000,
                live_points=16,
                ns_replace=4,
                ns_steps=5,
                ns_tolerance=1e-2,
                ns_max_iterations=2000,
                vi_iterations=300,
                vi_samples=4,
                vi_learning_rate=0.03,
                optimizer_iterations=100,
            )
        raise InputError("unknown budget", item=name, expected="quick or study")

    def __post_init__(self) -> None:
        checks = {
            "n_steps": self.n_steps >= 1,
            "alpha": self.alpha > 0,
            "importance_samples": self.importance_samples >= 2,
            "batch_size": self.batch_size >= 1,
            "shm_delta": 0 < self.shm_delta < 1,
            "live_points": self.live_points >= 2,
            "ns_replace": 1 <= self.ns_replace < self.live_points,
            "ns_steps": self.ns_steps >= 1,
            "vi_iterations": self.vi_iterations >= 1,
            "vi_samples": self.vi_samples >= 1,
            "min_ess": self.min_ess >= 0,
            "bridge_tolerance": self.bridge_tolerance > 0,
            "bridge_max_iterations": self.bridge_max_iterations >= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise InputError("invalid estimator setting", item=f"{name}={getattr(self, name)!r}")

    def temperatures(self) -> Any:
        """(n_steps + 1,) power-posterior temperatures from 0 to 1 at Beta(alpha, 1) quantiles."""
        import torch

        k = torch.arange(self.n_steps + 1, dtype=torch.float64) / self.n_steps
        return k ** (1.0 / self.alpha)


@dataclass(frozen=True)
class ExponentialPrior:
    """I.i.d. Exponential(rate) prior on every branch length (the study: rate 10)."""

    rate: float = 10.0

    def __post_init__(self) -> None:
        if not self.rate > 0:
            raise InputError("the exponential prior's rate must be positive", item=self.rate)

    def log_prob(self, branch_lengths: Any) -> Any:
        """(B, E) lengths -> (B,) log density."""
        e = branch_lengths.shape[-1]
        return e * math.log(self.rate) - self.rate * branch_lengths.sum(-1)

    def sample(self, shape: tuple[int, int], generator: Any) -> Any:
        """(B, E) float64 draws."""
        import torch

        u = torch.rand(shape, generator=generator, dtype=torch.float64)
        return -torch.log1p(-u) / self.rate


@dataclass(frozen=True)
class StudyConfig:
    """Which estimators, how many replicates (the study: all 19, 10 replicates) and their budgets."""

    estimators: tuple[str, ...] = STUDY_ORDER
    replicates: int = 10
    estimator: EstimatorConfig = field(default_factory=EstimatorConfig)

    def __post_init__(self) -> None:
        if self.replicates < 1:
            raise InputError("the study needs at least one replicate", item=f"replicates={self.replicates}")
        if not self.estimators:
            raise InputError("the study needs at least one estimator", item="estimators=()")
