"""The registry of the study's 19 estimators of the topology marginal likelihood.

Use `marginal_likelihood(posterior, "gss")`; `estimator_names()` lists the registry.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from core.errors import InputError
from phylo_marglik.configs import STUDY_ORDER
from phylo_marglik.estimators import importance, laplace, nested, posterior_based, power, variational
from phylo_marglik.estimators.base import ESTIMATORS, Estimate, EstimatorConfig, EstimatorContext
from phylo_marglik.estimators.cost import announce_cost, expected_evaluations
from phylo_marglik.posterior import BranchLengthPosterior

__all__ = [
    "ESTIMATORS",
    "Estimate",
    "EstimatorConfig",
    "estimator_names",
    "expected_evaluations",
    "marginal_likelihood",
]

_MODULES = (importance, laplace, nested, posterior_based, power, variational)  # fill the registry


def estimator_names() -> tuple[str, ...]:
    """Registered estimator names, in the study's order."""
    return tuple(name for name in STUDY_ORDER if name in ESTIMATORS) + tuple(
        sorted(set(ESTIMATORS) - set(STUDY_ORDER))
    )


def marginal_likelihood(
    posterior: BranchLengthPosterior,
    method: str = "gss",
    *,
    config: EstimatorConfig | None = None,
    budget: str = "quick",
    generator: torch.Generator | None = None,
    seed: int = 0,
    cache: dict[str, Any] | None = None,
    announce: bool = True,
) -> Estimate:
    """Estimate ``log p(D | tau)`` of the posterior's topology with the named estimator.

    Args:
        posterior: the branch-length posterior of one topology.
        method: a registry name (`estimator_names()`), case-insensitive.
        config: budgets; when None, the named `budget`.
        budget: "quick" (default: seconds to a minute on a 30-taxon tree) or "study" (the
            paper's budget: days of CPU); see `EstimatorConfig.preset`. Ignored when `config` is given.
        generator: randomness; a fresh one seeded with `seed` when None.
        seed: seed used when `generator` is None.
        cache: a dict to share MCMC runs, modes and fits between estimators of the same
            posterior, config and replicate (each estimate still reports its full cost).
        announce: print the expected cost to stderr before a run expected to take over a minute.

    Returns:
        An `Estimate` (value, standard error or NaN, likelihood evaluations, seconds, diagnostics).

    Raises:
        InputError: unknown estimator name.
    """
    name = method.lower()
    if name not in ESTIMATORS:
        raise InputError("unknown estimator", item=method, expected=f"one of {', '.join(estimator_names())}")
    cfg = config if config is not None else EstimatorConfig.preset(budget)
    gen = generator if generator is not None else torch.Generator().manual_seed(seed)
    ctx = EstimatorContext(posterior, cfg, gen, cache)
    if announce:
        announce_cost(posterior, name, cfg, cache)
    before = posterior.evaluations
    start = time.perf_counter()
    value, stderr, diagnostics = ESTIMATORS[name].fn(ctx)
    seconds = time.perf_counter() - start
    # This call's own work (shared pieces computed here excluded) plus every piece it used.
    evaluations = posterior.evaluations - before - ctx.fresh_evaluations + ctx.charged_evaluations
    seconds = seconds - ctx.fresh_seconds + ctx.charged_seconds
    return Estimate(
        name,
        float(value),
        float(stderr),
        int(evaluations),
        float(seconds),
        diagnostics,
        converged=not ctx.problems,
        problems=tuple(ctx.problems),
        warnings=tuple(ctx.warnings),
    )
