"""TD3: Twin Delayed Deep Deterministic policy gradient (Fujimoto, van Hoof and Meger, ICML 2018).

Reads top to bottom like CleanRL's ``td3_continuous_action.py``, split in two so HIRO can reuse the
update without the environment loop:

- `TD3Learner`: the networks and the update on a minibatch. Twin critics whose minimum forms the
  target (clipped double-Q), target-policy smoothing (clipped Gaussian noise on the target action)
  and a delayed actor: the actor and all targets are updated once every ``policy_delay`` critic
  updates, the targets by Polyak averaging with rate ``tau``.
- `TD3`: the Stable-Baselines3-shaped agent on a gymnasium environment: ``TD3(env, config)``,
  ``learn(total_timesteps)``, ``predict(obs, deterministic=True)``, ``save(path)``,
  ``TD3.load(path, env)``. It acts uniformly at random for ``learning_starts`` steps, then with the
  actor plus Gaussian exploration noise, and takes one gradient step per environment step.
  Episodes that end by truncation (a time limit) are bootstrapped; only termination cuts the return.

Randomness flows from ``config.seed`` only: the initialisation runs inside `torch.random.fork_rng`,
random and noisy actions come from one NumPy generator, minibatch indices from the replay buffer's,
the smoothing noise from a `torch.Generator`, and every episode's ``env.reset`` is seeded from the
seed and the episode index. ``learn(..., checkpoint=path)`` writes a `core` checkpoint (networks,
optimisers, replay buffer, generator states, history) at the first episode end after every
``checkpoint_every`` steps, and resumes from the file when it exists under the workspace's resume
rule (only ``total_timesteps`` may differ), so a killed run continues bit-identically.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from core.checkpoint import load_checkpoint, load_state_into, save_checkpoint
from core.errors import InputError
from hrl.agents.common import (
    box_bounds,
    check_run_length,
    episode_seed,
    flat_box_dim,
    requested_total,
    substream,
)
from hrl.buffers import ReplayBuffer, transition_fields
from hrl.config import TD3Config
from hrl.networks import DeterministicActor, QNetwork

__all__ = ["TD3", "TD3Config", "TD3Learner"]


class TD3Learner:
    """Actor, twin critics, their target copies and optimisers; one `update` per minibatch.

    Args:
        obs_dim: input width of the actor (observation, plus the goal for a goal-conditioned level).
        low, high: (action_dim,) bounds of the action box.
        config: the hyper-parameters (``hidden``, learning rates, ``gamma``, ``tau``, noises, delay).
        device: where the networks live.
        seed: seeds the initialisation and the smoothing-noise generator.
    """

    def __init__(
        self,
        obs_dim: int,
        low: np.ndarray,
        high: np.ndarray,
        config: TD3Config,
        *,
        device: torch.device | str = "cpu",
        seed: int = 0,
    ) -> None:
        self.config = config
        self.device = torch.device(device)
        self.low = torch.as_tensor(low, dtype=torch.float32, device=self.device)
        self.high = torch.as_tensor(high, dtype=torch.float32, device=self.device)
        self.half_range = (self.high - self.low) / 2
        action_dim = int(self.low.numel())
        with torch.random.fork_rng(devices=[]):  # seeded initialisation; the caller's RNG is untouched
            torch.manual_seed(seed)
            self.actor = DeterministicActor(obs_dim, config.hidden, self.low, self.high).to(self.device)
            self.critic1 = QNetwork(obs_dim, action_dim, config.hidden).to(self.device)
            self.critic2 = QNetwork(obs_dim, action_dim, config.hidden).to(self.device)
        self.actor_target = copy.deepcopy(self.actor)
        self.critic1_target = copy.deepcopy(self.critic1)
        self.critic2_target = copy.deepcopy(self.critic2)
        for target in (self.actor_target, self.critic1_target, self.critic2_target):
            target.requires_grad_(False)
        # foreach: one multi-tensor kernel per Adam step instead of a loop over parameters (same maths)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=config.actor_lr, foreach=True)
        self.critic_optimizer = torch.optim.Adam(
            [*self.critic1.parameters(), *self.critic2.parameters()], lr=config.critic_lr, foreach=True
        )
        self._online = [p for net in (self.actor, self.critic1, self.critic2) for p in net.parameters()]
        self._target = [
            p
            for net in (self.actor_target, self.critic1_target, self.critic2_target)
            for p in net.parameters()
        ]
        self.generator = torch.Generator(device=self.device).manual_seed(seed + 1)
        self.updates = 0  # critic updates so far (the actor moves every policy_delay of them)

    @torch.no_grad()
    def act(self, obs: torch.Tensor) -> torch.Tensor:
        """The deterministic action mu(obs): (batch, obs_dim) -> (batch, action_dim)."""
        return self.actor(obs)

    def update(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        """One critic step (and, every ``policy_delay`` calls, one actor step and target update).

        Args:
            batch: ``obs`` (B, obs_dim), ``action`` (B, action_dim), ``reward`` (B,),
                ``next_obs`` (B, obs_dim), ``terminated`` (B,) in {0, 1}; tensors on `device`.

        Returns:
            ``critic_loss`` and, on actor steps, ``actor_loss`` (floats).
        """
        config = self.config
        obs, action, next_obs = batch["obs"], batch["action"], batch["next_obs"]
        with torch.no_grad():
            noise = torch.randn(action.shape, generator=self.generator, device=self.device)
            clip = config.noise_clip * self.half_range
            noise = torch.maximum(torch.minimum(noise * config.policy_noise * self.half_range, clip), -clip)
            next_action = torch.maximum(
                torch.minimum(self.actor_target(next_obs) + noise, self.high), self.low
            )
            next_q = torch.minimum(
                self.critic1_target(next_obs, next_action), self.critic2_target(next_obs, next_action)
            )
            target = batch["reward"] + config.gamma * (1.0 - batch["terminated"]) * next_q
        critic_loss = F.mse_loss(self.critic1(obs, action), target) + F.mse_loss(
            self.critic2(obs, action), target
        )
        self.critic_optimizer.zero_grad(set_to_none=True)
        critic_loss.backward()
        self.critic_optimizer.step()
        self.updates += 1
        metrics = {"critic_loss": float(critic_loss.detach())}
        if self.updates % config.policy_delay == 0:
            actor_loss = -self.critic1(obs, self.actor(obs)).mean()
            self.actor_optimizer.zero_grad(set_to_none=True)
            actor_loss.backward()
            self.actor_optimizer.step()
            with torch.no_grad():  # Polyak averaging of all three targets in one multi-tensor call
                torch._foreach_lerp_(self._target, self._online, config.tau)
            metrics["actor_loss"] = float(actor_loss.detach())
        return metrics

    def networks(self) -> dict[str, torch.nn.Module]:
        """The six networks by name (as saved in a checkpoint)."""
        return {
            "actor": self.actor,
            "critic1": self.critic1,
            "critic2": self.critic2,
            "actor_target": self.actor_target,
            "critic1_target": self.critic1_target,
            "critic2_target": self.critic2_target,
        }

    def state_dict(self) -> dict[str, Any]:
        """Networks, optimisers, the smoothing-noise generator and the update count."""
        return {
            **{name: net.state_dict() for name, net in self.networks().items()},
            "actor_optimizer": self.actor_optimizer.state_dict(),
            "critic_optimizer": self.critic_optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "updates": self.updates,
        }

    def load_state_dict(self, state: dict[str, Any], *, source: object = "checkpoint") -> None:
        """Restore what `state_dict` returned (one-line errors when the networks do not fit)."""
        for name, net in self.networks().items():
            load_state_into(net, state[name], source=source)
        self.actor_optimizer.load_state_dict(state["actor_optimizer"])
        self.critic_optimizer.load_state_dict(state["critic_optimizer"])
        self.generator.set_state(state["generator"].to(torch.uint8).cpu())
        self.updates = int(state["updates"])


Callback = Callable[["TD3"], None]


class TD3:
    """TD3 on a gymnasium environment with a 1-D Box observation and a bounded 1-D Box action.

    Args:
        env: the training environment (gymnasium API); may be None only via `load` for prediction.
        config: hyper-parameters (`TD3Config`; defaults: the TD3 paper with 300-300 networks).
        device: where the networks live ("cpu", "cuda", ...).

    Attributes:
        num_timesteps: environment steps taken so far.
        num_episodes: episodes finished so far.
        history: one row per finished episode: ``step`` (steps when it ended), ``return``, ``length``.

    Raises:
        InputError: the spaces are not flat Boxes, or the action space is unbounded.
    """

    def __init__(
        self, env: Any, config: TD3Config | None = None, *, device: torch.device | str = "cpu"
    ) -> None:
        if env is None:
            raise InputError("TD3 needs an environment (use TD3.load(path) to predict without one)")
        obs_dim = flat_box_dim(env.observation_space, "observation")
        low, high = box_bounds(env.action_space)
        self._setup(env, obs_dim, low, high, config or TD3Config(), device)

    def _setup(
        self, env: Any, obs_dim: int, low: np.ndarray, high: np.ndarray, config: TD3Config, device: Any
    ) -> None:
        self.env = env
        self.config = config
        self.obs_dim = obs_dim
        self.low, self.high = low, high
        self.device = torch.device(device)
        self.learner = TD3Learner(obs_dim, low, high, config, device=self.device, seed=config.seed)
        self.rng = substream(config.seed, 1)  # random warm-up actions and exploration noise
        self.buffer = ReplayBuffer(
            config.buffer_size, transition_fields(obs_dim, low.size), rng=substream(config.seed, 2)
        )
        self.num_timesteps = 0
        self.num_episodes = 0
        self.history: list[dict[str, float]] = []
        self._obs: np.ndarray | None = None  # the observation of the episode in progress
        self._episode_return = 0.0
        self._episode_length = 0

    # ---------------------------------------------------------------- acting
    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, None]:
        """The actor's action for one observation (obs_dim,) or a batch (n, obs_dim).

        TD3's policy is deterministic, so `deterministic` changes nothing; `state` and
        `episode_start` exist for Stable-Baselines3 compatibility (no recurrent state).

        Returns:
            ``(action, None)``: action (action_dim,) or (n, action_dim), float32, inside the bounds.

        Raises:
            InputError: the observation's last dimension is not obs_dim.
        """
        obs = np.asarray(observation, dtype=np.float32)
        if obs.ndim not in (1, 2) or obs.shape[-1] != self.obs_dim:
            raise InputError(
                "observation has the wrong shape",
                item=obs.shape,
                expected=f"({self.obs_dim},) or (n, {self.obs_dim})",
            )
        action = self.learner.act(torch.as_tensor(obs, device=self.device).reshape(-1, self.obs_dim))
        action = action.cpu().numpy()
        return (action[0] if obs.ndim == 1 else action), None

    def _exploration_action(self, obs: np.ndarray) -> np.ndarray:
        if self.num_timesteps < self.config.learning_starts:
            return self.rng.uniform(self.low, self.high).astype(np.float32)
        action, _ = self.predict(obs)
        noise = self.rng.normal(0.0, self.config.exploration_noise * (self.high - self.low) / 2)
        return np.clip(action + noise, self.low, self.high).astype(np.float32)

    def _train_step(self) -> None:
        sample = self.buffer.sample(self.config.batch_size)
        self.learner.update(
            {name: torch.as_tensor(value, device=self.device) for name, value in sample.items()}
        )

    # -------------------------------------------------------------- learning
    def learn(
        self,
        total_timesteps: int | None = None,
        *,
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_every: int = 10_000,
        callback: Callback | None = None,
        progress_bar: bool = False,
    ) -> TD3:
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
        if self.env is None:
            raise InputError("this agent has no environment to learn in", expected="TD3.load(path, env)")
        total = requested_total(self.config.total_timesteps, total_timesteps)
        if checkpoint_every < 1:
            raise InputError("checkpoint_every must be a positive integer", item=checkpoint_every)
        self.config = replace(self.config, total_timesteps=total)
        path = Path(checkpoint) if checkpoint is not None else None
        if path is not None and path.exists() and self.num_timesteps == 0:
            self._restore(path, resume=self.config)
        check_run_length(self.num_timesteps, total)
        steps = range(self.num_timesteps, total)
        if progress_bar:
            from core.progress import progress

            steps = progress(steps, desc="td3")
        last_saved = self.num_timesteps
        for _ in steps:
            if self._obs is None:
                obs, _ = self.env.reset(seed=episode_seed(self.config.seed, self.num_episodes))
                self._obs = np.asarray(obs, dtype=np.float32)
            action = self._exploration_action(self._obs)
            next_obs, reward, terminated, truncated, _ = self.env.step(action)
            next_obs = np.asarray(next_obs, dtype=np.float32)
            self.buffer.add(
                obs=self._obs, action=action, reward=reward, next_obs=next_obs, terminated=float(terminated)
            )
            self._obs = next_obs
            self._episode_return += float(reward)
            self._episode_length += 1
            if self.num_timesteps >= self.config.learning_starts:
                self._train_step()
            self.num_timesteps += 1
            if terminated or truncated:
                self.history.append(
                    {
                        "step": self.num_timesteps,
                        "return": self._episode_return,
                        "length": self._episode_length,
                    }
                )
                self.num_episodes += 1
                self._obs, self._episode_return, self._episode_length = None, 0.0, 0
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
        counters, history and, unless `include_buffer` is False, the replay buffer.

        An episode in progress is not saved: a loaded agent starts its next episode afresh.
        """
        state: dict[str, Any] = {"learner": self.learner.state_dict(), "rng": self.rng.bit_generator.state}
        if include_buffer:
            state["buffer"] = self.buffer.state_dict()
        extra = {
            "num_timesteps": self.num_timesteps,
            "num_episodes": self.num_episodes + (self._obs is not None),  # an unfinished episode is dropped
            "history": self.history,
            "obs_dim": self.obs_dim,
            "low": self.low.tolist(),
            "high": self.high.tolist(),
        }
        return save_checkpoint(path, state, self.config, extra=extra)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        env: Any = None,
        *,
        device: torch.device | str = "cpu",
    ) -> TD3:
        """An agent restored from `save`; pass `env` to go on learning, omit it to only predict.

        Raises:
            InputError: the file is missing or damaged, or `env`'s spaces differ from the saved ones.
        """
        saved = load_checkpoint(path, TD3Config)
        agent = cls.__new__(cls)
        low = np.asarray(saved.extra["low"], dtype=np.float32)
        high = np.asarray(saved.extra["high"], dtype=np.float32)
        obs_dim = int(saved.extra["obs_dim"])
        if env is not None:
            env_low, env_high = box_bounds(env.action_space)
            if flat_box_dim(env.observation_space, "observation") != obs_dim or not (
                np.array_equal(env_low, low) and np.array_equal(env_high, high)
            ):
                raise InputError(
                    "the environment's spaces differ from the saved agent's",
                    item=f"{path}: observation width {obs_dim}, action bounds {low.tolist()}..{high.tolist()}",
                )
        agent._setup(env, obs_dim, low, high, saved.config, device)
        agent._apply(saved.state, saved.extra, path)
        return agent

    def _restore(self, path: Path, *, resume: TD3Config) -> None:
        saved = load_checkpoint(path, TD3Config, resume=resume)
        if int(saved.extra["obs_dim"]) != self.obs_dim or saved.extra["low"] != self.low.tolist():
            raise InputError(
                "the checkpoint was made for other spaces than this environment's", item=str(path)
            )
        self._apply(saved.state, saved.extra, path)

    def _apply(self, state: dict[str, Any], extra: dict[str, Any], source: object) -> None:
        self.learner.load_state_dict(state["learner"], source=source)
        self.rng.bit_generator.state = state["rng"]
        if "buffer" in state:
            self.buffer.load_state_dict(state["buffer"], source=source)
        self.num_timesteps = int(extra["num_timesteps"])
        self.num_episodes = int(extra["num_episodes"])
        self.history = list(extra["history"])
        self._obs, self._episode_return, self._episode_length = None, 0.0, 0
