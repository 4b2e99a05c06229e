"""phylo_marglik: the marginal likelihood of a phylogenetic tree topology with its branch lengths
integrated out, by the 19 estimators compared in Fourment et al., "19 dubious ways to compute
the marginal likelihood of a phylogenetic tree topology" (Systematic Biology 69(2), 2020).

>>> from phylo_marglik import load_study_dataset, BranchLengthPosterior, marginal_likelihood
>>> case = load_study_dataset("DS2")
>>> posterior = BranchLengthPosterior(case.topologies[0], case.patterns)  # JC69, Exp(10) prior
>>> estimate = marginal_likelihood(posterior, "gss")  # the study's budgets
"""

from phylo_marglik.alignment import Alignment, SitePatterns, compress_patterns, read_alignment
from phylo_marglik.data import (
    TopologySet,
    load_study_dataset,
    load_topology_set,
    simulate_alignment,
    simulated_case,
    study_data_dir,
)
from phylo_marglik.estimators import (
    ESTIMATORS,
    Estimate,
    EstimatorConfig,
    estimator_names,
    marginal_likelihood,
)
from phylo_marglik.likelihood import TreeLikelihood
from phylo_marglik.mcmc import ChainSamples, MCMCConfig, effective_sample_size, power_posterior_mcmc
from phylo_marglik.metrics import kl_divergence, normalize_log, split_probabilities, split_rmsd
from phylo_marglik.posterior import BranchLengthPosterior, ExponentialPrior
from phylo_marglik.study import StudyConfig, run_study, score_study
from phylo_marglik.substitution import GTR, JC69, SubstitutionModel
from phylo_marglik.tree import Topology, parse_newick, read_credible_set, read_trees

__all__ = [
    "ESTIMATORS",
    "GTR",
    "JC69",
    "Alignment",
    "BranchLengthPosterior",
    "ChainSamples",
    "Estimate",
    "EstimatorConfig",
    "ExponentialPrior",
    "MCMCConfig",
    "SitePatterns",
    "StudyConfig",
    "SubstitutionModel",
    "Topology",
    "TopologySet",
    "TreeLikelihood",
    "compress_patterns",
    "effective_sample_size",
    "estimator_names",
    "kl_divergence",
    "load_study_dataset",
    "load_topology_set",
    "marginal_likelihood",
    "normalize_log",
    "parse_newick",
    "power_posterior_mcmc",
    "read_alignment",
    "read_credible_set",
    "read_trees",
    "run_study",
    "score_study",
    "simulate_alignment",
    "simulated_case",
    "split_probabilities",
    "split_rmsd",
    "study_data_dir",
]
__version__ = "0.1.0"
