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

from typing import Any

import numpy as np
import torch

from core.errors import InputError
from hrl.agents.base import OffPolicyAgent
from hrl.agents.common import substream
from hrl.agents.td3 import TD3Learner
from hrl.buffers import ReplayBuffer, transition_fields
from hrl.config import HIROConfig
from hrl.goals import goal_transition, low_level_reward, off_policy_goal_correction

__all__ = ["HIRO", "HIROConfig"]


class HIRO(OffPolicyAgent):
    """HIRO on a gymnasium environment with a 1-D Box observation and a bounded 1-D Box action.

    The loop, checkpoints and save/load are `hrl.agents.base.OffPolicyAgent`'s.

    Args:
        env: the training environment; its observation is the state the goals live in.
        config: `HIROConfig` (defaults: the paper's, x, y goals within +-10).
        device: where the networks live.

    Attributes:
        high, low: the two `TD3Learner`s (the low level's input is [state, goal]).
        high_buffer, low_buffer: their replay buffers.
        num_timesteps, num_episodes, history: see `OffPolicyAgent`.

    Raises:
        InputError: spaces that are not flat Boxes, or a goal index outside the observation.
    """

    config_type = HIROConfig
    name = "hiro"

    def _check_config(self, config: HIROConfig, obs_dim: int) -> None:
        outside = [index for index in config.goal_indices if index >= obs_dim]
        if outside:
            raise InputError(
                "HIROConfig.goal_indices name a dimension outside the observation",
                item=f"index {outside[0]}",
                expected=f"indices < {obs_dim} (the observation width)",
            )

    def _setup(
        self, env: Any, obs_dim: int, low: np.ndarray, high: np.ndarray, config: HIROConfig, device: Any
    ) -> None:
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
        self._init_counters(env, obs_dim, low, high, config)

    def _clear_episode(self) -> None:
        super()._clear_episode()
        self._goal: np.ndarray | None = None
        self._segment: dict[str, Any] | None = None

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

    def _env_step(self, obs: np.ndarray) -> tuple[np.ndarray, float, bool, bool]:
        """One step: a high-level decision at a segment start, the low level's action, both
        buffers filled, the low level trained every step and the high level every c steps."""
        c = self.config.c
        if self._segment is None:  # a high-level decision
            self._goal = self._choose_goal(obs)
            self._segment = {"obs": obs, "goal": self._goal, "states": [obs], "actions": [], "reward": 0.0}
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
        if self.num_timesteps >= self.config.learning_starts:
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
            if self.num_timesteps >= max(self.config.learning_starts, self.config.pretrain_low_steps):
                self._train_high()
        self._goal = next_goal
        return next_obs, float(reward), bool(terminated), bool(truncated)

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
    def _state(self, include_buffer: bool) -> dict[str, Any]:
        state: dict[str, Any] = {
            "high": self.high.state_dict(),
            "low": self.low.state_dict(),
            "rng": self.rng.bit_generator.state,
            "correction_generator": self.correction_generator.get_state(),
        }
        if include_buffer:
            state["high_buffer"] = self.high_buffer.state_dict()
            state["low_buffer"] = self.low_buffer.state_dict()
        return state

    def _load_state(self, state: dict[str, Any], source: object) -> None:
        self.high.load_state_dict(state["high"], source=source)
        self.low.load_state_dict(state["low"], source=source)
        self.rng.bit_generator.state = state["rng"]
        self.correction_generator.set_state(state["correction_generator"].to(torch.uint8).cpu())
        if "high_buffer" in state:
            self.high_buffer.load_state_dict(state["high_buffer"], source=source)
            self.low_buffer.load_state_dict(state["low_buffer"], source=source)
