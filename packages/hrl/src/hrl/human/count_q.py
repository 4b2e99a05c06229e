"""A count-based tabular Q-learner on hashed pixel observations: the RL side of the priors study.

`CountQ` keys a Q table by the BLAKE2b digest of each observation's bytes, so it sees a frame as an
opaque symbol: nothing of colour, shape or which sprite is which reaches it, which is the point of
the study (an agent without priors). Exploration is optimism plus MBIE-EB's bonus (see
`hrl.human.config.CountQConfig`); ties between greedy actions are broken by the agent's own
generator. Stable-Baselines3's shape: ``CountQ(env, config)``, ``learn(total_timesteps)``,
``predict(obs)``, ``save(path)``, ``CountQ.load(path, env)``; ``learn(checkpoint=path)`` saves at
episode ends and resumes from an existing file (only ``total_timesteps`` may differ).

Two renderings that draw the same game states as different but one-to-one pictures give this agent
isomorphic tables, and its random draws do not depend on the digests, so its run is the same in both:
indifference by construction, which the study checks by measuring it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError
from hrl.agents.common import check_run_length, episode_seed, start_learning, substream
from hrl.human.config import CountQConfig

__all__ = ["CountQ", "digest"]


def digest(observation: Any) -> bytes:
    """The 16-byte BLAKE2b digest of an observation's bytes (its table key)."""
    return hashlib.blake2b(np.ascontiguousarray(observation).tobytes(), digest_size=16).digest()


