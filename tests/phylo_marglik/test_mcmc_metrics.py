"""The MCMC kernel samples known distributions; ESS and the study's metrics against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from phylo_marglik.alignment import Alignment, compress_patterns
from phylo_marglik.mcmc import MCMCConfig, effective_sample_size, power_posterior_mcmc
from phylo_marglik.metrics import kl_divergence, split_probabilities, split_rmsd
from phylo_marglik.posterior import BranchLengthPosterior
from phylo_marglik.tree import parse_newick


def test_temperature_zero_chains_sample_the_exponential_prior():
    aln = Alignment(("a", "b", "c"), ("ACGTTGCA", "ACGTAGCA", "TCGTTGCC"))
    posterior = BranchLengthPosterior(parse_newick("(a,b,c);", aln.taxa), compress_patterns(aln))
    betas = torch.zeros(8, dtype=torch.float64)
    samples = power_posterior_mcmc(
        posterior, betas, MCMCConfig(iterations=3000, thin=3, burnin=30), torch.Generator().manual_seed(1)
    )
    lengths = samples.branch_lengths.reshape(-1).numpy()
    # Exponential(10): mean 0.1; pooled over 8 chains x 3 branches with ESS-based error
    ess = float(samples.ess.sum()) * 3
    assert abs(lengths.mean() - 0.1) < 4 * 0.1 / math.sqrt(ess)
    thinned = samples.branch_lengths[::5].reshape(-1).numpy()
    assert stats.kstest(thinned, "expon", args=(0, 0.1)).pvalue > 1e-3
    assert ((samples.acceptance > 0.1) & (samples.acceptance < 0.9)).all()


def test_effective_sample_size_of_ar1_matches_closed_form():
    rng = np.random.default_rng(0)
    n, rho = 20000, 0.8
    x = np.zeros((n, 3))
    noise = rng.normal(size=(n, 3))
    for i in range(1, n):
        x[i] = rho * x[i - 1] + noise[i]
    ess = effective_sample_size(torch.from_numpy(x))
    expected = n * (1 - rho) / (1 + rho)
    assert torch.allclose(ess, torch.full((3,), expected, dtype=torch.float64), rtol=0.15)
    independent = effective_sample_size(torch.from_numpy(noise))
    assert torch.allclose(independent, torch.full((3,), float(n), dtype=torch.float64), rtol=0.15)


def test_kl_divergence_closed_form_and_invariance_to_offsets():
    p = np.array([0.5, 0.3, 0.2])
    q = np.array([0.2, 0.3, 0.5])
    expected = float(np.sum(p * np.log(p / q)))
    assert kl_divergence(p * 7, np.log(q) - 1234.5) == pytest.approx(expected)
    assert kl_divergence(p, np.log(p)) == pytest.approx(0.0, abs=1e-12)


def test_split_probabilities_and_rmsd_by_hand():
    taxa = tuple("abcde")
    t1 = parse_newick("((a,b),c,(d,e));", taxa)  # splits {a,b}|..., {d,e}|...
    t2 = parse_newick("((a,c),b,(d,e));", taxa)  # splits {a,c}|..., {d,e}|...
    probs = split_probabilities([t1, t2], [0.75, 0.25])
    de = 0b11000
    ab_other_side = 0b11100  # {c,d,e}: the side without tip a
    ac_other_side = 0b11010  # {b,d,e}
    assert probs == pytest.approx({de: 1.0, ab_other_side: 0.75, ac_other_side: 0.25})
    # estimate 50/50: differences 0, 0.25, -0.25 over three splits
    value = split_rmsd([t1, t2], [0.75, 0.25], np.log([0.5, 0.5]))
    assert value == pytest.approx(math.sqrt((0.25**2 * 2) / 3))
