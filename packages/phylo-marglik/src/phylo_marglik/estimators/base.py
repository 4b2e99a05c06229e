"""What every estimator shares: its result type, its configuration, the registry and a cache of
the expensive pieces (modes, MCMC runs, variational fits) that several estimators reuse.

Every estimator has the signature ``fn(context) -> (log_ml, stderr, diagnostics)``; the registry
wraps it so that the returned `Estimate` counts every likelihood evaluation and second the
estimate needed, including shared pieces taken from the cache (each estimate reports its full
cost, as if run alone).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from core.errors import InputError
from phylo_marglik.mcmc import MCMCConfig
from phylo_marglik.posterior import BranchLengthPosterior

__all__ = [
    "ESTIMATORS",
    "Estimate",
    "EstimatorConfig",
    "EstimatorContext",
    "log_mean_exp",
    "register",
]


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
        }
        for name, ok in checks.items():
            if not ok:
                raise InputError("invalid estimator setting", item=f"{name}={getattr(self, name)!r}")

    def temperatures(self) -> torch.Tensor:
        """(n_steps + 1,) power-posterior temperatures from 0 to 1 at Beta(alpha, 1) quantiles."""
        k = torch.arange(self.n_steps + 1, dtype=torch.float64) / self.n_steps
        return k ** (1.0 / self.alpha)


@dataclass(frozen=True)
class Estimate:
    """One estimate of the log marginal likelihood of a topology.

    Attributes:
        method: registry name ("gss", "hm", ...).
        log_marginal_likelihood: the estimate of ``log p(D | tau)`` (nats).
        stderr: its standard error (nats) where the method defines one, else NaN.
        likelihood_evaluations: branch-length vectors evaluated (shared pieces included).
        seconds: wall time (shared pieces included).
        diagnostics: acceptance rates, ESS and other method-specific figures.
    """

    method: str
    log_marginal_likelihood: float
    stderr: float
    likelihood_evaluations: int
    seconds: float
    diagnostics: dict[str, float] = field(default_factory=dict)


class EstimatorContext:
    """The posterior, settings and randomness of one estimate, plus the shared-piece cache.

    Args:
        posterior: the branch-length posterior of one topology.
        config: budgets.
        generator: randomness.
        cache: a dict shared between estimates of the same posterior, config and replicate
            (pass the same dict to reuse an MCMC run across SS, PS, MPS, ...); None for none.

    Cost accounting: each cached piece stores its own (exclusive) cost and the pieces it used;
    an estimate is charged every piece it touched, directly or through another piece, once.
    """

    def __init__(
        self,
        posterior: BranchLengthPosterior,
        config: EstimatorConfig,
        generator: torch.Generator,
        cache: dict[str, Any] | None = None,
    ) -> None:
        self.posterior = posterior
        self.config = config
        self.generator = generator
        self.cache = cache if cache is not None else {}
        self.charged_evaluations = 0
        self.charged_seconds = 0.0
        self.fresh_evaluations = 0
        self.fresh_seconds = 0.0
        self._charged: set[str] = set()
        self._stack: list[list[str]] = []

    def shared(self, key: str, compute: Callable[[], Any]) -> Any:
        """Value of `compute()` stored under `key`; its cost is charged to every user of it."""
        if self._stack:
            self._stack[-1].append(key)
        if key not in self.cache:
            self._stack.append([])
            before_ev, before_t = self.posterior.evaluations, time.perf_counter()
            inner_ev, inner_t = self.fresh_evaluations, self.fresh_seconds
            value = compute()
            deps = self._stack.pop()
            own_ev = self.posterior.evaluations - before_ev - (self.fresh_evaluations - inner_ev)
            own_t = time.perf_counter() - before_t - (self.fresh_seconds - inner_t)
            self.fresh_evaluations += own_ev
            self.fresh_seconds += own_t
            self.cache[key] = (value, own_ev, own_t, tuple(deps))
        self._charge(key)
        return self.cache[key][0]

    def _charge(self, key: str) -> None:
        if key in self._charged:
            return
        self._charged.add(key)
        _, evaluations, seconds, deps = self.cache[key]
        self.charged_evaluations += evaluations
        self.charged_seconds += seconds
        for dep in deps:
            self._charge(dep)


EstimatorFn = Callable[[EstimatorContext], tuple[float, float, dict[str, float]]]


@dataclass(frozen=True)
class _Entry:
    fn: EstimatorFn
    summary: str


ESTIMATORS: dict[str, _Entry] = {}


def register(name: str, summary: str) -> Callable[[EstimatorFn], EstimatorFn]:
    """Decorator adding an estimator to the registry under `name`."""

    def add(fn: EstimatorFn) -> EstimatorFn:
        ESTIMATORS[name] = _Entry(fn, summary)
        return fn

    return add


def log_mean_exp(log_values: torch.Tensor, n_effective: float | None = None) -> tuple[float, float]:
    """``log mean exp(v)`` and its delta-method standard error ``sd(w) / (sqrt(n) mean(w))``.

    Args:
        log_values: (n,) values in log space.
        n_effective: sample size to use in the standard error (an ESS); default n.
    """
    v = log_values.to(torch.float64)
    n = v.shape[0]
    top = v.max()
    w = torch.exp(v - top)
    mean = w.mean()
    value = float(top + torch.log(mean))
    size = float(n if n_effective is None else max(n_effective, 2.0))
    se = float(w.std() / (math.sqrt(size) * mean)) if n > 1 else float("nan")
    return value, se