class CountQ:
    """Tabular Q-learning with a count bonus on any env with a Discrete action space.

    Attributes:
        num_timesteps, num_episodes: counters of the run.
        history: one row per finished episode: ``step`` (the run's step count at its end),
            ``return``, ``length``, ``outcome`` (the env's ``info["state"]["outcome"]`` if any).
        solved_at: ``num_timesteps`` at the end of the first episode with a positive return, or None.
        n_states: table rows (distinct observations seen).
    """

    name = "count_q"
    config_type = CountQConfig

    def __init__(self, env: Any, config: CountQConfig | None = None) -> None:
        config = config if config is not None else CountQConfig()
        if not isinstance(config, CountQConfig):
            raise InputError("CountQ needs a CountQConfig", item=type(config).__name__)
        self.config, self.env = config, env
        if env is not None:
            self._check_env(env)
        self.n_actions = int(env.action_space.n) if env is not None else 0
        self.rows: dict[bytes, int] = {}
        self.q = np.zeros((0, self.n_actions))
        self.counts = np.zeros((0, self.n_actions), np.int64)
        self.rng = substream(config.seed, 0xC0)
        self._projection: np.ndarray | None = (
            None  # SimHash's A, drawn on first use (its width is the frame's)
        )
        self.num_timesteps = 0
        self.history: list[dict[str, Any]] = []
        self.solved_at: int | None = None
        self._episode: dict[str, Any] | None = None  # the unfinished episode: actions, return
        self._current = -1  # its current observation's row

    @staticmethod
    def _check_env(env: Any) -> None:
        import gymnasium as gym

        if not isinstance(env.action_space, gym.spaces.Discrete):
            raise InputError("CountQ needs a Discrete action space", item=env.action_space)

    def _key(self, observation: Any) -> bytes:
        """The table key of an observation: its digest, or its SimHash code (``hash_bits`` > 0)."""
        bits = self.config.hash_bits
        if bits == 0:
            return digest(observation)
        x = np.asarray(observation, np.float32).reshape(-1)
        if self._projection is None or self._projection.shape[1] != x.size:
            rng = substream(self.config.seed, 0x51)
            self._projection = rng.standard_normal((bits, x.size)).astype(np.float32)
        return (
            np.packbits(self._projection @ x > 0).tobytes().ljust(16, b"\0")[:16]
            if bits <= 128
            else digest(np.packbits(self._projection @ x > 0))
        )

    @property
    def num_episodes(self) -> int:
        return len(self.history)

    @property
    def n_states(self) -> int:
        return len(self.rows)

    def _row(self, key: bytes) -> int:
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = len(self.rows)
            if row >= len(self.q):  # grow by doubling
                grow = max(64, len(self.q))
                start = self.config.bonus / (1.0 - self.config.gamma)
                self.q = np.concatenate([self.q, np.full((grow, self.n_actions), start)])
                self.counts = np.concatenate([self.counts, np.zeros((grow, self.n_actions), np.int64)])
        return row

    def _greedy(self, row: int) -> int:
        values = self.q[row]
        best = np.flatnonzero(values == values.max())
        return int(best[0] if len(best) == 1 else best[self.rng.integers(len(best))])

    def learn(
        self,
        total_timesteps: int | None = None,
        *,
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_every: int = 50_000,
        progress_bar: bool = False,
    ) -> CountQ:
        """Run to ``total_timesteps`` steps (or the first solve with ``stop_when_solved``)."""
        path = start_learning(self, total_timesteps, checkpoint, checkpoint_every)
        if path is not None and path.exists() and self.num_timesteps == 0:
            self._resume(path)
        total = self.config.total_timesteps
        check_run_length(self.num_timesteps, total)
        config = self.config
        bar = None
        if progress_bar:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, initial=self.num_timesteps, desc="count-q", mininterval=2.0)
        last_saved = self.num_timesteps
        while self.num_timesteps < total and not (config.stop_when_solved and self.solved_at is not None):
            if self._episode is None:
                obs, _ = self.env.reset(seed=episode_seed(config.seed, self.num_episodes))
                self._episode, self._current = {"actions": [], "return": 0.0}, self._row(self._key(obs))
            row, episode = self._current, self._episode
            action = self._greedy(row)
            obs, reward, terminated, truncated, info = self.env.step(action)
            nxt = self._row(self._key(obs))
            self.counts[row, action] += 1
            target = reward + config.bonus / np.sqrt(self.counts[row, action])
            if not terminated:
                target += config.gamma * self.q[nxt].max()
            self.q[row, action] += config.learning_rate * (target - self.q[row, action])
            self._current = nxt
            episode["actions"].append(action)
            episode["return"] += float(reward)
            self.num_timesteps += 1
            if bar is not None:
                bar.update(1)
            if not (terminated or truncated):
                continue  # (a run cut short mid-episode keeps the episode; resuming replays it)
            outcome = info.get("state", {}).get("outcome") if isinstance(info, dict) else None
            ret, length = episode["return"], len(episode["actions"])
            self.history.append(
                {"step": self.num_timesteps, "return": ret, "length": length, "outcome": outcome}
            )
            self._episode = None
            if ret > 0 and self.solved_at is None:
                self.solved_at = self.num_timesteps
            if path is not None and self.num_timesteps - last_saved >= checkpoint_every:
                self.save(path)
                last_saved = self.num_timesteps
        if bar is not None:
            bar.close()
        if path is not None:
            self.save(path)
        return self

    def predict(
        self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True
    ):
        """The greedy action for one observation (an unseen one: the first action), and ``state``."""
        row = self.rows.get(self._key(observation))
        if row is None:
            return 0, state
        values = self.q[row]
        return int(np.flatnonzero(values == values.max())[0]), state

    # ------------------------------------------------------------------ files
    def _state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        import torch

        n = self.n_states
        keys = (
            np.frombuffer(b"".join(self.rows), np.uint8).reshape(n, 16) if n else np.zeros((0, 16), np.uint8)
        )
        tensors = {
            "keys": torch.from_numpy(keys.copy()),
            "q": torch.from_numpy(self.q[:n].copy()),
            "counts": torch.from_numpy(self.counts[:n].copy()),
        }
        extra = {
            "num_timesteps": self.num_timesteps,
            "history": self.history,
            "solved_at": self.solved_at,
            "rng": self.rng.bit_generator.state,
            "n_actions": self.n_actions,
            "episode": self._episode,
        }
        return tensors, extra

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the table, counters, history and generator state (a `core` checkpoint)."""
        from core.checkpoint import save_checkpoint

        tensors, extra = self._state()
        return save_checkpoint(path, tensors, self.config, extra=extra)

    def _apply(self, state: dict[str, Any], extra: dict[str, Any]) -> None:
        keys = state["keys"].numpy()
        self.n_actions = int(extra["n_actions"])
        self.rows = {bytes(k): i for i, k in enumerate(keys)}
        self.q = state["q"].numpy().copy()
        self.counts = state["counts"].numpy().copy()
        self.num_timesteps = int(extra["num_timesteps"])
        self.history = list(extra["history"])
        self.solved_at = extra["solved_at"]
        self.rng.bit_generator.state = extra["rng"]
        self._episode = extra.get("episode")
        if self._episode is not None and self.env is not None:  # replay the unfinished episode's actions
            obs, _ = self.env.reset(seed=episode_seed(self.config.seed, self.num_episodes))
            for action in self._episode["actions"]:
                obs = self.env.step(action)[0]
            self._current = self.rows[self._key(obs)]

    def _resume(self, path: Path) -> None:
        from core.checkpoint import load_checkpoint

        saved = load_checkpoint(path, CountQConfig, resume=self.config)
        self._apply(saved.state, saved.extra)

    @classmethod
    def load(cls, path: str | os.PathLike[str], env: Any = None) -> CountQ:
        """An agent restored from `save`'s file (give `env` to continue learning)."""
        from core.checkpoint import load_checkpoint

        saved = load_checkpoint(path, CountQConfig)
        agent = cls(None, saved.config)
        agent.env = env
        if env is not None:
            cls._check_env(env)
        agent._apply(saved.state, saved.extra)
        return agent
