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

from phylo_marglik.configs import EstimatorConfig
from phylo_marglik.posterior import BranchLengthPosterior

__all__ = [
    "ESTIMATORS",
    "Estimate",
    "EstimatorConfig",
    "EstimatorContext",
    "gamma_draws",
    "log_mean_exp",
    "register",
]


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
        converged: False when the method did not reach its own stopping rule or met a
            degenerate sample (the value is then not to be trusted; `problems` says why).
        problems: why the estimate is unconverged (empty when converged).
        warnings: conditions that make the standard error or value doubtful without
            invalidating it (e.g. a chain ESS below ``config.min_ess``).
    """

    method: str
    log_marginal_likelihood: float
    stderr: float
    likelihood_evaluations: int
    seconds: float
    diagnostics: dict[str, float] = field(default_factory=dict)
    converged: bool = True
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


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
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def unconverged(self, reason: str) -> None:
        """Mark this estimate unconverged, saying why (shown in `Estimate.problems`)."""
        self.problems.append(reason)

    def warn(self, message: str) -> None:
        """Attach a warning to this estimate (`Estimate.warnings`) and emit it as a `UserWarning`."""
        import warnings

        self.warnings.append(message)
        warnings.warn(message, stacklevel=3)

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


def gamma_draws(shape: torch.Tensor, rate: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, E) independent Gamma(shape_e, rate_e) draws from `generator` alone.

    torch's gamma sampler takes no generator (it reads the global one), so the draws come from a
    NumPy generator seeded by one draw of `generator`: reproducible from it, no process-wide state.
    """
    import numpy as np

    seed = int(torch.randint(2**62, (1,), generator=generator))
    rng = np.random.default_rng(seed)
    draws = rng.standard_gamma(shape.detach().cpu().numpy(), size=(n, shape.shape[0]))
    return torch.from_numpy(draws).to(shape.dtype) / rate
