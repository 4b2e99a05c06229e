"""HIRO: data-efficient hierarchical RL with off-policy correction (Nachum, Gu, Lee and Levine, 2018).

Two TD3 levels (`hrl.agents.td3.TD3Learner`), each with its own replay buffer:

- every ``c`` steps the high level observes the state s_t and emits a goal g_t in
  [goal_low, goal_high]: a desired change of the state dimensions ``goal_indices``; in between, the
  goal follows h(s, g, s') = s + g - s' (`hrl.goals.goal_transition`), so the absolute target stays;
- the low level acts on [s_t, g_t] and stores (s_t, g_t, a_t, r_t, s_{t+1}, g_{t+1}) with the reward
  r_t = -||s_t + g_t - s_{t+1}|| (`hrl.goals.low_level_reward`); it takes one gradient step per
  environment step;
- the high level stores (s_t, g_t, 0.1 x sum R_{t:t+c-1}, s_{t+c}) together with the c-step state and
  action sequences, and takes one gradient step per c environment steps; with ``correction`` each
  sampled goal is first relabelled by `hrl.goals.off_policy_goal_correction` under the *current* low
  level (vectorised over the batch and the 10 candidates);
- ablations: ``correction=False`` (no correction), ``low_relabel=True`` (each completed segment's
  low-level transitions are stored again under the goal the segment achieved),
  ``pretrain_low_steps=N`` (random goals and no high-level learning for N steps); flat TD3 is
  `hrl.agents.td3.TD3` on the same environment.

For ``learning_starts`` steps goals are drawn uniformly from the goal range and actions uniformly
from the action box. A segment cut short by the end of an episode is not stored at the high level
(its reward would cover fewer than c steps); the maze tasks' 500-step episodes are multiples of c.

The agent has Stable-Baselines3's shape. ``predict`` is stateful like SB3's recurrent policies: it
returns ``(action, state)`` where ``state`` carries the current goal, the previous observation and
the step within the segment; pass it back (with ``episode_start`` True at a reset) on the next call.
Checkpoints, seeding and the resume rule are TD3's (`hrl.agents.td3`): checkpoints at episode ends,
every reset seeded from the seed and the episode index, so a killed run resumes bit-identically.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.checkpoint import load_checkpoint, save_checkpoint
from core.errors import InputError
from hrl.agents.common import (
    box_bounds,
    check_run_length,
    episode_seed,
    flat_box_dim,
    requested_total,
    substream,
)
from hrl.agents.td3 import TD3Learner
from hrl.buffers import ReplayBuffer, transition_fields
from hrl.config import HIROConfig
from hrl.goals import goal_transition, low_level_reward, off_policy_goal_correction

__all__ = ["HIRO", "HIROConfig"]


class HIRO:
    """HIRO on a gymnasium environment with a 1-D Box observation and a bounded 1-D Box action.

    Args:
        env: the training environment; its observation is the state the goals live in.
        config: `HIROConfig` (defaults: the paper's, x, y goals within +-10).
        device: where the networks live.

    Attributes:
        high, low: the two `TD3Learner`s (the low level's input is [state, goal]).
        high_buffer, low_buffer: their replay buffers.
        num_timesteps, num_episodes, history: as in `TD3`.

    Raises:
        InputError: spaces that are not flat Boxes, or a goal index outside the observation.
    """

    def __init__(
        self, env: Any, config: HIROConfig | None = None, *, device: torch.device | str = "cpu"
    ) -> None:
        config = config or HIROConfig()
        obs_dim = flat_box_dim(env.observation_space, "observation")
        outside = [index for index in config.goal_indices if index >= obs_dim]
        if outside:
            raise InputError(
                "HIROConfig.goal_indices name a dimension outside the observation",
                item=f"index {outside[0]}",
                expected=f"indices < {obs_dim} (the observation width)",
            )
        low, high = box_bounds(env.action_space)
        self._setup(env, obs_dim, low, high, config, device)

    def _setup(
        self, env: Any, obs_dim: int, low: np.ndarray, high: np.ndarray, config: HIROConfig, device: Any
    ) -> None:
        self.env, self.config, self.obs_dim = env, config, obs_dim
        self.low_action, self.high_action = low, high
        self.device = torch.device(device)
        self.goal_indices = list(config.goal_indices)
        self.goal_low = np.asarray(config.goal_low, dtype=np.float32)
        self.goal_high = np.asarray(config.goal_high, dtype=np.float32)
        goal_dim, action_dim = len(self.goal_indices), low.size
        self.high = TD3Learner(
            obs_dim, self.goal_low, self.goal_high, config.level("high"), device=self.device, seed=config.seed
        )
        self.low = TD3Learner(
            obs_dim + goal_dim, low, high, config.level("low"), device=self.device, seed=config.seed + 2
        )
        self.rng = substream(config.seed, 1)
        high_fields = {
            **transition_fields(obs_dim, goal_dim),
            "states": (config.c + 1, obs_dim),
            "actions": (config.c, action_dim),
        }
        self.high_buffer = ReplayBuffer(
            max(1, config.buffer_size // config.c), high_fields, rng=substream(config.seed, 2)
        )
        self.low_buffer = ReplayBuffer(
            config.buffer_size,
            transition_fields(obs_dim + goal_dim, action_dim),
            rng=substream(config.seed, 3),
        )
        self.correction_generator = torch.Generator(device=self.device).manual_seed(config.seed + 5)
        self.num_timesteps = 0
        self.num_episodes = 0
        self.history: list[dict[str, float]] = []
        self._clear_episode()

    def _clear_episode(self) -> None:
        self._obs: np.ndarray | None = None
        self._goal: np.ndarray | None = None
        self._segment: dict[str, Any] | None = None
        self._episode_return, self._episode_length = 0.0, 0

    # ---------------------------------------------------------------- acting
    def _noisy(self, mean: np.ndarray, low: np.ndarray, high: np.ndarray, fraction: float) -> np.ndarray:
        noise = self.rng.normal(0.0, fraction * (high - low) / 2)
        return np.clip(mean + noise, low, high).astype(np.float32)

    def _act(self, learner: TD3Learner, inputs: np.ndarray) -> np.ndarray:
        return learner.act(torch.as_tensor(inputs[None], device=self.device))[0].cpu().numpy()

    def _high_learns(self) -> bool:
        """Whether the high level acts with its actor and learns (after warm-up and pretraining)."""
        return self.num_timesteps >= max(self.config.learning_starts, self.config.pretrain_low_steps)

    def _choose_goal(self, obs: np.ndarray) -> np.ndarray:
        if not self._high_learns():
            return self.rng.uniform(self.goal_low, self.goal_high).astype(np.float32)
        return self._noisy(
            self._act(self.high, obs), self.goal_low, self.goal_high, self.config.high_exploration_noise
        )

    def _choose_action(self, obs: np.ndarray, goal: np.ndarray) -> np.ndarray:
        if self.num_timesteps < self.config.learning_starts:
            return self.rng.uniform(self.low_action, self.high_action).astype(np.float32)
        mean = self._act(self.low, np.concatenate([obs, goal]))
        return self._noisy(mean, self.low_action, self.high_action, self.config.low_exploration_noise)

    def predict(
        self,
        observation: np.ndarray,
        state: tuple[np.ndarray, np.ndarray, int] | None = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, int]]:
        """The low level's action for one observation, the goal kept in `state`.

        Args:
            observation: (obs_dim,).
            state: what the previous call returned (None, or `episode_start` True: a new episode).

        Returns:
            ``(action, state)``: action (action_dim,) float32; state = (goal, observation, step in
            segment) to pass to the next call.

        Raises:
            InputError: the observation's shape is not (obs_dim,).
        """
        obs = np.asarray(observation, dtype=np.float32)
        if obs.shape != (self.obs_dim,):
            raise InputError("observation has the wrong shape", item=obs.shape, expected=f"({self.obs_dim},)")
        starting = state is None or (episode_start is not None and bool(np.any(episode_start)))
        if starting or state[2] % self.config.c == 0:
            goal, step = self._act(self.high, obs), 0
        else:
            goal = goal_transition(state[1], state[0], obs, self.goal_indices).astype(np.float32)
            step = state[2]
        action = self._act(self.low, np.concatenate([obs, goal]))
        return action, (goal, obs, step + 1)

    # -------------------------------------------------------------- learning
    def _tensors(self, batch: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
        return {name: torch.as_tensor(value, device=self.device) for name, value in batch.items()}

    def _train_high(self) -> None:
        batch = self._tensors(self.high_buffer.sample(self.config.batch_size))
        if self.config.correction:
            batch["action"] = off_policy_goal_correction(
                self.low.actor,
                batch["states"],
                batch["actions"],
                batch["action"],
                torch.as_tensor(self.goal_low, device=self.device),
                torch.as_tensor(self.goal_high, device=self.device),
                self.goal_indices,
                num_samples=self.config.correction_samples,
                scale=self.config.correction_scale,
                generator=self.correction_generator,
            )
        self.high.update(
            {name: batch[name] for name in ("obs", "action", "reward", "next_obs", "terminated")}
        )

    def learn(
        self,
        total_timesteps: int | None = None,
        *,
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_every: int = 10_000,
        callback: Callable[[HIRO], None] | None = None,
        progress_bar: bool = False,
    ) -> HIRO:
        """Train until `num_timesteps` reaches `total_timesteps`; checkpoints as in `TD3.learn`.

        Raises:
            InputError: no environment, a bad total, a damaged checkpoint, or one further along.
            CheckpointMismatchError: the checkpoint's config differs in a field other than total_timesteps.
        """
        if self.env is None:
            raise InputError("this agent has no environment to learn in", expected="HIRO.load(path, env)")
        total = requested_total(self.config.total_timesteps, total_timesteps)
        if checkpoint_every < 1:
            raise InputError("checkpoint_every must be a positive integer", item=checkpoint_every)
        self.config = replace(self.config, total_timesteps=total)
        path = Path(checkpoint) if checkpoint is not None else None
        if path is not None and path.exists() and self.num_timesteps == 0:
            saved = load_checkpoint(path, HIROConfig, resume=self.config)
            self._check_spaces(saved.extra, path)
            self._apply(saved.state, saved.extra, path)
        check_run_length(self.num_timesteps, total)
        c, steps = self.config.c, range(self.num_timesteps, total)
        if progress_bar:
            from core.progress import progress

            steps = progress(steps, desc="hiro")
        last_saved = self.num_timesteps
        for _ in steps:
            if self._obs is None:
                obs, _ = self.env.reset(seed=episode_seed(self.config.seed, self.num_episodes))
                self._obs = np.asarray(obs, dtype=np.float32)
            obs = self._obs
            if self._segment is None:  # a high-level decision
                self._goal = self._choose_goal(obs)
                self._segment = {
                    "obs": obs,
                    "goal": self._goal,
                    "states": [obs],
                    "actions": [],
                    "reward": 0.0,
                }
            goal = self._goal
            action = self._choose_action(obs, goal)
            next_obs, reward, terminated, truncated, _ = self.env.step(action)
            next_obs = np.asarray(next_obs, dtype=np.float32)
            next_goal = goal_transition(obs, goal, next_obs, self.goal_indices).astype(np.float32)
            self.low_buffer.add(
                obs=np.concatenate([obs, goal]),
                action=action,
                reward=low_level_reward(obs, goal, next_obs, self.goal_indices),
                next_obs=np.concatenate([next_obs, next_goal]),
                terminated=float(terminated),
            )
            segment = self._segment
            segment["states"].append(next_obs)
            segment["actions"].append(action)
            segment["reward"] += float(reward)
            self._episode_return += float(reward)
            self._episode_length += 1
            self.num_timesteps += 1
            learning = self.num_timesteps > self.config.learning_starts
            if learning:
                self._train_low()
            if len(segment["actions"]) == c:
                self.high_buffer.add(
                    obs=segment["obs"],
                    action=segment["goal"],
                    reward=self.config.high_reward_scale * segment["reward"],
                    next_obs=next_obs,
                    terminated=float(terminated),
                    states=np.stack(segment["states"]),
                    actions=np.stack(segment["actions"]),
                )
                if self.config.low_relabel:
                    self._store_relabelled(segment, terminated)
                self._segment = None
                if self.num_timesteps > max(self.config.learning_starts, self.config.pretrain_low_steps):
                    self._train_high()
            self._obs, self._goal = next_obs, next_goal
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

    def _store_relabelled(self, segment: dict[str, Any], terminated: bool) -> None:
        """Store the segment's low-level transitions again under the goal it achieved (hindsight)."""
        states, index = np.stack(segment["states"]), self.goal_indices
        goals = (states[-1, index] - states[:, index]).astype(np.float32)  # g_i = s_0 + (s_c - s_0) - s_i
        for i, action in enumerate(segment["actions"]):
            self.low_buffer.add(
                obs=np.concatenate([states[i], goals[i]]),
                action=action,
                reward=low_level_reward(states[i], goals[i], states[i + 1], index),
                next_obs=np.concatenate([states[i + 1], goals[i + 1]]),
                terminated=float(terminated and i == len(segment["actions"]) - 1),
            )

    def _train_low(self) -> None:
        self.low.update(self._tensors(self.low_buffer.sample(self.config.batch_size)))

    # ------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str], *, include_buffer: bool = True) -> Path:
        """Write both levels (networks, optimisers, generators), counters, history and, unless
        `include_buffer` is False, both replay buffers to a `core` checkpoint, atomically."""
        state: dict[str, Any] = {
            "high": self.high.state_dict(),
            "low": self.low.state_dict(),
            "rng": self.rng.bit_generator.state,
            "correction_generator": self.correction_generator.get_state(),
        }
        if include_buffer:
            state["high_buffer"] = self.high_buffer.state_dict()
            state["low_buffer"] = self.low_buffer.state_dict()
        extra = {
            "num_timesteps": self.num_timesteps,
            "num_episodes": self.num_episodes + (self._obs is not None),
            "history": self.history,
            "obs_dim": self.obs_dim,
            "low": self.low_action.tolist(),
            "high": self.high_action.tolist(),
        }
        return save_checkpoint(path, state, self.config, extra=extra)

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], env: Any = None, *, device: torch.device | str = "cpu"
    ) -> HIRO:
        """An agent restored from `save`; pass `env` to go on learning, omit it to only predict."""
        saved = load_checkpoint(path, HIROConfig)
        agent = cls.__new__(cls)
        low = np.asarray(saved.extra["low"], dtype=np.float32)
        high = np.asarray(saved.extra["high"], dtype=np.float32)
        agent._setup(None, int(saved.extra["obs_dim"]), low, high, saved.config, device)
        if env is not None:
            agent._check_spaces(saved.extra, path, env)
            agent.env = env
        agent._apply(saved.state, saved.extra, path)
        return agent

    def _check_spaces(self, extra: dict[str, Any], path: object, env: Any = None) -> None:
        env = env if env is not None else self.env
        low, high = box_bounds(env.action_space)
        same = flat_box_dim(env.observation_space, "observation") == int(extra["obs_dim"])
        if not (same and low.tolist() == extra["low"] and high.tolist() == extra["high"]):
            raise InputError("the environment's spaces differ from the saved agent's", item=str(path))

    def _apply(self, state: dict[str, Any], extra: dict[str, Any], source: object) -> None:
        self.high.load_state_dict(state["high"], source=source)
        self.low.load_state_dict(state["low"], source=source)
        self.rng.bit_generator.state = state["rng"]
        self.correction_generator.set_state(state["correction_generator"].to(torch.uint8).cpu())
        if "high_buffer" in state:
            self.high_buffer.load_state_dict(state["high_buffer"], source=source)
            self.low_buffer.load_state_dict(state["low_buffer"], source=source)
        self.num_timesteps = int(extra["num_timesteps"])
        self.num_episodes = int(extra["num_episodes"])
        self.history = list(extra["history"])
        self._clear_episode()
