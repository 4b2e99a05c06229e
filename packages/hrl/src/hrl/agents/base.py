"""The skeleton every off-policy agent here shares: the environment loop, checkpoints, save/load.

`OffPolicyAgent` owns what TD3, HIRO (and the agents of hrl issues 2-4 built on a replay buffer,
SAC first) do identically:

- ``learn(total_timesteps, checkpoint=..., checkpoint_every=..., callback=...)``: the step loop with
  seeded resets (`hrl.agents.common.episode_seed`), per-episode history, checkpoints at the first
  episode end after every ``checkpoint_every`` steps, resume from an existing checkpoint under the
  workspace's one resume rule (only the extendable ``total_timesteps`` may differ);
- ``save(path, include_buffer=True)`` / ``load(path, env=None)``: a `core` checkpoint with the
  subclass's tensors plus the counters, history and the spaces the agent was built for.

A subclass sets `config_type` and implements four hooks:

- ``_setup(env, obs_dim, low, high, config, device)``: build networks, buffers and generators and
  call `_init_counters`;
- ``_env_step(obs) -> (next_obs, reward, terminated, truncated)``: choose an action, step the
  environment, store and train (one environment step; ``num_timesteps`` still counts the steps
  before it; the loop then increments it and does the episode bookkeeping);
- ``_state(include_buffer) -> dict`` / ``_load_state(state, source)``: its tensors and generator states
  (the default saves ``self.learner``, ``self.rng`` and ``self.buffer``: TD3's and SAC's layout);
- optionally ``_clear_episode()`` to drop per-episode state (HIRO's goal and segment).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from core.checkpoint import load_checkpoint, save_checkpoint
from core.errors import InputError
from hrl.agents.common import (
    box_bounds,
    check_run_length,
    episode_seed,
    flat_box_dim,
    observation_batch,
    start_learning,
    substream,
)
from hrl.buffers import ReplayBuffer, transition_fields

__all__ = ["OffPolicyAgent"]


class OffPolicyAgent(ABC):
    """Base class of the Stable-Baselines3-shaped agents with a replay buffer (see the module doc).

    Attributes:
        env: the training environment (None for a loaded, predict-only agent).
        config: the agent's frozen config (a dataclass of type `config_type`).
        num_timesteps: environment steps taken so far.
        num_episodes: episodes finished so far.
        history: one row per finished episode: ``step`` (steps when it ended), ``return``, ``length``.
    """

    config_type: ClassVar[type]
    name: ClassVar[str] = "agent"

    def __init__(self, env: Any, config: Any = None, *, device: torch.device | str = "cpu") -> None:
        if env is None:
            raise InputError(
                f"{type(self).__name__} needs an environment (use {type(self).__name__}.load(path) to predict)"
            )
        config = config if config is not None else self.config_type()
        obs_dim = flat_box_dim(env.observation_space, "observation")
        self._check_config(config, obs_dim)
        low, high = box_bounds(env.action_space)
        self._setup(env, obs_dim, low, high, config, device)

    # ------------------------------------------------------------------ hooks
    def _check_config(self, config: Any, obs_dim: int) -> None:
        """Refuse a config that does not fit an observation of width `obs_dim` (default: accept)."""
        return None

    @abstractmethod
    def _setup(
        self, env: Any, obs_dim: int, low: np.ndarray, high: np.ndarray, config: Any, device: Any
    ) -> None:
        """Build networks, buffers and generators, then call `_init_counters`."""

    @abstractmethod
    def _env_step(self, obs: np.ndarray) -> tuple[np.ndarray, float, bool, bool]:
        """One environment step from `obs` (act, step, store, train): (next_obs, reward, terminated, truncated)."""

    def _setup_learner_and_buffer(
        self,
        learner_type: type,
        env: Any,
        obs_dim: int,
        low: np.ndarray,
        high: np.ndarray,
        config: Any,
        device: Any,
    ) -> None:
        """`_setup` of an agent in the default `_state` layout: one ``learner_type(obs_dim, low, high,
        config, device=, seed=)``, one NumPy generator (warm-up actions and exploration noise) and one
        replay buffer of ``config.buffer_size`` transitions."""
        self.device = torch.device(device)
        self.learner = learner_type(obs_dim, low, high, config, device=self.device, seed=config.seed)
        self.rng = substream(config.seed, 1)
        self.buffer = ReplayBuffer(
            config.buffer_size, transition_fields(obs_dim, low.size), rng=substream(config.seed, 2)
        )
        self._init_counters(env, obs_dim, low, high, config)

    def _state(self, include_buffer: bool) -> dict[str, Any]:
        """The default for an agent with one ``learner`` (its ``state_dict``), one NumPy ``rng`` and
        one ``buffer``; agents with more override this (and `_load_state`)."""
        state: dict[str, Any] = {"learner": self.learner.state_dict(), "rng": self.rng.bit_generator.state}
        if include_buffer:
            state["buffer"] = self.buffer.state_dict()
        return state

    def _load_state(self, state: dict[str, Any], source: object) -> None:
        """Restore what the default `_state` saved."""
        self.learner.load_state_dict(state["learner"], source=source)
        self.rng.bit_generator.state = state["rng"]
        if "buffer" in state:
            self.buffer.load_state_dict(state["buffer"], source=source)

    def _clear_episode(self) -> None:
        """Drop what belongs to the episode in progress (subclasses extend this)."""
        self._obs: np.ndarray | None = None
        self._episode_return, self._episode_length = 0.0, 0

    def _init_counters(self, env: Any, obs_dim: int, low: np.ndarray, high: np.ndarray, config: Any) -> None:
        """Set the attributes the loop and the checkpoints use (call from `_setup`)."""
        self.env, self.config, self.obs_dim = env, config, obs_dim
        self.action_low, self.action_high = low, high
        self.num_timesteps = 0
        self.num_episodes = 0
        self.history: list[dict[str, float]] = []
        self._clear_episode()

    def _observation_batch(self, observation: Any) -> tuple[np.ndarray, bool]:
        """`observation` (obs_dim,) or (n, obs_dim) as a float32 (n, obs_dim) array, and whether it was one.

        Raises:
            InputError: the last dimension is not obs_dim.
        """
        return observation_batch(observation, self.obs_dim)

    # --------------------------------------------------------------- learning
    def learn(
        self,
        total_timesteps: int | None = None,
        *,
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_every: int = 10_000,
        callback: Callable[[Any], None] | None = None,
        progress_bar: bool = False,
    ):
        """Train until `num_timesteps` reaches `total_timesteps` (default: ``config.total_timesteps``).

        A fresh agent takes `total_timesteps` steps (Stable-Baselines3's ``learn``); calling again
        with a larger total continues the same run. With `checkpoint`, an existing file is resumed
        first (its config must equal this agent's except ``total_timesteps``), and the run is saved
        at the first episode end after every `checkpoint_every` steps and when it finishes.

        Args:
            callback: called with the agent after every environment step (raise to stop).

        Returns:
            self.

        Raises:
            InputError: no environment, a bad total, a damaged checkpoint, or one further along.
            CheckpointMismatchError: the checkpoint's config differs in another field.
        """
        path = start_learning(self, total_timesteps, checkpoint, checkpoint_every)
        total = self.config.total_timesteps
        if path is not None and path.exists() and self.num_timesteps == 0:
            saved = load_checkpoint(path, self.config_type, resume=self.config)
            self._check_spaces(saved.extra, path, self.env)
            self._apply(saved.state, saved.extra, path)
        check_run_length(self.num_timesteps, total)
        steps = range(self.num_timesteps, total)
        if progress_bar:
            from core.progress import progress

            steps = progress(steps, desc=self.name)
        last_saved = self.num_timesteps
        for _ in steps:
            if self._obs is None:
                obs, _ = self.env.reset(seed=episode_seed(self.config.seed, self.num_episodes))
                self._obs = np.asarray(obs, dtype=np.float32)
            next_obs, reward, terminated, truncated = self._env_step(self._obs)
            self.num_timesteps += 1
            self._obs = next_obs
            self._episode_return += float(reward)
            self._episode_length += 1
            if terminated or truncated:
                self.history.append(
                    {
                        "step": self.num_timesteps,
                        "return": self._episode_return,
                        "length": self._episode_length,
                    }
                )
                self.num_episodes += 1
                self._clear_episode()
                if path is not None and self.num_timesteps - last_saved >= checkpoint_every:
                    self.save(path)
                    last_saved = self.num_timesteps
            if callback is not None:
                callback(self)
        if path is not None:
            self.save(path)
        return self

    # ------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str], *, include_buffer: bool = True) -> Path:
        """Write the agent to a `core` checkpoint (atomically): networks, optimisers, generators,
        counters, history and, unless `include_buffer` is False, the replay buffer(s).

        An episode in progress is not saved: a loaded agent starts its next episode afresh.
        """
        extra = {
            "num_timesteps": self.num_timesteps,
            "num_episodes": self.num_episodes + (self._obs is not None),  # an unfinished episode is dropped
            "history": self.history,
            "obs_dim": self.obs_dim,
            "low": self.action_low.tolist(),
            "high": self.action_high.tolist(),
        }
        return save_checkpoint(path, self._state(include_buffer), self.config, extra=extra)

    @classmethod
    def load(cls, path: str | os.PathLike[str], env: Any = None, *, device: torch.device | str = "cpu"):
        """An agent restored from `save`; pass `env` to go on learning, omit it to only predict.

        Raises:
            InputError: the file is missing or damaged, or `env`'s spaces differ from the saved ones.
        """
        saved = load_checkpoint(path, cls.config_type)
        agent = cls.__new__(cls)
        low = np.asarray(saved.extra["low"], dtype=np.float32)
        high = np.asarray(saved.extra["high"], dtype=np.float32)
        if env is not None:
            agent._check_spaces(saved.extra, path, env)
        agent._setup(env, int(saved.extra["obs_dim"]), low, high, saved.config, device)
        agent._apply(saved.state, saved.extra, path)
        return agent

    @staticmethod
    def _check_spaces(extra: dict[str, Any], path: object, env: Any) -> None:
        low, high = box_bounds(env.action_space)
        obs_dim = int(extra["obs_dim"])
        if not (
            flat_box_dim(env.observation_space, "observation") == obs_dim
            and low.tolist() == extra["low"]
            and high.tolist() == extra["high"]
        ):
            raise InputError(
                "the environment's spaces differ from the saved agent's",
                item=f"{path}: observation width {obs_dim}, action bounds {extra['low']}..{extra['high']}",
            )

    def _apply(self, state: dict[str, Any], extra: dict[str, Any], source: object) -> None:
        self._load_state(state, source)
        self.num_timesteps = int(extra["num_timesteps"])
        self.num_episodes = int(extra["num_episodes"])
        self.history = list(extra["history"])
        self._clear_episode()
