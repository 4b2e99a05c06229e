"""The study's own data: DS2 (29 taxa, 5 topologies) scored against its SRF posterior."""

from __future__ import annotations

import numpy as np

from phylo_marglik.data import load_study_dataset
from phylo_marglik.estimators import EstimatorConfig
from phylo_marglik.mcmc import MCMCConfig
from phylo_marglik.metrics import kl_divergence
from phylo_marglik.study import StudyConfig, run_study, score_study


def test_gamma_laplus_on_ds2_ranks_the_srf_top_topology_first_and_beats_a_uniform_guess(study_data):
    case = load_study_dataset("DS2", study_data)
    assert len(case.topologies) == 5 and case.reference is not None
    config = StudyConfig(
        estimators=("gl",), replicates=1, estimator=EstimatorConfig(optimizer_iterations=100)
    )
    records = run_study(case, config, seed=0)
    (score,) = score_study(case, records)
    assert score["top_tree"] == int(np.argmax(case.reference)) == 0
    uniform = kl_divergence(case.reference, np.zeros(5))
    assert score["kl"] < 0.5 * uniform, (score, uniform)
    assert score["split_rmsd"] < 0.1


def test_generalised_stepping_stone_with_short_chains_ranks_the_srf_top_topology_first(study_data):
    """The issue's check of the study's best estimator, at the "quick" preset (the default budget of
    `marginal_likelihood`): GSS on DS2 with chains ~1000x shorter than
    the study's (8 power posteriors of 1000 iterations, a 3000-iteration posterior run for the gamma
    reference) still puts the SRF's most probable topology first and halves a uniform guess's KL.
    Measured here: seed 0 KL 0.028, seed 1 KL 0.116 (uniform 0.319); 150-iteration chains were not
    enough (seed 1 ranked tree 4 first)."""
    case = load_study_dataset("DS2", study_data)
    estimator = EstimatorConfig.preset("quick")  # exactly this budget for GSS
    assert estimator.mcmc == MCMCConfig(iterations=1000, thin=2, burnin=10) and estimator.n_steps == 8
    assert estimator.posterior_mcmc == MCMCConfig(iterations=3000, thin=3, burnin=20)
    records = run_study(case, StudyConfig(estimators=("gss",), replicates=1, estimator=estimator), seed=0)
    (score,) = score_study(case, records)
    assert score["top_tree"] == int(np.argmax(case.reference)) == 0
    assert score["kl"] < 0.5 * kl_divergence(case.reference, np.zeros(5)), score
