"""phylo_marglik: the marginal likelihood of a phylogenetic tree topology with its branch lengths
integrated out, by the 19 estimators compared in Fourment et al., "19 dubious ways to compute
the marginal likelihood of a phylogenetic tree topology" (Systematic Biology 69(2), 2020).

>>> from phylo_marglik import load_study_dataset, BranchLengthPosterior, marginal_likelihood
>>> case = load_study_dataset("DS2")  # after `phylo-marglik data fetch`, or load_study_dataset("DS2", data=DIR)
>>> posterior = BranchLengthPosterior(case.topologies[0], case.patterns)  # JC69, Exp(10) prior
>>> estimate = marginal_likelihood(posterior, "gss")  # the "quick" budget (seconds); budget="study" for the paper's

Names are imported on first use (PEP 562), so ``import phylo_marglik`` loads neither torch nor
DendroPy, SciPy or matplotlib.
"""

from __future__ import annotations

from core.lazy import lazy_exports

_WHERE = {
    "Alignment": "phylo_marglik.alignment",
    "SitePatterns": "phylo_marglik.alignment",
    "compress_patterns": "phylo_marglik.alignment",
    "read_alignment": "phylo_marglik.alignment",
    "TopologySet": "phylo_marglik.data",
    "fetch_study_data": "phylo_marglik.data",
    "load_study_dataset": "phylo_marglik.data",
    "load_topology_set": "phylo_marglik.data",
    "simulate_alignment": "phylo_marglik.data",
    "simulated_case": "phylo_marglik.data",
    "study_data_dir": "phylo_marglik.data",
    "ESTIMATORS": "phylo_marglik.estimators",
    "Estimate": "phylo_marglik.estimators",
    "EstimatorConfig": "phylo_marglik.estimators",
    "estimator_names": "phylo_marglik.estimators",
    "marginal_likelihood": "phylo_marglik.estimators",
    "TreeLikelihood": "phylo_marglik.likelihood",
    "ChainSamples": "phylo_marglik.mcmc",
    "MCMCConfig": "phylo_marglik.mcmc",
    "effective_sample_size": "phylo_marglik.mcmc",
    "power_posterior_mcmc": "phylo_marglik.mcmc",
    "kl_divergence": "phylo_marglik.metrics",
    "normalize_log": "phylo_marglik.metrics",
    "split_probabilities": "phylo_marglik.metrics",
    "split_rmsd": "phylo_marglik.metrics",
    "BranchLengthPosterior": "phylo_marglik.posterior",
    "ExponentialPrior": "phylo_marglik.posterior",
    "StudyConfig": "phylo_marglik.study",
    "run_study": "phylo_marglik.study",
    "score_study": "phylo_marglik.study",
    "GTR": "phylo_marglik.substitution",
    "JC69": "phylo_marglik.substitution",
    "SubstitutionModel": "phylo_marglik.substitution",
    "Topology": "phylo_marglik.tree",
    "parse_newick": "phylo_marglik.tree",
    "read_credible_set": "phylo_marglik.tree",
    "read_trees": "phylo_marglik.tree",
}

__all__ = sorted(_WHERE)
__version__ = "0.1.0"


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
