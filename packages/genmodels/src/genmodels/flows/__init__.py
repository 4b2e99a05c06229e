"""Normalising flows: RealNVP/Glow layers, the multi-scale flow, dequantisation and bits/dim, training."""

from genmodels.flows.glow import FlowConfig, FlowTerms, Glow, build_flow, standard_normal_log_prob
from genmodels.flows.layers import ActNorm, AffineCoupling, InvConv1x1, Squeeze
from genmodels.flows.likelihood import bits_per_dim, dequantize, discrete_log_likelihood
from genmodels.flows.training import (
    FlowRun,
    FlowRunConfig,
    evaluate_flow,
    fit_flow,
    flow_log_likelihood,
    load_flow,
)

__all__ = [
    "ActNorm",
    "AffineCoupling",
    "FlowConfig",
    "FlowRun",
    "FlowRunConfig",
    "FlowTerms",
    "Glow",
    "InvConv1x1",
    "Squeeze",
    "bits_per_dim",
    "build_flow",
    "dequantize",
    "discrete_log_likelihood",
    "evaluate_flow",
    "fit_flow",
    "flow_log_likelihood",
    "load_flow",
    "standard_normal_log_prob",
]
