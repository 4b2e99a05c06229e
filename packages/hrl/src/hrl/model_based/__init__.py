"""Model-based agents (issue 20): the building blocks of MB-MPO (Clavera et al. 2018), a dynamics
ensemble (`hrl.model_based.ensemble`) and the MAML inner step and meta-objective
(`hrl.model_based.maml`). The MB-MPO loop itself (real data, model fitting, meta-policy optimisation
across the members) is not written yet."""

from __future__ import annotations

from hrl.model_based.ensemble import DynamicsEnsemble
from hrl.model_based.maml import adapt, gaussian_log_prob, meta_objective, vpg_surrogate

__all__ = ["DynamicsEnsemble", "adapt", "gaussian_log_prob", "meta_objective", "vpg_surrogate"]
