"""Episodic curiosity through reachability (Savinov, Raichuk, Marinier, Vincent, Pollefeys, Lillicrap
and Gelly, "Episodic Curiosity through Reachability", ICLR 2019), as an `hrl.intrinsic.IntrinsicReward`.

- The reachability network R(o_i, o_j) = C(E(o_i), E(o_j)): a siamese embedding E (Burda et al.'s
  small CNN here; a ResNet-18 in the paper) and a comparator C, an MLP on [E(o_i), E(o_j)] with a
  sigmoid output, the probability that o_j is reachable from o_i within `k` steps. It is trained
  (`fit_reachability`) on pairs from trajectories: positive when at most k steps apart, negative when
  at least ``gamma * k`` apart (the paper's k = 5, gamma = 5), before the RL starts, on a random
  agent's trajectories (the paper's pre-trained variant; its online variant trains on the agent's).
- An episodic memory per environment of up to `memory` embeddings, emptied at every episode start
  and seeded with the episode's first observation. For each new observation o the similarities
  C(M_i, E(o)) to every slot are aggregated by their `percentile` (90) into F, the bonus is
  ``alpha * (beta - F)`` and E(o) joins the memory when F < `novelty_threshold` (the paper's
  b_novelty = 0, i.e. F < beta), replacing a random slot when the memory is full.

PPO hands a whole rollout to the module, time-major: ``n_envs`` rows per step. The module keeps each
env's memory across rollouts and reads an episode start where ``obs[t + 1]`` differs from
``next_obs[t]`` (PPO's rollouts store the fresh episode's first observation after a reset).
`compute` replays the rollout from the kept memories on a copy and changes nothing; `update` replays
it again to advance the memories (the network is frozen during RL).

Observations arrive as PPO keeps them: (B, C*H*W) floats in [0, 255] of a (C, H, W) image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from core.errors import InputError
from hrl.curiosity.config import EpisodicConfig
from hrl.curiosity.features import small_convnet
from hrl.intrinsic import IntrinsicReward

__all__ = ["EpisodicCuriosity", "ReachabilityNetwork", "reachability_pairs"]


class ReachabilityNetwork(nn.Module):
    """R(o_i, o_j) = sigmoid(C([E(o_i), E(o_j)])): the siamese embedding and the comparator."""

    def __init__(self, obs_shape: tuple[int, int, int], embedding_dim: int, hidden: int) -> None:
        super().__init__()
        self.embedding = small_convnet(obs_shape, embedding_dim)
        self.comparator = nn.Sequential(
            nn.Linear(2 * embedding_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def compare(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """(..., D), (..., D) embeddings -> (...,) probabilities that `second` is reachable from `first`."""
        return torch.sigmoid(self.comparator(torch.cat([first, second], dim=-1)).squeeze(-1))


def reachability_pairs(
    lengths: Sequence[int], k: int, gamma: int, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Balanced training pairs from trajectories laid end to end.

    Args:
        lengths: steps of each trajectory (its observations are consecutive rows).
        k, gamma: positives at most k steps apart, negatives at least gamma * k apart.
        count: pairs to draw (half positive, half negative where the trajectories allow).

    Returns:
        (first, second, label): row indices into the concatenated observations and 1.0 / 0.0.
    """
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int)
    long_enough = [i for i, n in enumerate(lengths) if n > gamma * k]
    first, second, label = [], [], []
    for j in range(count):
        negative = j % 2 == 1 and long_enough
        episode = int(rng.choice(long_enough)) if negative else int(rng.integers(len(lengths)))
        n = lengths[episode]
        if negative:
            a = int(rng.integers(0, n - gamma * k))
            b = int(rng.integers(a + gamma * k, n))
        else:
            a = int(rng.integers(0, n))
            b = min(n - 1, a + int(rng.integers(0, k + 1)))
        if rng.random() < 0.5:
            a, b = b, a
        first.append(starts[episode] + a)
        second.append(starts[episode] + b)
        label.append(0.0 if negative else 1.0)
    return np.array(first), np.array(second), np.array(label, dtype=np.float32)


