"""gradest: gradient estimators for discrete expectations, with Rao-Blackwellized top-k variants.

Liu, Regier, Tripuraneni, Jordan and McAuliffe, "Rao-Blackwellized Stochastic Gradients for Discrete
Distributions" (ICML 2019), next to the estimators it is compared with: exact enumeration, REINFORCE
(plain, moving-average and leave-one-out baselines), Gumbel-softmax (soft and straight-through),
REBAR and RELAX. One call signature, a registry of names::

    result = gradest.estimate(logits, objective, "rb-reinforce", num_samples=4)
    result.loss.backward()
"""

from gradest.categorical import bernoulli_logits, choose_k, conditional_gumbel, top_k_split
from gradest.control_variates import ControlVariateConfig, Rebar, Relax
from gradest.estimators import (
    Estimate,
    Estimator,
    Exact,
    GumbelSoftmax,
    Reinforce,
    ReinforceLeaveOneOut,
    SampleEstimator,
)
from gradest.rao_blackwell import RaoBlackwellized
from gradest.registry import ESTIMATORS, estimate, make_estimator
from gradest.variance import GradientStats, exact_gradient, gradient_draws, gradient_stats

__all__ = [
    "ESTIMATORS",
    "ControlVariateConfig",
    "Estimate",
    "Estimator",
    "Exact",
    "GradientStats",
    "GumbelSoftmax",
    "RaoBlackwellized",
    "Rebar",
    "Reinforce",
    "ReinforceLeaveOneOut",
    "Relax",
    "SampleEstimator",
    "bernoulli_logits",
    "choose_k",
    "conditional_gumbel",
    "estimate",
    "exact_gradient",
    "gradient_draws",
    "gradient_stats",
    "make_estimator",
    "top_k_split",
]
__version__ = "0.1.0"
