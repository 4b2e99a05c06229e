"""The cross-entropy method over action sequences, and PlaNet's planner in the RSSM's latent space.

CEM (Rubinstein 1997; PlaNet sec. 3): a diagonal Gaussian over action sequences ``(horizon,
action_dim)`` starts at N(0, I); each iteration samples `candidates` sequences (clipped to the
action box), scores them, and refits mean and standard deviation to the `top` best. PlaNet scores
a sequence by the sum of the rewards the model predicts along a prior rollout from the current
belief state, and executes the first action of the final mean.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from genmodels.config import CEMConfig

__all__ = ["CEMConfig", "cem", "plan"]


def cem(
    score: Callable[[Tensor], Tensor],
    action_dim: int,
    config: CEMConfig,
    generator: torch.Generator | None = None,
    *,
    low: float = -1.0,
    high: float = 1.0,
) -> Tensor:
    """Maximise ``score(actions (candidates, horizon, action_dim)) -> (candidates,)``; returns the final mean.

    Returns:
        ``(horizon, action_dim)``: the belief's mean after ``config.iterations`` refits.
    """
    mean = torch.zeros(config.horizon, action_dim)
    std = torch.ones(config.horizon, action_dim)
    for _ in range(config.iterations):
        noise = torch.randn((config.candidates, config.horizon, action_dim), generator=generator)
        actions = (mean + std * noise).clamp(low, high)
        values = score(actions)
        best = actions[values.topk(config.top).indices]
        mean, std = best.mean(0), best.std(0, unbiased=False)
    return mean


@torch.no_grad()
def plan(model, state, config: CEMConfig, generator: torch.Generator | None = None) -> Tensor:
    """PlaNet's action for one belief `state` (a `State` of batch 1): CEM over predicted returns.

    Each candidate sequence is rolled through the prior from `state` (one sample per candidate,
    as in the paper) and scored by the sum of predicted rewards. Returns ``(action_dim,)``.
    """
    from genmodels.planet.rssm import State

    def score(actions: Tensor) -> Tensor:
        count = actions.shape[0]
        current = State(state.h.expand(count, -1), state.s.expand(count, -1))
        total = torch.zeros(count)
        for t in range(actions.shape[1]):
            current, _, _ = model.imagine(current, actions[:, t], generator)
            total = total + model.predicted_reward(current)
        return total

    return cem(score, model.config.action_dim, config, generator)[0]
