"""Every consistent estimator against the marginal likelihood by numerical quadrature on a
3-taxon tree (3 branch lengths), plus the harmonic mean's upward bias and registry errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp

from core.errors import InputError
from phylo_marglik.alignment import compress_patterns
from phylo_marglik.data import simulate_alignment
from phylo_marglik.estimators import EstimatorConfig, estimator_names, marginal_likelihood
from phylo_marglik.mcmc import MCMCConfig
from phylo_marglik.posterior import BranchLengthPosterior
from phylo_marglik.tree import parse_newick

RATE = 10.0


def _quadrature_log_ml(patterns, grid_points: int) -> float:
    """log int L(t) prod_i 10 exp(-10 t_i) dt over a log-spaced grid (trapezoid in log t),
    with the JC69 star-tree likelihood written out by hand."""
    x = np.linspace(math.log(1e-5), math.log(3.0), grid_points)
    t = np.exp(x)
    decay = np.exp(-4.0 * t / 3.0)
    same, diff = 0.25 + 0.75 * decay, 0.25 - 0.25 * decay  # (G,)
    tips = patterns.tip_partials.numpy()  # (3, P, 4)
    weights = patterns.weights.numpy()
    log_lik = np.zeros((grid_points,) * 3)
    for p in range(tips.shape[1]):
        site = np.zeros((grid_points,) * 3)
        for root in range(4):
            factors = []
            for tip in range(3):
                allowed = tips[tip, p]
                factors.append(allowed[root] * same + (allowed.sum() - allowed[root]) * diff)
            site += 0.25 * factors[0][:, None, None] * factors[1][None, :, None] * factors[2][None, None, :]
        log_lik += weights[p] * np.log(site)
    log_prior = 3 * math.log(RATE) - RATE * (t[:, None, None] + t[None, :, None] + t[None, None, :])
    log_jac = x[:, None, None] + x[None, :, None] + x[None, None, :]
    log_f = log_lik + log_prior + log_jac
    trap = np.ones(grid_points)
    trap[[0, -1]] = 0.5
    log_w = np.log(trap)
    log_w3 = log_w[:, None, None] + log_w[None, :, None] + log_w[None, None, :]
    return float(logsumexp(log_f + log_w3) + 3 * math.log(x[1] - x[0]))


@pytest.fixture(scope="module")
def three_taxa():
    taxa = ("a", "b", "c")
    tree = parse_newick("(a:0.1,b:0.2,c:0.05);", taxa)
    aln = simulate_alignment(tree, tree.branch_lengths, 150, np.random.default_rng(11))
    patterns = compress_patterns(aln)
    truth = _quadrature_log_ml(patterns, 130)
    finer = _quadrature_log_ml(patterns, 170)
    assert abs(truth - finer) < 1e-6  # the quadrature itself has converged
    config = EstimatorConfig(
        mcmc=MCMCConfig(iterations=2000, thin=2, burnin=50),
        n_steps=16,
        importance_samples=4000,
        live_points=40,
        ns_replace=4,
        ns_steps=10,
        vi_iterations=300,
        vi_samples=8,
    )
    posterior = BranchLengthPosterior(tree, patterns)
    cache: dict = {}
    estimates = {
        name: marginal_likelihood(posterior, name, config=config, seed=3, cache=cache)
        for name in estimator_names()
    }
    return truth, estimates


CONSISTENT_WITH_SE = ("gss", "ss", "ps", "mps", "bs", "nmc", "ns", "glis", "vbis")


@pytest.mark.parametrize("name", CONSISTENT_WITH_SE)
def test_consistent_estimator_matches_quadrature_within_its_standard_error(three_taxa, name):
    truth, estimates = three_taxa
    est = estimates[name]
    assert math.isfinite(est.stderr) and est.stderr > 0
    # 4 standard errors, plus 0.05 nats for the discretisation bias of PS (trapezoid over 16 steps).
    assert abs(est.log_marginal_likelihood - truth) < 4 * est.stderr + 0.05, (name, est, truth)
    assert est.likelihood_evaluations > 0 and est.seconds > 0


def test_bridge_sampling_matches_quadrature(three_taxa):
    truth, estimates = three_taxa
    assert abs(estimates["bs"].log_marginal_likelihood - truth) < 0.25


def test_laplus_and_variational_approximations_are_close_and_elbo_is_a_lower_bound(three_taxa):
    truth, estimates = three_taxa
    for name in ("gl", "ll", "bl"):
        assert abs(estimates[name].log_marginal_likelihood - truth) < 1.0, name
    elbo = estimates["elbo"]
    assert elbo.log_marginal_likelihood < truth + 3 * elbo.stderr
    assert elbo.log_marginal_likelihood > truth - 1.0


def test_harmonic_mean_is_biased_upward(three_taxa):
    truth, estimates = three_taxa
    assert estimates["hm"].log_marginal_likelihood > truth + 0.3
    assert estimates["shm"].log_marginal_likelihood > truth


def test_proxies_order_as_their_definitions_imply(three_taxa):
    _, estimates = three_taxa
    # the maximum likelihood bounds every likelihood, so it exceeds the marginal likelihood's proxies
    assert estimates["ml"].log_marginal_likelihood > estimates["ppd"].log_marginal_likelihood
    # lppd >= sum log CPO site by site (arithmetic >= harmonic mean)
    assert estimates["ppd"].log_marginal_likelihood >= estimates["cpo"].log_marginal_likelihood


def test_registry_holds_the_study_19_and_rejects_unknown_names(three_taxa):
    assert len(estimator_names()) == 19
    taxa = ("a", "b", "c")
    tree = parse_newick("(a:0.1,b:0.2,c:0.05);", taxa)
    patterns = compress_patterns(simulate_alignment(tree, tree.branch_lengths, 10, np.random.default_rng(0)))
    with pytest.raises(InputError, match=r"unknown estimator.*harmonic"):
        marginal_likelihood(BranchLengthPosterior(tree, patterns), "harmonic")


def test_estimates_are_reproducible_from_the_seed():
    taxa = ("a", "b", "c")
    tree = parse_newick("(a:0.1,b:0.2,c:0.05);", taxa)
    patterns = compress_patterns(simulate_alignment(tree, tree.branch_lengths, 30, np.random.default_rng(0)))
    posterior = BranchLengthPosterior(tree, patterns)
    config = EstimatorConfig(importance_samples=300)
    first = marginal_likelihood(posterior, "nmc", config=config, seed=5)
    again = marginal_likelihood(posterior, "nmc", config=config, seed=5)
    other = marginal_likelihood(posterior, "nmc", config=config, generator=torch.Generator().manual_seed(6))
    assert first.log_marginal_likelihood == again.log_marginal_likelihood
    assert first.log_marginal_likelihood != other.log_marginal_likelihood
