"""Model-based agents (issue 20): MB-MPO (Clavera et al. 2018, `hrl.model_based.mbmpo`) and its
building blocks, a dynamics ensemble (`hrl.model_based.ensemble`), the MAML inner step and
meta-objective (`hrl.model_based.maml`) and the known reward functions of its tasks
(`hrl.model_based.rewards`). The config (`MBMPOConfig`) is torch-free; `MBMPO` imports torch on use."""

from __future__ import annotations

from typing import Any

from hrl.model_based.config import MBMPOConfig
from hrl.model_based.ensemble import DynamicsEnsemble
from hrl.model_based.maml import adapt, gaussian_log_prob, meta_objective, vpg_surrogate

__all__ = [
    "MBMPO",
    "DynamicsEnsemble",
    "MBMPOConfig",
    "adapt",
    "gaussian_log_prob",
    "meta_objective",
    "vpg_surrogate",
]


def __getattr__(name: str) -> Any:
    if name == "MBMPO":
        from hrl.model_based.mbmpo import MBMPO

        return MBMPO
    raise AttributeError(name)
