"""gradest: gradient estimators for discrete expectations, with Rao-Blackwellized top-k variants.

Liu, Regier, Tripuraneni, Jordan and McAuliffe, "Rao-Blackwellized Stochastic Gradients for Discrete
Distributions" (ICML 2019), next to the estimators it is compared with: exact enumeration, REINFORCE
(plain, moving-average and leave-one-out baselines), Gumbel-softmax (soft and straight-through),
REBAR and RELAX. One call signature, a registry of names::

    result = gradest.estimate(logits, objective, "rb-reinforce", num_samples=4)
    result.loss.backward()

``import gradest`` is cheap: names load from their modules on first use (PEP 562), so torch is imported
by the first estimator, not by ``import gradest`` or ``gradest --help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:  # what static tools see; at run time `__getattr__` loads names on first use
    from gradest.attention import AttentionConfig, Locator
    from gradest.categorical import bernoulli_logits, choose_k, conditional_gumbel, top_k_split
    from gradest.config import ToyConfig, TrainConfig
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
    from gradest.train import fit
    from gradest.vae import CategoricalVAE, VAEConfig
    from gradest.variance import (
        GradientStats,
        batch_gradient_draws,
        batch_gradient_stats,
        enumerated_variance,
        exact_gradient,
        gradient_draws,
        gradient_stats,
        running_gradient_draws,
    )

_WHERE = {
    "ESTIMATORS": "gradest.registry",
    "AttentionConfig": "gradest.attention",
    "AttentionTask": "gradest.tasks",
    "CategoricalVAE": "gradest.vae",
    "ControlVariateConfig": "gradest.control_variates",
    "DigitVAETask": "gradest.tasks",
    "Estimate": "gradest.estimators",
    "Estimator": "gradest.estimators",
    "Exact": "gradest.estimators",
    "GradientStats": "gradest.variance",
    "GumbelSoftmax": "gradest.estimators",
    "Locator": "gradest.attention",
    "RaoBlackwellized": "gradest.rao_blackwell",
    "Rebar": "gradest.control_variates",
    "Reinforce": "gradest.estimators",
    "ReinforceLeaveOneOut": "gradest.estimators",
    "Relax": "gradest.control_variates",
    "SampleEstimator": "gradest.estimators",
    "ToyConfig": "gradest.config",
    "TrainConfig": "gradest.config",
    "VAEConfig": "gradest.vae",
    "batch_gradient_draws": "gradest.variance",
    "batch_gradient_stats": "gradest.variance",
    "bernoulli_logits": "gradest.categorical",
    "choose_k": "gradest.categorical",
    "conditional_gumbel": "gradest.categorical",
    "estimate": "gradest.registry",
    "enumerated_variance": "gradest.variance",
    "exact_gradient": "gradest.variance",
    "fit": "gradest.train",
    "gradient_draws": "gradest.variance",
    "gradient_stats": "gradest.variance",
    "running_gradient_draws": "gradest.variance",
    "load_binarized_digits": "gradest.data",
    "make_canvases": "gradest.data",
    "make_estimator": "gradest.registry",
    "top_k_split": "gradest.categorical",
}

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
    "ToyConfig",
    "TrainConfig",
    "VAEConfig",
    "batch_gradient_draws",
    "batch_gradient_stats",
    "bernoulli_logits",
    "choose_k",
    "conditional_gumbel",
    "enumerated_variance",
    "estimate",
    "exact_gradient",
    "fit",
    "gradient_draws",
    "gradient_stats",
    "load_binarized_digits",
    "make_canvases",
    "make_estimator",
    "running_gradient_draws",
    "top_k_split",
]
__version__ = "0.1.0"


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
