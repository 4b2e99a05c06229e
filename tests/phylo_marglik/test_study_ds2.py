"""The study's own data: DS2 (29 taxa, 5 topologies) scored against its SRF posterior."""

from __future__ import annotations

import numpy as np

from phylo_marglik.data import load_study_dataset
from phylo_marglik.estimators import EstimatorConfig
from phylo_marglik.metrics import kl_divergence
from phylo_marglik.study import StudyConfig, run_study, score_study


def test_gamma_laplus_on_ds2_ranks_the_srf_top_topology_first_and_beats_a_uniform_guess():
    case = load_study_dataset("DS2")
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
