"""What an estimate will cost before it runs: likelihood evaluations from the budget, seconds from
a measured rate, announced on stderr when the run is expected to take over a minute."""

from __future__ import annotations

import sys
import time
from typing import Any

import torch

from phylo_marglik.estimators.base import EstimatorConfig
from phylo_marglik.mcmc import MCMCConfig
from phylo_marglik.posterior import BranchLengthPosterior

__all__ = ["announce_cost", "expected_evaluations"]

ANNOUNCE_SECONDS = 60.0

_POWER = {"ss", "ps", "mps"}
_POSTERIOR = {"hm", "shm", "bs", "cpo", "ppd"}
_MODE = {"ml", "map", "gl", "ll", "bl"}


def _chain(config: MCMCConfig, chains: int = 1) -> int:
    return chains * (config.burnin * config.thin + config.iterations)


def expected_evaluations(method: str, config: EstimatorConfig, n_branches: int) -> int:
    """Likelihood evaluations (branch-length vectors) one estimate of `method` needs from scratch.

    MCMC: one per chain and iteration (burn-in included); importance sampling: one per draw;
    modes: about ``2 x optimizer_iterations`` plus ``n_branches`` for a Hessian; nested
    sampling: its cap (``ns_max_iterations x ns_replace x ns_steps``), an upper bound.
    """
    mode = 2 * config.optimizer_iterations + n_branches
    posterior = _chain(config.posterior_mcmc or config.mcmc) + mode
    power = _chain(config.mcmc, config.n_steps) + config.mcmc.samples + mode
    vi = config.vi_iterations * config.vi_samples + mode
    table = {
        "gss": posterior + power,
        "nmc": config.importance_samples,
        "glis": config.importance_samples + mode,
        "elbo": vi + config.importance_samples,
        "vbis": vi + config.importance_samples,
        "ns": config.live_points + config.ns_max_iterations * config.ns_replace * config.ns_steps,
    }
    if method in _POWER:
        return power
    if method in _POSTERIOR:
        return posterior + (posterior if method in {"cpo", "ppd"} else 0)
    if method in _MODE:
        return mode
    return table.get(method, 0)


def _rate(posterior: BranchLengthPosterior, rows: int = 64) -> float:
    """Measured likelihood evaluations per second on this machine (one batch of `rows`, after a
    one-row warm-up call: the first call builds cached constants and would read ~100x slow)."""
    theta = torch.full((rows, posterior.dim), 1.0 / posterior.prior.rate, dtype=torch.float64)
    before = posterior.likelihood.evaluations
    with torch.no_grad():
        posterior.log_likelihood(theta[:1])
        start = time.perf_counter()
        posterior.log_likelihood(theta)
    seconds = time.perf_counter() - start
    posterior.likelihood.evaluations = before  # the probe is not part of any estimate's cost
    return rows / max(seconds, 1e-9)


def announce_cost(
    posterior: BranchLengthPosterior, method: str, config: EstimatorConfig, cache: dict[str, Any] | None
) -> float | None:
    """Print the expected cost of `method` to stderr when it exceeds `ANNOUNCE_SECONDS`.

    Skipped when `cache` already holds shared pieces (the cost is then mostly paid). Returns the
    expected seconds when announced, else None.
    """
    if cache:
        return None
    evaluations = expected_evaluations(method, config, posterior.dim)
    if evaluations < 20_000:
        return None
    seconds = evaluations / _rate(posterior)
    if seconds < ANNOUNCE_SECONDS:
        return None
    hours = seconds / 3600
    when = f"{hours:.1f} h" if hours >= 1 else f"{seconds / 60:.0f} min"
    print(
        f"phylo-marglik: {method} at this budget needs about {evaluations:.3g} likelihood evaluations, "
        f"~{when} at the {evaluations / seconds:.0f} evaluations/s measured here "
        "(budget='quick' or a smaller EstimatorConfig for a fast estimate)",
        file=sys.stderr,
        flush=True,
    )
    return seconds
