"""gradest: gradient estimators for discrete expectations, with Rao-Blackwellized top-k variants.

Liu, Regier, Tripuraneni, Jordan and McAuliffe, "Rao-Blackwellized Stochastic Gradients for Discrete
Distributions" (ICML 2019), next to the estimators it is compared with: exact enumeration, REINFORCE
(plain, moving-average and leave-one-out baselines), Gumbel-softmax (soft and straight-through),
REBAR and RELAX. One call signature, a registry of names::

    result = gradest.estimate(logits, objective, "rb-reinforce", num_samples=4)
    result.loss.backward()
"""

from gradest.attention import AttentionConfig, Locator
from gradest.categorical import bernoulli_logits, choose_k, conditional_gumbel, top_k_split
from gradest.control_variates import ControlVariateConfig, Rebar, Relax
from gradest.data import load_binarized_digits, make_canvases
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
from gradest.tasks import AttentionTask, DigitVAETask
from gradest.train import TrainConfig, fit
from gradest.vae import CategoricalVAE, VAEConfig
from gradest.variance import (
    GradientStats,
    batch_gradient_draws,
    batch_gradient_stats,
    exact_gradient,
    gradient_draws,
    gradient_stats,
)

__all__ = [
    "ESTIMATORS",
    "AttentionConfig",
    "AttentionTask",
    "CategoricalVAE",
    "ControlVariateConfig",
    "DigitVAETask",
    "Estimate",
    "Estimator",
    "Exact",
    "GradientStats",
    "GumbelSoftmax",
    "Locator",
    "RaoBlackwellized",
    "Rebar",
    "Reinforce",
    "ReinforceLeaveOneOut",
    "Relax",
    "SampleEstimator",
    "TrainConfig",
    "VAEConfig",
    "batch_gradient_draws",
    "batch_gradient_stats",
    "bernoulli_logits",
    "choose_k",
    "conditional_gumbel",
    "estimate",
    "exact_gradient",
    "fit",
    "gradient_draws",
    "gradient_stats",
    "load_binarized_digits",
    "make_canvases",
    "make_estimator",
    "top_k_split",
]
__version__ = "0.1.0"
