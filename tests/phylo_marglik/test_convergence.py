"""Estimates that say when they cannot be trusted: ESS (capped, against an independent direct-sum
implementation), standard errors of the power-posterior estimators against the spread of
independent replicates, warnings at low ESS, and bridge sampling's convergence flags."""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy as np
import pytest
import torch

from phylo_marglik.alignment import compress_patterns
from phylo_marglik.data import simulate_alignment
from phylo_marglik.estimators import EstimatorConfig, marginal_likelihood
from phylo_marglik.estimators.posterior_based import bridge_fixed_point
from phylo_marglik.estimators.power import stepping_stone_sum, trapezoid
from phylo_marglik.mcmc import (
    ChainSamples,
    MCMCConfig,
    batch_means_ess,
    effective_sample_size,
    power_posterior_mcmc,
)
from phylo_marglik.posterior import BranchLengthPosterior
from phylo_marglik.reproduce import tables_for
from phylo_marglik.study import StudyConfig
from phylo_marglik.tree import parse_newick


def _geyer_direct(x: np.ndarray) -> float:
    """Geyer's initial monotone sequence ESS with autocovariances summed directly (no FFT)."""
    n = len(x)
    c = x - x.mean()
    acov = np.array([np.dot(c[: n - k], c[k:]) / n for k in range(n)])
    rho = acov / acov[0]
    total, previous = 0.0, math.inf
    for m in range(n // 2):
        pair = rho[2 * m] + rho[2 * m + 1]
        if pair <= 0:
            break
        previous = min(previous, pair)
        total += previous
    return min(n / max(-1.0 + 2.0 * total, 1.0), n)


def _ar1(rho: float, n: int, rng: np.random.Generator) -> np.ndarray:
    x = np.zeros(n)
    noise = rng.normal(size=n)
    for i in range(1, n):
        x[i] = rho * x[i - 1] + noise[i]
    return x


def test_effective_sample_size_matches_a_direct_implementation_and_never_exceeds_the_draws():
    rng = np.random.default_rng(0)
    chains = np.stack([_ar1(rho, 3000, rng) for rho in (0.0, 0.5, 0.9, -0.6)], 1)
    ess = effective_sample_size(torch.from_numpy(chains)).numpy()
    direct = [_geyer_direct(chains[:, j]) for j in range(chains.shape[1])]
    np.testing.assert_allclose(ess, direct, rtol=1e-8)
    # closed form n (1 - rho) / (1 + rho) for the positively correlated chains
    np.testing.assert_allclose(ess[1:3], [3000 / 3, 3000 * 0.1 / 1.9], rtol=0.2)
    # the antithetic chain (rho = -0.6) would give 4x the draws: capped at the number of draws
    assert ess[3] == 3000.0 and (ess <= 3000).all()
    bm = batch_means_ess(torch.from_numpy(chains[:, 1:3])).numpy()
    np.testing.assert_allclose(bm, [3000 / 3, 3000 * 0.1 / 1.9], rtol=0.35)


@pytest.fixture(scope="module")
def four_taxa():
    taxa = ("a", "b", "c", "d")
    tree = parse_newick("((a:0.1,b:0.2):0.05,c:0.1,d:0.15);", taxa)
    aln = simulate_alignment(tree, tree.branch_lengths, 100, np.random.default_rng(4))
    return BranchLengthPosterior(tree, compress_patterns(aln))


def test_power_posterior_standard_errors_match_the_spread_of_independent_replicates(four_taxa):
    """40 independent replicates of SS, PS and MPS (6 power posteriors, 200 kept draws each, the median
    chain ESS above ``min_ess``) run as one batch of chains: the sd of the 40 estimates and their
    mean reported standard error agree within a factor of 1.5."""
    posterior, replicates, kept = four_taxa, 40, 200
    betas = EstimatorConfig(n_steps=6).temperatures()
    gen = torch.Generator().manual_seed(0)
    run = power_posterior_mcmc(posterior, betas[1:].repeat(replicates), MCMCConfig(800, 4, 25), gen)
    prior_ll = posterior.log_likelihood(posterior.prior.sample((replicates * kept, posterior.dim), gen))
    prior_ll = prior_ll.reshape(replicates, kept)
    results: dict[str, list[tuple[float, float]]] = {"ss": [], "ps": [], "mps": []}
    chain_ess = []
    for r in range(replicates):
        ll = torch.cat([prior_ll[r][:, None], run.log_likelihood[:, 6 * r : 6 * (r + 1)]], 1)  # (S, 7)
        value, se, ess = stepping_stone_sum(ll, betas)
        results["ss"].append((value, se))
        chain_ess += ess[1:].tolist()
        chains = ChainSamples(torch.empty(0), ll, torch.empty(0), betas, torch.empty(0), ess, 0, 0.0)
        for name, modified in (("ps", False), ("mps", True)):
            value, se, _ = trapezoid(chains, modified)
            results[name].append((value, se))
    assert np.median(chain_ess) >= EstimatorConfig().min_ess
    for name, pairs in results.items():
        values, ses = np.array(pairs).T
        ratio = values.std(ddof=1) / ses.mean()
        assert 1 / 1.5 < ratio < 1.5, (name, ratio)


def test_low_effective_sample_sizes_put_a_warning_on_the_estimate(four_taxa):
    config = EstimatorConfig(
        mcmc=MCMCConfig(iterations=60, thin=1, burnin=2), n_steps=4, optimizer_iterations=30
    )
    cache: dict = {}
    with pytest.warns(UserWarning, match=r"ESS below 20"):
        est = marginal_likelihood(four_taxa, "ss", config=config, seed=1, cache=cache)
    assert est.converged and est.warnings and "power posteriors have ESS below 20" in est.warnings[0]
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        for name in ("ps", "mps", "gss"):
            assert marginal_likelihood(four_taxa, name, config=config, seed=1, cache=cache).warnings, name


def test_bridge_iteration_stops_on_its_relative_tolerance_and_says_when_it_did_not():
    gen = torch.Generator().manual_seed(0)
    # target q(x) = 7 N(x; 0, 1) (log Z = log 7), proposal g = N(0.3, 1.2^2)
    x1 = torch.randn(4000, generator=gen, dtype=torch.float64)
    x2 = 0.3 + 1.2 * torch.randn(4000, generator=gen, dtype=torch.float64)

    def log_ratio(x: torch.Tensor) -> torch.Tensor:
        log_q = math.log(7) - 0.5 * x**2 - 0.5 * math.log(2 * math.pi)
        log_g = -0.5 * ((x - 0.3) / 1.2) ** 2 - math.log(1.2) - 0.5 * math.log(2 * math.pi)
        return log_q - log_g

    done = bridge_fixed_point(log_ratio(x1), log_ratio(x2), tol=1e-10)
    assert done.converged and done.iterations < 50 and done.last_change < 1e-10
    assert done.log_z == pytest.approx(math.log(7), abs=0.03)
    capped = bridge_fixed_point(log_ratio(x1), log_ratio(x2), tol=1e-10, max_iterations=2)
    assert not capped.converged and capped.iterations == 2


def test_bridge_sampling_flags_a_degenerate_sample_and_a_reached_cap(four_taxa):
    # 8 posterior draws: the first half (4) cannot fit a Gaussian over 5 branch lengths
    few = EstimatorConfig(posterior_mcmc=MCMCConfig(iterations=8, thin=1, burnin=2), optimizer_iterations=30)
    est = marginal_likelihood(four_taxa, "bs", config=few, seed=0)
    assert not est.converged and math.isnan(est.log_marginal_likelihood)
    assert "degenerate sample: 4 posterior samples to fit a 5-dimensional proposal" in est.problems[0]
    capped = EstimatorConfig(
        posterior_mcmc=MCMCConfig(iterations=400, thin=1, burnin=20),
        optimizer_iterations=30,
        bridge_max_iterations=1,
    )
    est = marginal_likelihood(four_taxa, "bs", config=capped, seed=0)
    assert not est.converged and "reached its cap of 1 iterations" in est.problems[0]
    fine = marginal_likelihood(four_taxa, "bs", config=replace(capped, bridge_max_iterations=1000), seed=0)
    assert fine.converged and fine.diagnostics["bridge_iterations"] < 1000 and not fine.problems


def test_every_table_shows_unconverged_estimates(four_taxa):
    from phylo_marglik.data import TopologySet

    case = TopologySet("toy", four_taxa.likelihood.patterns, (four_taxa.topology,), np.array([1.0]))
    records = [
        {"replicate": r, "tree": 0, "method": "bs", "log_ml": -100.0 - r, "stderr": math.nan, "evaluations": 1,
         "seconds": 0.1, "converged": r == 0, "problems": "" if r == 0 else "bridge iteration reached its cap"}
        for r in range(2)
    ]  # fmt: skip
    accuracy, estimates = tables_for(case, records, StudyConfig(estimators=("bs",), replicates=2))
    assert (
        accuracy.rows[0]["unconverged"]
        == estimates.rows[0]["unconverged"]
        == "1 of 2 (bridge iteration reached its cap)"
    )


def test_nested_sampling_standard_error_counts_correlated_replacements(four_taxa):
    """30 independent nested-sampling runs with short replacement walks (3 steps): the sd of their
    estimates and their mean reported standard error agree within a factor of 1.5 (Skilling's
    sqrt(H / N), which treats every replacement as an independent draw, was 1.8x too small here),
    and the estimate warns that its effective live points are few."""
    config = EstimatorConfig(live_points=16, ns_replace=4, ns_steps=3, ns_tolerance=1e-2)
    estimates = []
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        for r in range(30):
            gen = torch.Generator().manual_seed(100 + r)
            estimates.append(marginal_likelihood(four_taxa, "ns", config=config, generator=gen))
    values = np.array([e.log_marginal_likelihood for e in estimates])
    ratio = values.std(ddof=1) / np.mean([e.stderr for e in estimates])
    assert 1 / 1.5 < ratio < 1.5, ratio
    assert all("effective live points" in e.warnings[0] for e in estimates)


def test_default_budget_is_quick_and_a_long_run_announces_its_cost(four_taxa, capsys):
    from phylo_marglik.estimators.cost import announce_cost, expected_evaluations

    quick = EstimatorConfig.preset("quick")
    assert marginal_likelihood(four_taxa, "nmc", seed=0).likelihood_evaluations == quick.importance_samples
    study = EstimatorConfig()
    assert expected_evaluations("gss", study, four_taxa.dim) > 5e7
    seconds = announce_cost(four_taxa, "gss", study, None)
    err = capsys.readouterr().err
    assert seconds is not None and seconds > 60 and "gss at this budget needs about" in err
    assert announce_cost(four_taxa, "gss", quick, None) is None
