"""The function approximators of the actor-critic agents: MLPs, a deterministic actor, a Q-network."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["DeterministicActor", "QNetwork", "mlp"]


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int) -> nn.Sequential:
    """Linear layers with ReLU between them: in_dim -> hidden[0] -> ... -> out_dim (no output activation)."""
    layers: list[nn.Module] = []
    width = in_dim
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


class DeterministicActor(nn.Module):
    """mu(s) = centre + half_range * tanh(MLP(s)): actions inside the box [low, high].

    Args:
        in_dim: observation (or observation + goal) width.
        hidden: hidden widths.
        low, high: (action_dim,) bounds of the action box.
    """

    def __init__(self, in_dim: int, hidden: Sequence[int], low: torch.Tensor, high: torch.Tensor) -> None:
        super().__init__()
        self.net = mlp(in_dim, hidden, int(low.numel()))
        self.register_buffer("centre", ((high + low) / 2).float())
        self.register_buffer("half_range", ((high - low) / 2).float())

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """obs: (batch, in_dim) -> actions (batch, action_dim)."""
        return self.centre + self.half_range * torch.tanh(self.net(obs))


class QNetwork(nn.Module):
    """Q(s, a): an MLP on the concatenation [s, a] -> (batch,)."""

    def __init__(self, obs_dim: int, action_dim: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.net = mlp(obs_dim + action_dim, hidden, 1)

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """obs: (batch, obs_dim), action: (batch, action_dim) -> (batch,)."""
        return self.net(torch.cat([obs, action], dim=-1)).squeeze(-1)