class EpisodicCuriosity(IntrinsicReward):
    """Savinov et al.'s episodic curiosity: a bonus for observations not reachable from the memory.

    Args:
        obs_shape: the (C, H, W) image the observations flatten.
        n_envs: environments per rollout row (PPO's ``n_envs``).
        config: `EpisodicConfig`.

    Attributes:
        network: the `ReachabilityNetwork`. optimizer: its Adam (for `fit_reachability`).
    """

    def __init__(
        self, obs_shape: tuple[int, int, int], n_envs: int, config: EpisodicConfig | None = None
    ) -> None:
        super().__init__()
        config = config if config is not None else EpisodicConfig()
        if not isinstance(config, EpisodicConfig):
            raise InputError("EpisodicCuriosity needs an EpisodicConfig", item=type(config).__name__)
        if len(obs_shape) != 3:
            raise InputError("EpisodicCuriosity needs a (C, H, W) image observation", item=obs_shape)
        if not isinstance(n_envs, int) or n_envs < 1:
            raise InputError("EpisodicCuriosity needs a positive n_envs", item=n_envs)
        self.config, self.obs_shape, self.n_envs = config, tuple(obs_shape), n_envs
        self.obs_dim = int(np.prod(obs_shape))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.network = ReachabilityNetwork(self.obs_shape, config.embedding_dim, config.hidden)
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=config.lr)
        self.register_buffer("obs_mean", torch.zeros(self.obs_dim))
        self.register_buffer("obs_scale", torch.tensor(255.0))
        self.rng = np.random.default_rng([config.seed, 31])
        # per env: memory slots, how many are filled, and the last next_obs seen (episode continuity)
        self.memory = torch.zeros(n_envs, config.memory, config.embedding_dim)
        self.filled = np.zeros(n_envs, dtype=int)
        self.last_next_obs: torch.Tensor | None = None
        # the online variant's data: each env's episode so far and the most recent finished episodes
        self.current: list[list[torch.Tensor]] = [[] for _ in range(n_envs)]
        self.finished: list[torch.Tensor] = []

    def embed(self, obs: torch.Tensor) -> torch.Tensor:
        """E(obs): (B, C*H*W) pixels in [0, 255] -> (B, embedding_dim), the pixels standardised as
        `hrl.curiosity.features.FeatureCuriosity` does once `fit_reachability` has seen data."""
        return self.network.embedding((obs - self.obs_mean) / self.obs_scale)

    def fit_reachability(self, trajectories: Sequence[torch.Tensor], pairs: int = 4096) -> dict[str, float]:
        """Train R on pairs of the given trajectories ((T_i, C*H*W) each, consecutive observations).

        Runs ``epochs`` passes of ``minibatches`` minibatches over `pairs` fresh pairs, after setting
        the input standardisation from the trajectories (per-pixel mean, one scalar sd).

        Returns:
            ``loss`` (the last minibatch's binary cross-entropy) and ``accuracy`` on all the pairs.
        """
        config = self.config
        lengths = [len(t) for t in trajectories]
        if not any(n > config.gamma * config.k for n in lengths):
            raise InputError(
                "fit_reachability needs a trajectory longer than gamma * k steps",
                item=max(lengths, default=0),
                expected=config.gamma * config.k,
            )
        obs = torch.cat(list(trajectories)).float()
        self.obs_mean.copy_(obs.mean(0))
        self.obs_scale.copy_(obs.std(0, unbiased=False).mean().clamp_min(1e-3))
        first, second, label = reachability_pairs(lengths, config.k, config.gamma, pairs, self.rng)
        first, second, label = torch.from_numpy(first), torch.from_numpy(second), torch.from_numpy(label)
        loss = self._train(obs, first, second, label, config.epochs)
        with torch.no_grad():
            prob = torch.cat(
                [
                    self.network.compare(
                        self.embed(obs[first[i : i + 512]]), self.embed(obs[second[i : i + 512]])
                    )
                    for i in range(0, pairs, 512)
                ]
            )
        return {
            "loss": float(loss.detach()),
            "accuracy": float(((prob > 0.5).float() == label).float().mean()),
        }

    def _train(
        self, obs: torch.Tensor, first: torch.Tensor, second: torch.Tensor, label: torch.Tensor, epochs: int
    ) -> torch.Tensor:
        """`epochs` passes of `minibatches` Adam steps of R's cross-entropy on the given pairs."""
        pairs = len(label)
        per = max(1, pairs // self.config.minibatches)
        loss = torch.zeros(())
        for _ in range(epochs):
            order = torch.from_numpy(self.rng.permutation(pairs))
            for start in range(0, pairs, per):
                index = order[start : start + per]
                prob = self.network.compare(self.embed(obs[first[index]]), self.embed(obs[second[index]]))
                loss = nn.functional.binary_cross_entropy(prob.clamp(1e-6, 1 - 1e-6), label[index])
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
        return loss.detach()

    def bonus(self, memory: torch.Tensor, filled: int, embedding: torch.Tensor) -> tuple[float, bool]:
        """One env's bonus alpha (beta - F) for `embedding` (D,) against its first `filled` slots,
        and whether it is novel enough to be stored (F < novelty_threshold)."""
        config = self.config
        if filled == 0:
            return 0.0, True
        similarity = self.network.compare(memory[:filled], embedding.expand(filled, -1))
        aggregate = float(torch.quantile(similarity, config.percentile / 100.0))
        return config.alpha * (config.beta - aggregate), aggregate < config.novelty_threshold

    def _store(
        self, memory: torch.Tensor, filled: np.ndarray, env: int, embedding: torch.Tensor, rng
    ) -> None:
        if filled[env] < self.config.memory:
            memory[env, filled[env]] = embedding
            filled[env] += 1
        else:
            memory[env, int(rng.integers(self.config.memory))] = embedding

    def _replay(self, batch: Mapping[str, torch.Tensor], commit: bool) -> torch.Tensor:
        _check(batch, self.obs_dim, self.n_envs)
        n = self.n_envs
        obs = batch["obs"].reshape(-1, n, self.obs_dim)
        next_obs = batch["next_obs"].reshape(-1, n, self.obs_dim)
        memory, filled = self.memory.clone(), self.filled.copy()
        rng = self.rng
        if not commit:  # a copy making the same replacement draws as the committing pass will
            rng = np.random.default_rng()
            rng.bit_generator.state = self.rng.bit_generator.state
        last = self.last_next_obs
        rewards, starts = torch.zeros(obs.shape[0], n), torch.zeros(obs.shape[0], n, dtype=torch.bool)
        with torch.no_grad():
            current = self.embed(obs.flatten(0, 1)).reshape(obs.shape[0], n, -1)
            following = self.embed(next_obs.flatten(0, 1)).reshape(obs.shape[0], n, -1)
            for t in range(obs.shape[0]):
                for env in range(n):
                    if last is None or not torch.equal(last[env], obs[t, env]):  # an episode starts
                        starts[t, env] = True
                        filled[env] = 0
                        self._store(memory, filled, env, current[t, env], rng)
                    value, novel = self.bonus(memory[env], int(filled[env]), following[t, env])
                    rewards[t, env] = value
                    if novel:
                        self._store(memory, filled, env, following[t, env], rng)
                last = next_obs[t]
        if commit:
            self.memory, self.filled, self.last_next_obs = memory, filled, last.clone()
            if self.config.online_pairs:
                self._collect(obs, starts)
        return rewards.flatten()

    def _collect(self, obs: torch.Tensor, starts: torch.Tensor) -> None:
        """Extend each env's episode with the rollout's observations; keep the recent finished ones."""
        for env in range(self.n_envs):
            for t in range(obs.shape[0]):
                if starts[t, env] and self.current[env]:
                    self.finished.append(torch.stack(self.current[env]))
                    self.current[env] = []
                self.current[env].append(obs[t, env].clone())
        self.finished = self.finished[-self.config.online_episodes :]

    def _train_online(self) -> float | None:
        """One pass of R's training on `online_pairs` pairs of the recent episodes (None: none is long enough)."""
        config = self.config
        episodes = [*self.finished, *(torch.stack(steps) for steps in self.current if steps)]
        episodes = [e for e in episodes if len(e) > config.gamma * config.k]
        if not episodes:
            return None
        obs = torch.cat(episodes)
        first, second, label = reachability_pairs(
            [len(e) for e in episodes], config.k, config.gamma, config.online_pairs, self.rng
        )
        first, second, label = torch.from_numpy(first), torch.from_numpy(second), torch.from_numpy(label)
        return float(self._train(obs, first, second, label, 1))

    def compute(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """(B,) bonuses of a time-major rollout (``n_envs`` rows per step), the memories untouched."""
        return self._replay(batch, commit=False)

    def update(self, batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
        """Advance the episodic memories through the rollout; with ``online_pairs``, then train R on
        the agent's recent episodes (else R stays as `fit_reachability` left it)."""
        rewards = self._replay(batch, commit=True)
        out = {"mean_bonus": float(rewards.mean()), "memory_fill": float(self.filled.mean())}
        if self.config.online_pairs:
            loss = self._train_online()
            if loss is not None:
                out["reachability_loss"] = loss
        return out


def _check(batch: Mapping[str, torch.Tensor], obs_dim: int, n_envs: int) -> None:
    missing = [name for name in ("obs", "next_obs") if name not in batch]
    if missing:
        raise InputError("episodic-curiosity batch lacks fields", item=missing, expected="obs, next_obs")
    if batch["obs"].shape[-1] != obs_dim or batch["next_obs"].shape[-1] != obs_dim:
        raise InputError(
            "episodic-curiosity batch has the wrong observation width",
            item=tuple(batch["obs"].shape),
            expected=obs_dim,
        )
    if batch["obs"].shape[0] % n_envs:
        raise InputError(
            "episodic-curiosity batch is not whole rollout steps",
            item=batch["obs"].shape[0],
            expected=f"a multiple of {n_envs}",
        )
