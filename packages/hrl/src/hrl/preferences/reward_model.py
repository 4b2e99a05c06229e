"""A reward model trained from preferences over pairs of clips, and the synthetic labeller.

Ibarz et al. (NeurIPS 2018) after Christiano et al. (2017): a clip is a short segment of
observations; the reward model r̂ scores every step, and the probability that clip 1 is preferred is
the Bradley-Terry form

    P̂[σ¹ ≻ σ²] = (1 − ε) · exp Σ_t r̂(o¹_t) / (exp Σ_t r̂(o¹_t) + exp Σ_t r̂(o²_t)) + ε / 2,

ε the assumed chance that the labeller answers at random (0 for the plain form). The loss is the
cross-entropy against the label μ ∈ {0, ½, 1} (the share of preference on clip 1; ½ = indifferent):
−μ log P̂[σ¹ ≻ σ²] − (1 − μ) log P̂[σ² ≻ σ¹].

The synthetic labeller is the paper's automatic setting: it prefers the clip with the larger true
return, answers ½ on a tie, and with probability 1 − ``accuracy`` gives the wrong answer on a
non-tied pair (label noise), so its agreement with the true ordering equals ``accuracy``.

The study that trains a DQfD agent (`hrl.agents.dqfd`) on this model's reward, refitted online from
labelled clip pairs, with and without demonstrations and with the model frozen partway (reward
hacking), is `hrl.experiments.preferences` (``reproduce hrl --only preferences``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from core.errors import InputError

__all__ = [
    "RewardModel",
    "SyntheticLabeller",
    "bradley_terry_loss",
    "fit_reward_model",
    "preference_probability",
]


def preference_probability(
    returns_1: torch.Tensor, returns_2: torch.Tensor, epsilon: float = 0.0
) -> torch.Tensor:
    """P̂[σ¹ ≻ σ²] from the clips' predicted returns (B,) (module docstring)."""
    if not 0.0 <= epsilon < 1.0:
        raise InputError("epsilon must be in [0, 1)", item=epsilon)
    return (1.0 - epsilon) * torch.sigmoid(returns_1 - returns_2) + epsilon / 2


def bradley_terry_loss(
    rewards_1: torch.Tensor, rewards_2: torch.Tensor, labels: torch.Tensor, epsilon: float = 0.0
) -> torch.Tensor:
    """Mean preference cross-entropy: rewards (B, T) per step of each clip, labels (B,) μ in [0, 1]."""
    if rewards_1.shape != rewards_2.shape or rewards_1.dim() != 2 or labels.shape != rewards_1.shape[:1]:
        raise InputError(
            "rewards must be two (B, T) tensors and labels (B,)", item=(rewards_1.shape, labels.shape)
        )
    p = preference_probability(rewards_1.sum(1), rewards_2.sum(1), epsilon)
    if epsilon == 0.0:  # the stable form: log σ(x) = -softplus(-x)
        diff = rewards_1.sum(1) - rewards_2.sum(1)
        return (labels * nn.functional.softplus(-diff) + (1 - labels) * nn.functional.softplus(diff)).mean()
    return -(labels * torch.log(p) + (1 - labels) * torch.log1p(-p)).mean()


class RewardModel(nn.Module):
    """r̂(o): an MLP from a flat observation to one reward per step."""

    def __init__(self, obs_dim: int, hidden: tuple[int, ...] = (64, 64)) -> None:
        super().__init__()
        if obs_dim < 1 or not hidden or min(hidden) < 1:
            raise InputError("obs_dim and hidden widths must be >= 1", item=(obs_dim, hidden))
        layers: list[nn.Module] = []
        width = obs_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.net = nn.Sequential(*layers, nn.Linear(width, 1))

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """clips (B, T, obs_dim) -> per-step rewards (B, T)."""
        return self.net(clips).squeeze(-1)


class SyntheticLabeller:
    """Prefers by the true return with the configured accuracy (module docstring).

    Args:
        accuracy: probability of the right answer on a non-tied pair, in [0.5, 1].
        seed: seeds the label noise.
    """

    def __init__(self, accuracy: float = 1.0, seed: int = 0) -> None:
        if not 0.5 <= accuracy <= 1.0:
            raise InputError("accuracy must be in [0.5, 1]", item=accuracy)
        self.accuracy = accuracy
        self.rng = np.random.default_rng(seed)

    def label(self, returns_1: np.ndarray, returns_2: np.ndarray) -> np.ndarray:
        """Labels μ (share of preference on clip 1) for pairs with true returns (B,), (B,)."""
        r1, r2 = np.asarray(returns_1, np.float64), np.asarray(returns_2, np.float64)
        right = (r1 > r2).astype(np.float64)
        flip = self.rng.random(r1.shape) >= self.accuracy
        labels = np.where(flip, 1.0 - right, right)
        return np.where(r1 == r2, 0.5, labels)


def fit_reward_model(
    model: RewardModel,
    clips_1: torch.Tensor,
    clips_2: torch.Tensor,
    labels: torch.Tensor,
    epochs: int = 50,
    lr: float = 1e-3,
    batch: int = 64,
    epsilon: float = 0.0,
    seed: int = 0,
) -> list[float]:
    """Adam on `bradley_terry_loss` over the labelled pairs (clips (B, T, obs_dim)); returns the loss per epoch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(labels), generator=generator)
        total = 0.0
        for start in range(0, len(labels), batch):
            idx = order[start : start + batch]
            loss = bradley_terry_loss(model(clips_1[idx]), model(clips_2[idx]), labels[idx], epsilon)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
        losses.append(total / len(labels))
    return losses
