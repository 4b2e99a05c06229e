"""Counterfactually-guided policy search (CF-GPS, Buesing et al., ICLR 2019) on the box-pushing SCM
`hrl.envs.box_push`: noise posterior inference, counterfactual rollouts, CF-GPS against model-based
policy search with prior noise (MB-PS) and a model-free learner (`hrl.counterfactual.cfgps`)."""

from __future__ import annotations

from hrl.counterfactual.cfgps import (
    CFGPS_METHODS,
    CFGPSConfig,
    CountPolicy,
    Planner,
    run_policy_search,
    sample_posterior,
    step_noise_posterior,
    target_posterior,
)

__all__ = [
    "CFGPS_METHODS",
    "CFGPSConfig",
    "CountPolicy",
    "Planner",
    "run_policy_search",
    "sample_posterior",
    "step_noise_posterior",
    "target_posterior",
]
