"""MAX: Model-Based Active Exploration (Shyam, Jaskowski and Gomez, ICML 2019) on discrete tasks.

Pure exploration, no task reward. An ensemble of categorical forward models
(`hrl.intrinsic.EnsembleDisagreement`) is trained after every step on the transitions seen so far
(``model_steps`` Adam steps, each member on its own bootstrap resample); the novelty of a
state-action pair is the Jensen-Shannon divergence among the members' predictions of the next
state, high where the models have not been constrained by data.

- ``method="max"`` (active): at every step a fresh exploration policy is planned in the learned
  models: finite-horizon value iteration over the steps left in the episode in the ensemble's mean
  transition model, with the divergence of every pair as its reward (the chain is small enough to
  plan exactly; the paper plans in the models too, with SAC in continuous tasks). The agent then acts
  greedily on the planned Q_t(s, a) (ties broken at random).
- ``method="reactive"``: tabular Q-learning whose reward is the divergence of each transition the
  agent actually made (an exploration bonus, learned only where the agent has been), epsilon-greedy.
- ``method="random"``: uniform actions.

Measured: the states and state-action pairs visited against steps (`history`). Checkpoints follow
the workspace's resume rule (saved at episode ends, only ``total_timesteps`` may grow); every reset is
seeded from the seed and the episode index, so a killed run resumes bit-identically.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.checkpoint import load_checkpoint, load_state_into, save_checkpoint
from core.errors import InputError
from hrl.agents.common import check_run_length, episode_seed, requested_total, substream
from hrl.buffers import ReplayBuffer
from hrl.config import MAXConfig
from hrl.envs.chain import one_hot
from hrl.intrinsic import EnsembleDisagreement, categorical_jsd

__all__ = ["MAXConfig", "MAXExplorer", "plan_exploration"]


def plan_exploration(utility: np.ndarray, transition: np.ndarray, horizon: int) -> np.ndarray:
    """Finite-horizon value iteration: Q_t(s, a) = u(s, a) + sum_s' P(s' | s, a) max_a' Q_{t+1}(s', a').

    Args:
        utility: (S, A) reward of each pair.
        transition: (S, A, S) next-state probabilities.
        horizon: steps to plan.

    Returns:
        (horizon, S, A): Q_t for t = 0 .. horizon - 1 (t steps into the episode).
    """
    q = np.zeros((horizon, *utility.shape))
    value = np.zeros(utility.shape[0])
    for t in range(horizon - 1, -1, -1):
        q[t] = utility + transition @ value
        value = q[t].max(-1)
    return q


class MAXExplorer:
    """An exploring agent on a gymnasium env with Discrete observations and actions.

    Args:
        env: the environment (e.g. `hrl.envs.chain.RandomChain`); its reward is ignored.
        config: `MAXConfig` (``method`` chooses MAX, the reactive baseline or random actions).

    Attributes:
        visit_counts: (S, A) how often each pair was tried.
        history: one row per episode: ``step``, ``states_visited``, ``pairs_visited``.
    """

    def __init__(self, env: Any, config: MAXConfig | None = None) -> None:
        from gymnasium import spaces

        if not (
            isinstance(env.observation_space, spaces.Discrete)
            and isinstance(env.action_space, spaces.Discrete)
        ):
            raise InputError(
                "MAXExplorer needs Discrete observation and action spaces", item=env.observation_space
            )
        self.env, self.config = env, config or MAXConfig()
        self.n_states, self.n_actions = int(env.observation_space.n), int(env.action_space.n)
        self.horizon = int(getattr(env.unwrapped, "episode_steps", 0)) or 100
        c = self.config
        self.models = EnsembleDisagreement(
            self.n_states,
            self.n_actions,
            members=c.ensemble_size,
            hidden=c.hidden,
            lr=c.model_lr,
            seed=c.seed,
        )
        self.buffer = ReplayBuffer(
            max(c.total_timesteps, 1), {"obs": (), "action": (), "next_obs": ()}, rng=substream(c.seed, 2)
        )
        self.rng = substream(c.seed, 1)
        self.q = np.zeros((self.n_states, self.n_actions))  # the reactive baseline's Q-table
        self.visit_counts = np.zeros((self.n_states, self.n_actions), dtype=np.int64)
        self.states_seen = np.zeros(self.n_states, dtype=bool)
        self.num_timesteps = self.num_episodes = 0
        self.history: list[dict[str, float]] = []
        self._plan: np.ndarray | None = None

    # ---------------------------------------------------------------- models
    def _pairs(self) -> dict[str, torch.Tensor]:
        states, actions = np.divmod(np.arange(self.n_states * self.n_actions), self.n_actions)
        return {
            "obs": torch.from_numpy(one_hot(states, self.n_states)),
            "action": torch.from_numpy(one_hot(actions, self.n_actions)),
        }

    def utility_and_model(self) -> tuple[np.ndarray, np.ndarray]:
        """The ensemble's JSD for every state-action pair (S, A) and its mean next-state
        distribution (S, A, S), from one evaluation of every member on every pair."""
        pairs = self._pairs()
        with torch.no_grad():
            probs = self.models.next_state_probs(pairs["obs"], pairs["action"])
        utility = categorical_jsd(probs).numpy().astype(np.float64).reshape(self.n_states, self.n_actions)
        mean = probs.mean(0).numpy().astype(np.float64).reshape(self.n_states, self.n_actions, self.n_states)
        return utility, mean

    def _replan(self, steps_left: int) -> None:
        self._plan = plan_exploration(*self.utility_and_model(), max(steps_left, 1))

    def _fit_models(self) -> None:
        for _ in range(self.config.model_steps):
            sample = self.buffer.sample(self.config.batch_size)
            self.models.update(
                {
                    "obs": torch.from_numpy(one_hot(sample["obs"], self.n_states)),
                    "action": torch.from_numpy(one_hot(sample["action"], self.n_actions)),
                    "next_obs": torch.from_numpy(one_hot(sample["next_obs"], self.n_states)),
                }
            )

    # ---------------------------------------------------------------- acting
    def _greedy(self, values: np.ndarray) -> int:
        best = np.flatnonzero(values >= values.max() - 1e-12)
        return int(best[self.rng.integers(len(best))])

    def _action(self, state: int, t: int) -> int:
        method = self.config.method
        if method == "random":
            return int(self.rng.integers(self.n_actions))
        if method == "max":
            return self._greedy(self._plan[0, state])
        if self.rng.random() < self.config.epsilon:
            return int(self.rng.integers(self.n_actions))
        return self._greedy(self.q[state])

    def _begin_episode(self) -> None:
        if self.config.method == "max":
            self._replan(self.horizon)

    def _after_step(self, state: int, action: int, next_state: int, t: int) -> None:
        """Fit the models to the data so far; MAX replans, the reactive agent learns the bonus."""
        if self.config.method == "random":
            return
        self._fit_models()
        if self.config.method == "max":
            self._replan(self.horizon - t - 1)
            return
        bonus = float(  # the reactive agent's reward: the novelty of what it did, after the fact
            self.models.compute(
                {
                    "obs": torch.from_numpy(one_hot(np.array([state]), self.n_states)),
                    "action": torch.from_numpy(one_hot(np.array([action]), self.n_actions)),
                }
            )[0]
        )
        c = self.config
        self.q[state, action] += c.q_lr * (bonus + c.gamma * self.q[next_state].max() - self.q[state, action])

    def learn(
        self,
        total_timesteps: int | None = None,
        *,
        checkpoint: str | os.PathLike[str] | None = None,
        callback: Callable[[MAXExplorer], None] | None = None,
    ) -> MAXExplorer:
        """Explore until `num_timesteps` reaches `total_timesteps`, whole episodes at a time.

        With `checkpoint`, an existing file is resumed first (resume rule: only ``total_timesteps``
        may differ) and the run is saved after every episode.

        Raises:
            InputError: a bad total, a damaged checkpoint or one further along.
            CheckpointMismatchError: the checkpoint's config differs in another field.
        """
        total = requested_total(self.config.total_timesteps, total_timesteps)
        if total > self.buffer.capacity:  # grow the transition store (it keeps every transition)
            self.buffer = self.buffer.grown(total)
        self.config = replace(self.config, total_timesteps=total)
        path = Path(checkpoint) if checkpoint is not None else None
        if path is not None and path.exists() and self.num_timesteps == 0:
            saved = load_checkpoint(path, MAXConfig, resume=self.config)
            self._apply(saved.state, saved.extra, path)
        check_run_length(self.num_timesteps, total)
        while self.num_timesteps < total:
            state, _ = self.env.reset(seed=episode_seed(self.config.seed, self.num_episodes))
            self.states_seen[int(state)] = True
            self._begin_episode()
            done, t = False, 0
            while not done:
                action = self._action(int(state), t)
                next_state, _, terminated, truncated, _ = self.env.step(action)
                self.buffer.add(obs=state, action=action, next_obs=next_state)
                self.visit_counts[int(state), action] += 1
                self.states_seen[int(next_state)] = True
                self.num_timesteps += 1
                done = terminated or truncated
                if not done:
                    self._after_step(int(state), action, int(next_state), t)
                state, t = next_state, t + 1
            self.num_episodes += 1
            self.history.append(
                {
                    "step": self.num_timesteps,
                    "states_visited": int(self.states_seen.sum()),
                    "pairs_visited": int((self.visit_counts > 0).sum()),
                }
            )
            if path is not None:
                self.save(path)
            if callback is not None:
                callback(self)
        return self

    def predict(
        self, observation: int, state: Any = None, episode_start: Any = None, deterministic: bool = True
    ):
        """The exploration policy's action; `state` is the step within the episode (SB3's shape)."""
        t = 0 if state is None or (episode_start is not None and bool(np.any(episode_start))) else int(state)
        if self.config.method == "max":
            self._replan(self.horizon - t)
        return self._action(int(observation), t), t + 1

    # ------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the models, optimiser, transitions, tables, generator states and history."""
        state = {
            "models": self.models.models.state_dict(),
            "optimizer": self.models.optimizer.state_dict(),
            "generator": self.models.generator.get_state(),
            "buffer": self.buffer.state_dict(),
            "rng": self.rng.bit_generator.state,
            "q": torch.from_numpy(self.q.copy()),
            "visit_counts": torch.from_numpy(self.visit_counts.copy()),
            "states_seen": torch.from_numpy(self.states_seen.astype(np.int64)),
        }
        extra = {
            "num_timesteps": self.num_timesteps,
            "num_episodes": self.num_episodes,
            "history": self.history,
        }
        return save_checkpoint(path, state, self.config, extra=extra)

    def _apply(self, state: dict[str, Any], extra: dict[str, Any], source: object) -> None:
        load_state_into(self.models.models, state["models"], source=source)
        self.models.optimizer.load_state_dict(state["optimizer"])
        self.models.generator.set_state(state["generator"].to(torch.uint8).cpu())
        self.buffer.load_state_dict(state["buffer"], source=source)
        self.rng.bit_generator.state = state["rng"]
        self.q = state["q"].numpy().astype(np.float64).copy()
        self.visit_counts = state["visit_counts"].numpy().astype(np.int64).copy()
        self.states_seen = state["states_seen"].numpy().astype(bool).copy()
        self.num_timesteps = int(extra["num_timesteps"])
        self.num_episodes = int(extra["num_episodes"])
        self.history = list(extra["history"])
