"""The registry of the study's 19 estimators of the topology marginal likelihood.

Use `marginal_likelihood(posterior, "gss")`; `estimator_names()` lists the registry.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from core.errors import InputError
from phylo_marglik.estimators import importance, laplace, nested, posterior_based, power, variational
from phylo_marglik.estimators.base import ESTIMATORS, Estimate, EstimatorConfig, EstimatorContext
from phylo_marglik.posterior import BranchLengthPosterior

__all__ = ["ESTIMATORS", "Estimate", "EstimatorConfig", "estimator_names", "marginal_likelihood"]

_MODULES = (importance, laplace, nested, posterior_based, power, variational)  # fill the registry

# The study's order of presentation (power posteriors, posterior-sample based, sampling, optimisation).
STUDY_ORDER = (
    "gss", "ss", "ps", "mps", "hm", "shm", "bs", "cpo", "ppd",
    "nmc", "ns", "ml", "map", "gl", "ll", "bl", "glis", "elbo", "vbis",
)  # fmt: skip


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
    generator: torch.Generator | None = None,
    seed: int = 0,
    cache: dict[str, Any] | None = None,
) -> Estimate:
    """Estimate ``log p(D | tau)`` of the posterior's topology with the named estimator.

    Args:
        posterior: the branch-length posterior of one topology.
        method: a registry name (`estimator_names()`), case-insensitive.
        config: budgets; the study's defaults when None.
        generator: randomness; a fresh one seeded with `seed` when None.
        seed: seed used when `generator` is None.
        cache: a dict to share MCMC runs, modes and fits between estimators of the same
            posterior, config and replicate (each estimate still reports its full cost).

    Returns:
        An `Estimate` (value, standard error or NaN, likelihood evaluations, seconds, diagnostics).

    Raises:
        InputError: unknown estimator name.
    """
    name = method.lower()
    if name not in ESTIMATORS:
        raise InputError("unknown estimator", item=method, expected=f"one of {', '.join(estimator_names())}")
    cfg = config if config is not None else EstimatorConfig()
    gen = generator if generator is not None else torch.Generator().manual_seed(seed)
    ctx = EstimatorContext(posterior, cfg, gen, cache)
    before = posterior.evaluations
    start = time.perf_counter()
    value, stderr, diagnostics = ESTIMATORS[name].fn(ctx)
    seconds = time.perf_counter() - start
    # This call's own work (shared pieces computed here excluded) plus every piece it used.
    evaluations = posterior.evaluations - before - ctx.fresh_evaluations + ctx.charged_evaluations
    seconds = seconds - ctx.fresh_seconds + ctx.charged_seconds
    return Estimate(name, float(value), float(stderr), int(evaluations), float(seconds), diagnostics)
