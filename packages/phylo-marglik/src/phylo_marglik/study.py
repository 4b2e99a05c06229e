"""The study's protocol: every estimator on every listed topology, replicated, then scored.

For each replicate and topology, all estimators share one cache (one posterior MCMC, one set of
power posteriors, one mode...), exactly as the study derived several estimators from one run;
each estimate still reports the full cost of what it used.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import torch

from core.progress import progress
from phylo_marglik.configs import StudyConfig
from phylo_marglik.data import TopologySet
from phylo_marglik.estimators import marginal_likelihood
from phylo_marglik.metrics import kl_divergence, normalize_log, split_rmsd
from phylo_marglik.posterior import BranchLengthPosterior
from phylo_marglik.substitution import SubstitutionModel

__all__ = ["StudyConfig", "run_study", "score_study"]


def run_study(
    case: TopologySet, config: StudyConfig, seed: int = 0, model: SubstitutionModel | None = None
) -> list[dict[str, Any]]:
    """Run every estimator on every topology of `case`, `config.replicates` times.

    Returns:
        One record per (replicate, topology, estimator): ``replicate, tree, method, log_ml,
        stderr, evaluations, seconds, converged, problems, warnings`` plus the estimator's
        diagnostics (``diag_*``).
    """
    records: list[dict[str, Any]] = []
    _announce(case, config)
    jobs = [(r, t) for r in range(config.replicates) for t in range(len(case.topologies))]
    for replicate, tree in progress(jobs, desc=f"{case.name}: replicates x topologies"):
        posterior = BranchLengthPosterior(case.topologies[tree], case.patterns, model)
        generator = torch.Generator().manual_seed(seed * 1_000_003 + replicate * 1009 + tree)
        cache: dict[str, Any] = {}
        for method in config.estimators:
            estimate = marginal_likelihood(
                posterior, method, config=config.estimator, generator=generator, cache=cache, announce=False
            )
            records.append(
                {
                    "replicate": replicate,
                    "tree": tree,
                    "method": method,
                    "log_ml": estimate.log_marginal_likelihood,
                    "stderr": estimate.stderr,
                    "evaluations": estimate.likelihood_evaluations,
                    "seconds": estimate.seconds,
                    "converged": estimate.converged,
                    "problems": "; ".join(estimate.problems),
                    "warnings": "; ".join(estimate.warnings),
                    **{f"diag_{k}": v for k, v in estimate.diagnostics.items()},
                }
            )
    return records


def _announce(case: TopologySet, config: StudyConfig) -> None:
    """Print the expected cost of the whole study before it starts, when over a minute."""
    from phylo_marglik.estimators.cost import ANNOUNCE_SECONDS, _rate, expected_evaluations

    posterior = BranchLengthPosterior(case.topologies[0], case.patterns)
    shared_power = {"ss", "ps", "mps"} & set(config.estimators)
    methods = [m for m in config.estimators if m not in shared_power] + sorted(shared_power)[:1]
    per_tree = sum(expected_evaluations(m, config.estimator, posterior.dim) for m in methods)
    total = per_tree * len(case.topologies) * config.replicates
    if total < 20_000:
        return
    seconds = total / _rate(posterior)
    if seconds >= ANNOUNCE_SECONDS:
        print(
            f"{case.name}: {config.replicates} replicates x {len(case.topologies)} topologies x "
            f"{len(config.estimators)} estimators need at most ~{total:.3g} likelihood evaluations "
            f"(~{seconds / 3600:.2g} h on this machine; shared runs counted once)",
            file=sys.stderr,
            flush=True,
        )


def score_study(case: TopologySet, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """KL(SRF || estimate) and split RMSD per (method, replicate), with cost per estimate.

    Raises:
        ValueError: when the case carries no reference probabilities.
    """
    if case.reference is None:
        raise ValueError(f"{case.name} has no reference probabilities to score against")
    n_trees = len(case.topologies)
    scores = []
    keys = sorted({(r["method"], r["replicate"]) for r in records})
    for method, replicate in keys:
        rows = sorted(
            (r for r in records if r["method"] == method and r["replicate"] == replicate),
            key=lambda r: r["tree"],
        )
        log_ml = np.array([r["log_ml"] for r in rows])
        if len(rows) != n_trees or not np.all(np.isfinite(log_ml)):
            continue
        scores.append(
            {
                "method": method,
                "replicate": replicate,
                "kl": kl_divergence(case.reference, log_ml),
                "split_rmsd": split_rmsd(case.topologies, case.reference, log_ml),
                "top_tree": int(np.argmax(normalize_log(log_ml))),
                "seconds": float(np.mean([r["seconds"] for r in rows])),
                "evaluations": float(np.mean([r["evaluations"] for r in rows])),
            }
        )
    return scores
