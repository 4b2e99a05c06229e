"""MAX on continuous tasks: `ContinuousMAX` (Shyam, Jaskowski and Gomez, ICML 2019, Algorithm 1).

Pure exploration, no task reward. Every ``refit_every`` real steps (after ``warm_up_steps`` uniform
random ones) the Gaussian ensemble (`hrl.active_exploration.models.GaussianEnsemble`) is refitted on
every transition so far, and then:

- ``method="max"`` (active): an exploration policy is trained *inside the ensemble*: SAC
  (`hrl.agents.sac.SACLearner`) on imagined transitions whose reward is the novelty u(s, a), the
  members' Jensen-Renyi divergence about s' (`gaussian_jrd`). Imagined rollouts start from real
  states and step with a member chosen at random per step; the policy then acts (sampling) in the
  real environment until the next refit. The paper trains it afresh each time (``policy_reset``).
- ``method="reactive"``: model-free SAC on the real transitions, its reward the same novelty of each
  transition computed when it is sampled (the paper's JDRX baseline: novelty met only after the fact).
- ``method="random"``: uniform actions (nothing is fitted).

Every transition is kept (the buffer grows with ``total_timesteps``). `history` has a row per episode
(``step``, ``episode``) that a caller's `callback` may extend with its coverage measure. Checkpoints
follow the workspace's resume rule (saved at episode ends, only ``total_timesteps`` may grow; every
reset seeded from the seed and the episode index).
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
from hrl.active_exploration.config import ContinuousMAXConfig
from hrl.active_exploration.models import GaussianEnsemble
from hrl.agents.common import (
    box_bounds,
    check_run_length,
    episode_seed,
    flat_box_dim,
    requested_total,
    substream,
)
from hrl.agents.sac import SACLearner
from hrl.buffers import ReplayBuffer

__all__ = ["ContinuousMAX", "ContinuousMAXConfig"]


class ContinuousMAX:
    """An exploring agent on a gymnasium env with 1-D Box observations and bounded Box actions.

    Args:
        env: the environment; its reward is ignored.
        config: `ContinuousMAXConfig`.

    Attributes:
        models: the `GaussianEnsemble` (unused by ``random``); policy: the current `SACLearner`.
        buffer: every real transition (``obs``, ``action``, ``next_obs``, bootstrap ``counts``).
        history: one row per episode.

    Raises:
        InputError: spaces that are not flat bounded Boxes.
    """

    def __init__(self, env: Any, config: ContinuousMAXConfig | None = None) -> None:
        self.env, self.config = env, config or ContinuousMAXConfig()
        c = self.config
        self.obs_dim = flat_box_dim(env.observation_space, "observation")
        self.low, self.high = box_bounds(env.action_space)
        self.action_dim = self.low.size
        self.models = GaussianEnsemble(
            self.obs_dim,
            self.action_dim,
            members=c.ensemble_size,
            hidden=c.model_hidden,
            lr=c.model_lr,
            seed=c.seed,
        )
        self.policies_trained = 0
        self.policy = self._new_policy()
        fields = {
            "obs": (self.obs_dim,),
            "action": (self.action_dim,),
            "next_obs": (self.obs_dim,),
            "counts": (c.ensemble_size,),
        }
        self.buffer = ReplayBuffer(max(c.total_timesteps, 1), fields, rng=substream(c.seed, 2))
        self.rng = substream(c.seed, 1)
        self.imagine_generator = torch.Generator().manual_seed(c.seed + 3)
        self.num_timesteps = self.num_episodes = 0
        self.history: list[dict[str, float]] = []

    def _new_policy(self) -> SACLearner:
        seed = self.config.seed + 1000 * (self.policies_trained + 1)
        return SACLearner(self.obs_dim, self.low, self.high, self.config.sac(), seed=seed)

    # ---------------------------------------------------------------- models
    def _stored(self) -> dict[str, torch.Tensor]:
        return {k: torch.from_numpy(v[: self.buffer.size]) for k, v in self.buffer.data.items()}

    def _refit(self) -> None:
        data, c = self._stored(), self.config
        self.models.fit(
            data["obs"],
            data["action"],
            data["next_obs"],
            data["counts"],
            steps=c.model_steps,
            batch_size=c.model_batch_size,
        )

    def _imagine(self) -> dict[str, torch.Tensor]:
        """``imagined_rollouts`` rollouts of ``imagined_horizon`` steps of the policy in the ensemble."""
        c = self.config
        start = torch.randint(0, self.buffer.size, (c.imagined_rollouts,), generator=self.imagine_generator)
        state = torch.from_numpy(self.buffer.data["obs"][start.numpy()])
        rows: dict[str, list[torch.Tensor]] = {"obs": [], "action": [], "reward": [], "next_obs": []}
        for _ in range(c.imagined_horizon):
            action = self.policy.act(state, deterministic=False)
            next_state = self.models.sample(state, action)
            for name, value in zip(rows, (state, action, self.models.novelty(state, action), next_state)):
                rows[name].append(value)
            state = next_state
        batch = {name: torch.cat(values) for name, values in rows.items()}
        batch["terminated"] = torch.zeros(len(batch["reward"]))
        return batch

    def _plan(self) -> None:
        """MAX: train the exploration policy in the ensemble on the novelty reward."""
        c = self.config
        if c.policy_reset:
            self.policy = self._new_policy()
        self.policies_trained += 1
        imagined: dict[str, torch.Tensor] | None = None
        for _ in range(c.policy_iterations):
            fresh = self._imagine()
            imagined = (
                fresh if imagined is None else {k: torch.cat([imagined[k], fresh[k]]) for k in imagined}
            )
            for _ in range(c.policy_updates):
                index = torch.randint(
                    0, len(imagined["reward"]), (c.policy_batch_size,), generator=self.imagine_generator
                )
                self.policy.update({k: v[index] for k, v in imagined.items()})

    def _reactive_update(self) -> None:
        sample = {
            k: torch.from_numpy(v) for k, v in self.buffer.sample(self.config.policy_batch_size).items()
        }
        reward = self.models.novelty(sample["obs"], sample["action"])
        self.policy.update(
            {
                "obs": sample["obs"],
                "action": sample["action"],
                "reward": reward,
                "next_obs": sample["next_obs"],
                "terminated": torch.zeros(len(reward)),
            }
        )

    # ---------------------------------------------------------------- acting
    def _action(self, obs: np.ndarray) -> np.ndarray:
        if self.config.method == "random" or self.num_timesteps < self.config.warm_up_steps:
            return self.rng.uniform(self.low, self.high).astype(np.float32)
        return self.policy.act(torch.from_numpy(obs[None]), deterministic=False)[0].numpy()

    def _after_step(self) -> None:
        c, steps = self.config, self.num_timesteps
        if c.method == "random" or steps < c.warm_up_steps:
            return
        if (steps - c.warm_up_steps) % c.refit_every == 0:
            self._refit()
            if c.method == "max":
                self._plan()
        if c.method == "reactive":
            self._reactive_update()

    def learn(
        self,
        total_timesteps: int | None = None,
        *,
        checkpoint: str | os.PathLike[str] | None = None,
        callback: Callable[[ContinuousMAX], None] | None = None,
        progress_bar: bool = False,
    ) -> ContinuousMAX:
        """Explore until `num_timesteps` reaches `total_timesteps`, whole episodes at a time.

        With `checkpoint`, an existing file is resumed first (only ``total_timesteps`` may differ)
        and the run is saved after every episode; `callback(self)` runs after every episode.

        Raises:
            InputError: a bad total, a damaged checkpoint or one further along.
            CheckpointMismatchError: the checkpoint's config differs in another field.
        """
        total = requested_total(self.config.total_timesteps, total_timesteps)
        if total > self.buffer.capacity:
            self.buffer = self.buffer.grown(total)
        self.config = replace(self.config, total_timesteps=total)
        path = Path(checkpoint) if checkpoint is not None else None
        if path is not None and path.exists() and self.num_timesteps == 0:
            saved = load_checkpoint(path, ContinuousMAXConfig, resume=self.config)
            self._apply(saved.state, saved.extra, path)
        check_run_length(self.num_timesteps, total)
        bar = None
        if progress_bar:
            from core.progress import progress

            bar = iter(progress(range(total), desc=f"max-{self.config.method}", total=total))
        while self.num_timesteps < total:
            obs, _ = self.env.reset(seed=episode_seed(self.config.seed, self.num_episodes))
            obs, done = np.asarray(obs, dtype=np.float32), False
            while not done:
                action = self._action(obs)
                next_obs, _, terminated, truncated, _ = self.env.step(action)
                next_obs = np.asarray(next_obs, dtype=np.float32)
                self.buffer.add(
                    obs=obs,
                    action=action,
                    next_obs=next_obs,
                    counts=self.models.bootstrap_counts(1)[0].numpy(),
                )
                self.num_timesteps += 1
                self._after_step()
                obs, done = next_obs, bool(terminated or truncated)
                if bar is not None:
                    next(bar, None)
            self.num_episodes += 1
            self.history.append({"step": self.num_timesteps, "episode": self.num_episodes})
            if callback is not None:
                callback(self)
            if path is not None:
                self.save(path)
        if bar is not None:
            for _ in bar:
                pass
        return self

    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, None]:
        """The current exploration policy's action for one observation (SB3's shape)."""
        obs = torch.as_tensor(np.asarray(observation, dtype=np.float32)[None])
        return self.policy.act(obs, deterministic)[0].numpy(), None

    # ------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the models, the policy, every transition, generator states, counters and history."""
        state = {
            "models": self.models.state_dict(),
            "policy": self.policy.state_dict(),
            "buffer": self.buffer.state_dict(),
            "rng": self.rng.bit_generator.state,
            "imagine_generator": self.imagine_generator.get_state(),
        }
        extra = {
            "num_timesteps": self.num_timesteps,
            "num_episodes": self.num_episodes,
            "policies_trained": self.policies_trained,
            "history": self.history,
        }
        return save_checkpoint(path, state, self.config, extra=extra)

    def _apply(self, state: dict[str, Any], extra: dict[str, Any], source: object) -> None:
        self.models.load_state_dict(state["models"], source=source)
        self.policies_trained = int(extra["policies_trained"])
        self.policy.load_state_dict(state["policy"], source=source)
        self.buffer.load_state_dict(state["buffer"], source=source)
        self.rng.bit_generator.state = state["rng"]
        self.imagine_generator.set_state(state["imagine_generator"].to(torch.uint8).cpu())
        self.num_timesteps = int(extra["num_timesteps"])
        self.num_episodes = int(extra["num_episodes"])
        self.history = [dict(row) for row in extra["history"]]
