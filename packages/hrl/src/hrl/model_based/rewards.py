"""Known reward and termination functions for MB-MPO's imagined rollouts.

MB-MPO (Clavera et al. 2018) learns the dynamics only and assumes the reward function known, as
we do here: each supported task has the environment's own reward r(s, a, s') and termination
written in torch on batches, and the keyword arguments that make it computable from observations
(the MuJoCo tasks keep the x position, which gymnasium drops by default, in the observation).

- ``Pendulum-v1``: r = -(theta^2 + 0.1 theta_dot^2 + 0.001 u^2) at the state before the step.
- ``HalfCheetah-v5``: r = (x' - x) / dt - 0.1 |a|^2, dt = 0.05; never terminates.
- ``Hopper-v5``: r = healthy(s') + (x' - x) / dt - 0.001 |a|^2, dt = 0.008; terminates when s' is not
  healthy (z > 0.7, |angle| < 0.2, every other coordinate and velocity within +-100).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.errors import InputError

__all__ = ["TASKS", "KnownTask", "known_task"]


def _pendulum_reward(obs: Any, act: Any, next_obs: Any) -> Any:
    import torch

    theta = torch.atan2(obs[..., 1], obs[..., 0])
    return -(theta**2 + 0.1 * obs[..., 2] ** 2 + 0.001 * act[..., 0] ** 2)


def _cheetah_reward(obs: Any, act: Any, next_obs: Any) -> Any:
    return (next_obs[..., 0] - obs[..., 0]) / 0.05 - 0.1 * (act**2).sum(-1)


def _hopper_healthy(next_obs: Any) -> Any:
    z, angle = next_obs[..., 1], next_obs[..., 2]
    rest = next_obs[..., 2:].abs() < 100.0
    return rest.all(-1) & (z > 0.7) & (angle.abs() < 0.2)


def _hopper_reward(obs: Any, act: Any, next_obs: Any) -> Any:
    healthy = _hopper_healthy(next_obs).to(obs.dtype)
    return healthy + (next_obs[..., 0] - obs[..., 0]) / 0.008 - 1e-3 * (act**2).sum(-1)


def _hopper_done(next_obs: Any) -> Any:
    return ~_hopper_healthy(next_obs)


def _never(next_obs: Any) -> Any:
    import torch

    return torch.zeros(next_obs.shape[:-1], dtype=torch.bool)


@dataclass(frozen=True)
class KnownTask:
    """A gymnasium task with its reward ``reward(obs, act, next_obs) -> (...)`` and termination
    ``done(next_obs) -> (...) bool`` on torch batches (actions already clipped to the box)."""

    env_id: str
    reward: Any
    done: Any = _never
    make_kwargs: dict[str, Any] = field(default_factory=dict)

    def make_env(self) -> Any:
        """``gymnasium.make(env_id, **make_kwargs)``."""
        import gymnasium as gym

        return gym.make(self.env_id, **self.make_kwargs)


TASKS = {
    "Pendulum-v1": KnownTask("Pendulum-v1", _pendulum_reward),
    "HalfCheetah-v5": KnownTask(
        "HalfCheetah-v5", _cheetah_reward, make_kwargs={"exclude_current_positions_from_observation": False}
    ),
    "Hopper-v5": KnownTask(
        "Hopper-v5",
        _hopper_reward,
        _hopper_done,
        make_kwargs={"exclude_current_positions_from_observation": False},
    ),
}


def known_task(env_id: str) -> KnownTask:
    """The task named `env_id`; InputError naming it when its reward function is not written here."""
    if env_id not in TASKS:
        raise InputError(
            "MB-MPO has no known reward function for this task", item=env_id, expected=str(sorted(TASKS))
        )
    return TASKS[env_id]
