"""Intrinsic rewards as composable modules: ``compute(batch) -> rewards`` and ``update(batch)``.

Any agent can use any of them: a batch is a dict of tensors with at least ``obs`` (B, obs_dim),
``action`` (B, action_dim) (one-hot for discrete actions) and ``next_obs`` (B, obs_dim);
``compute`` returns (B,) rewards without changing the module, ``update`` takes one training step on
the batch and returns its losses.

- `ForwardModelCuriosity`: the prediction error of a forward model in a feature space,
  r = 0.5 ||f(phi(s), a) - phi(s')||^2 (Pathak et al. 2017; the feature-space study of Burda et al.
  2019): ``features="raw"`` (phi = identity) or ``"random"`` (a frozen random network).
- `EnsembleDisagreement`: the Jensen-Shannon divergence among an ensemble of categorical forward
  models p_k(s' | s, a) (MAX, Shyam et al. 2019), each member trained on its own bootstrap resample.

The divergence itself, `categorical_jsd`, is a function so planners can score pairs the agent has
never visited (MAX plans with it; a reactive agent only meets it as the reward of what it did).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from core.errors import InputError
from hrl.networks import EnsembleMLP, mlp

__all__ = [
    "EnsembleDisagreement",
    "ForwardModelCuriosity",
    "IntrinsicReward",
    "categorical_entropy",
    "categorical_jsd",
]


class IntrinsicReward(nn.Module, ABC):
    """The interface: ``compute(batch) -> (B,) rewards`` (no side effects), ``update(batch) -> losses``."""

    @abstractmethod
    def compute(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """(B,) intrinsic rewards for a batch of transitions, without changing the module."""

    @abstractmethod
    def update(self, batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
        """Train the module on a batch; returns its losses by name."""


def _require(batch: Mapping[str, torch.Tensor], *names: str) -> None:
    missing = [name for name in names if name not in batch]
    if missing:
        raise InputError(
            "intrinsic-reward batch lacks fields", item=missing, expected=f"fields {list(names)}"
        )


class ForwardModelCuriosity(IntrinsicReward):
    """Curiosity as a forward model's error in a feature space.

    Args:
        obs_dim, action_dim: input widths (a discrete action as a one-hot row).
        features: ``"raw"`` (phi(s) = s) or ``"random"`` (a frozen, randomly initialised MLP to
            ``feature_dim``: Burda et al.'s stable choice).
        hidden: hidden widths of the forward model (and of the random feature network).
        feature_dim: width of the random features.
        lr: Adam step size of the forward model.
        seed: seeds the initialisation (the caller's RNG is untouched).
    """

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        *,
        features: str = "random",
        hidden: Sequence[int] = (64,),
        feature_dim: int = 32,
        lr: float = 1e-3,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if features not in ("raw", "random"):
            raise InputError("ForwardModelCuriosity features must be 'raw' or 'random'", item=features)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            if features == "raw":
                self.phi: nn.Module = nn.Identity()
                width = obs_dim
            else:
                self.phi = mlp(obs_dim, hidden, feature_dim).requires_grad_(False)
                width = feature_dim
            self.forward_model = mlp(width + action_dim, hidden, width)
        self.optimizer = torch.optim.Adam(self.forward_model.parameters(), lr=lr)

    def predict_features(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """f(phi(s), a): (B, obs_dim), (B, action_dim) -> (B, feature width)."""
        return self.forward_model(torch.cat([self.phi(obs), action], dim=-1))

    def compute(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """0.5 ||f(phi(s), a) - phi(s')||^2 per transition: (B,)."""
        _require(batch, "obs", "action", "next_obs")
        with torch.no_grad():
            error = self.predict_features(batch["obs"], batch["action"]) - self.phi(batch["next_obs"])
        return 0.5 * (error**2).sum(-1)

    def update(self, batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
        _require(batch, "obs", "action", "next_obs")
        error = self.predict_features(batch["obs"], batch["action"]) - self.phi(batch["next_obs"]).detach()
        loss = 0.5 * (error**2).sum(-1).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"forward_loss": float(loss.detach())}


def categorical_entropy(probs: torch.Tensor) -> torch.Tensor:
    """Shannon entropy in nats over the last axis (0 log 0 = 0)."""
    return -(torch.special.xlogy(probs, probs)).sum(-1)


def categorical_jsd(probs: torch.Tensor) -> torch.Tensor:
    """Jensen-Shannon divergence among K categorical distributions with equal weights, in nats.

    JSD(p_1..p_K) = H(mean_k p_k) - mean_k H(p_k).

    Args:
        probs: (K, ..., n) rows summing to 1.

    Returns:
        (...,) divergences, >= 0, zero exactly when the members agree.
    """
    return (categorical_entropy(probs.mean(0)) - categorical_entropy(probs).mean(0)).clamp_min(0.0)


class EnsembleDisagreement(IntrinsicReward):
    """MAX's novelty: the JSD among an ensemble of categorical forward models p_k(s' | s, a).

    Args:
        obs_dim: width of the (one-hot) observation; the models predict a distribution over
            ``obs_dim`` next states.
        action_dim: width of the (one-hot) action.
        members, hidden, lr: ensemble size, hidden widths and Adam step size.
        seed: seeds the initialisation and the bootstrap resamples.
    """

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        *,
        members: int = 5,
        hidden: Sequence[int] = (64,),
        lr: float = 1e-3,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if not isinstance(members, int) or members < 2:
            raise InputError("EnsembleDisagreement needs at least 2 members", item=members)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.models = EnsembleMLP(members, obs_dim + action_dim, hidden, obs_dim)
        self.optimizer = torch.optim.Adam(self.models.parameters(), lr=lr)
        self.generator = torch.Generator().manual_seed(seed + 1)

    def next_state_probs(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """(B, obs_dim), (B, action_dim) -> (members, B, obs_dim): each member's p(s' | s, a)."""
        return torch.softmax(self.models(torch.cat([obs, action], dim=-1)), dim=-1)

    def compute(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The JSD among the members' predictions for each (s, a) of the batch: (B,)."""
        _require(batch, "obs", "action")
        with torch.no_grad():
            return categorical_jsd(self.next_state_probs(batch["obs"], batch["action"]))

    def update(self, batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
        """One step of every member on its own bootstrap resample of the batch (cross-entropy)."""
        _require(batch, "obs", "action", "next_obs")
        size = batch["obs"].shape[0]
        index = torch.randint(0, size, (self.models.members, size), generator=self.generator)
        inputs = torch.cat([batch["obs"], batch["action"]], dim=-1)[index]  # (members, B, in)
        targets = batch["next_obs"].argmax(-1)[index]  # (members, B)
        logits = self.models(inputs)
        loss = nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="mean")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"model_loss": float(loss.detach()) * self.models.members}
