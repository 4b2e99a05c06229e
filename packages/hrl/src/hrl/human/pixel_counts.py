"""A pixel-count exploration bonus for PPO, and PPO's steps to solve the priors platformer.

`PixelCounts` is an `hrl.intrinsic.IntrinsicReward`: r = 1 / sqrt(n(s') + 1), n the visits so far of
the next observation's exact pixels (its BLAKE2b digest, as `hrl.human.count_q.CountQ` keys its table).
The bonus, like CountQ's table, is the same under every one-to-one re-rendering; PPO's CNN policy is
not: it generalises over pixels, so whether it is indifferent to a rendering is an empirical question
(the paper's RL agent, a deep network on pixels, was "approximately the same"). `ppo_steps_to_solve`
trains PPO's CNN policy (`hrl.agents.ppo.PPO`) with this bonus until its first solved episode.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from hrl.human.count_q import digest
from hrl.intrinsic import IntrinsicReward

__all__ = ["PixelCounts", "ppo_steps_to_solve"]


class PixelCounts(IntrinsicReward):
    """Count-based bonus on exact observations: ``compute`` reads the counts, ``update`` adds the batch."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[bytes, int] = {}

    def _keys(self, batch: Mapping[str, torch.Tensor]) -> list[bytes]:
        pixels = batch["next_obs"].detach().cpu().numpy().astype(np.uint8)
        return [digest(row) for row in pixels]

    def compute(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        counts = np.array([self.counts.get(k, 0) for k in self._keys(batch)], np.float32)
        return torch.as_tensor(1.0 / np.sqrt(counts + 1.0))

    def update(self, batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
        for key in self._keys(batch):
            self.counts[key] = self.counts.get(key, 0) + 1
        return {"distinct": float(len(self.counts))}


class _Solved(Exception):
    pass


def ppo_steps_to_solve(game: dict[str, Any], config: Any) -> dict[str, Any]:
    """Train PPO (CNN policy, `PixelCounts` bonus) on ``PriorsPlatformer(**game)`` until the first
    episode with a positive return or ``config.total_timesteps``; returns its steps and counts."""
    from hrl.agents.ppo import PPO
    from hrl.envs.priors import PriorsPlatformer

    bonus = PixelCounts()
    agent = PPO(lambda: PriorsPlatformer(**game), config, intrinsic=bonus)

    def stop(agent: Any) -> None:
        if any(e["return"] > 0 for e in agent.history):
            raise _Solved

    try:
        agent.learn(callback=stop)
    except _Solved:
        pass
    solved = next((e["step"] for e in agent.history if e["return"] > 0), None)
    return {
        "steps to solve": solved,
        "attempts": agent.num_episodes,
        "distinct frames": len(bonus.counts),
        "steps run": agent.num_timesteps,
    }
