"""Deep Q-learning from Demonstrations (DQfD; Hester et al. 2018) with a pluggable reward.

The agent Ibarz et al. (2018) train from a learned reward: double DQN with a dueling-free Q network,
the DQfD loss

    J(Q) = J_DQ(Q) + λ_n J_n(Q) + λ_E J_E(Q) + λ_2 ||θ||²,

J_DQ the 1-step double-DQN Huber TD loss, J_n the same with the n-step return, J_E the large-margin
supervised loss on demonstration steps

    J_E(Q) = max_a [Q(s, a) + l(a_E, a)] − Q(s, a_E),   l(a_E, a) = margin if a ≠ a_E else 0,

and the L2 term as Adam's weight decay. Demonstrations are pretrained on alone for
``pretrain_steps`` updates, then stay in the replay for good (never overwritten) next to the agent's
own circular part; sampling is proportional prioritised replay (priority |δ| + ε, plus
``demo_bonus`` on demonstration rows; exponent α, importance weights with exponent β).

The reward is not the environment's: every update asks ``reward_fn(next_obs)`` for the reward of
each step (a learned reward model in `hrl.experiments.preferences`), so the rewards in the replay
follow the model as it is retrained. The environment's own reward is stored only to be reported.

Rows of the replay are observations; row j's transition goes to row j + 1, and the last
observation of every episode is a row of its own (no transition starts there), so n-step windows
stop at an episode's end (`n_step_targets`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.errors import InputError

__all__ = ["DQfD", "DQfDConfig", "QNetwork", "large_margin_loss", "n_step_targets"]


@dataclass(frozen=True)
class DQfDConfig:
    """Hyper-parameters (Hester et al. 2018's where they fit a small budget; ours marked).

    Attributes:
        gamma, n_step: discount and the n of the n-step return (paper: 0.99, 10).
        lambda_n, lambda_e, l2: weights of the n-step, supervised and L2 terms (paper: 1, 1, 1e-5).
        margin: the large margin l (paper: 0.8).
        lr, batch_size: Adam's step size and the minibatch (paper: 6.25e-5, 32; ours 1e-4).
        buffer_size: rows of the agent's circular part (demonstrations are kept besides).
        pretrain_steps: updates on demonstrations alone before acting (paper: 750 000; ours smaller).
        train_every, target_every: agent steps per update, updates per target-network copy.
        learning_starts: agent steps before the first update after pretraining.
        eps_start, eps_end, eps_decay_steps: ε-greedy schedule (ours: linear).
        alpha, beta, priority_eps, demo_bonus: prioritised replay (paper: 0.4, 0.6, 0.001, 1.0).
        hidden: width of the Q network's dense layer.
        seed: seeds torch and the sampler.
    """

    gamma: float = 0.99
    n_step: int = 10
    lambda_n: float = 1.0
    lambda_e: float = 1.0
    l2: float = 1e-5
    margin: float = 0.8
    lr: float = 1e-4
    batch_size: int = 32
    buffer_size: int = 50_000
    pretrain_steps: int = 1000
    train_every: int = 4
    target_every: int = 500
    learning_starts: int = 500
    eps_start: float = 0.1
    eps_end: float = 0.01
    eps_decay_steps: int = 10_000
    alpha: float = 0.4
    beta: float = 0.6
    priority_eps: float = 1e-3
    demo_bonus: float = 1.0
    hidden: int = 256
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_step", "batch_size", "buffer_size", "train_every", "target_every", "hidden"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"DQfDConfig.{name} must be >= 1", item=getattr(self, name))
        if not 0.0 <= self.gamma <= 1.0:
            raise InputError("DQfDConfig.gamma must be in [0, 1]", item=self.gamma)
        if self.margin < 0 or self.l2 < 0 or self.lr <= 0:
            raise InputError(
                "DQfDConfig.margin, l2 must be >= 0 and lr > 0", item=(self.margin, self.l2, self.lr)
            )


class QNetwork(nn.Module):
    """Q(s, ·): the Nature-DQN convolutions (scaled down) for (C, H, W) uint8 frames, an MLP for flat vectors."""

    def __init__(self, obs_shape: tuple[int, ...], n_actions: int, hidden: int = 256) -> None:
        super().__init__()
        self.image = len(obs_shape) == 3
        if self.image:
            c, h, w = obs_shape
            self.body = nn.Sequential(
                nn.Conv2d(c, 16, 8, stride=4),
                nn.ReLU(),
                nn.Conv2d(16, 32, 4, stride=2),
                nn.ReLU(),
                nn.Flatten(),
            )
            with torch.no_grad():
                width = self.body(torch.zeros(1, c, h, w)).shape[1]
        else:
            width = int(np.prod(obs_shape))
            self.body = nn.Flatten()
        self.head = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, n_actions))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """obs (B, *obs_shape) (uint8 frames scaled by 1/255 here) -> (B, n_actions)."""
        x = obs.float() / 255.0 if self.image else obs.float()
        return self.head(self.body(x))


def large_margin_loss(q: torch.Tensor, expert_actions: torch.Tensor, margin: float) -> torch.Tensor:
    """J_E per row: max_a [Q(s, a) + margin·1[a ≠ a_E]] − Q(s, a_E); q (B, A), expert_actions (B,) -> (B,)."""
    bonus = torch.full_like(q, margin)
    bonus.scatter_(1, expert_actions[:, None], 0.0)
    return (q + bonus).max(1).values - q.gather(1, expert_actions[:, None]).squeeze(1)


def n_step_targets(
    rewards: np.ndarray, terminal: np.ndarray, last: np.ndarray, gamma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The n-step return's pieces for windows (B, n) of consecutive steps.

    Step k of a window is counted while no earlier step of it ended the episode (``last``); the
    return is Σ_k γ^k r_k over the counted steps plus ``discount`` · max-Q at the observation after
    the window's final counted step (row offset ``offset`` + 1); ``discount`` is γ^(m+1), m the
    final counted step, or 0 when that step ended the episode by termination.

    Returns:
        (returns (B,), discount (B,), offset (B,) int: m).
    """
    rewards, terminal, last = (np.asarray(a, np.float64) for a in (rewards, terminal, last))
    n = rewards.shape[1]
    ended_before = np.concatenate([np.zeros((len(rewards), 1)), np.cumsum(last, 1)[:, :-1]], 1) > 0
    counted = ~ended_before
    powers = gamma ** np.arange(n)
    returns = (rewards * counted * powers).sum(1)
    offset = counted.sum(1).astype(np.int64) - 1
    rows = np.arange(len(rewards))
    discount = gamma ** (offset + 1.0) * (1.0 - terminal[rows, offset])
    return returns, discount, offset


RewardFn = Callable[[torch.Tensor], torch.Tensor]
"""(B, *obs_shape) observations reached by a step -> (B,) rewards."""


class DQfD:
    """DQfD with rewards from ``reward_fn`` (module docstring); SB3-like ``learn`` / ``predict``.

    Args:
        obs_shape, n_actions: the environment's observation shape and discrete action count.
        config: `DQfDConfig`.
        reward_fn: the reward of each step from the observation it reaches (None: the stored
            environment reward, the plain DQfD of Hester et al.).
        demonstrations: episodes as dicts with ``obs`` (T + 1, *obs_shape), ``actions`` (T,),
            ``rewards`` (T,), ``terminated`` (bool: the episode ended by termination).
    """

    def __init__(
        self,
        obs_shape: tuple[int, ...],
        n_actions: int,
        config: DQfDConfig | None = None,
        reward_fn: RewardFn | None = None,
        demonstrations: list[dict] | None = None,
    ) -> None:
        self.config = config or DQfDConfig()
        cfg = self.config
        torch.manual_seed(cfg.seed)
        self.rng = np.random.default_rng(cfg.seed)
        self.obs_shape, self.n_actions = tuple(obs_shape), int(n_actions)
        self.q = QNetwork(self.obs_shape, self.n_actions, cfg.hidden)
        self.target = QNetwork(self.obs_shape, self.n_actions, cfg.hidden)
        self.target.load_state_dict(self.q.state_dict())
        self.optimizer = torch.optim.Adam(self.q.parameters(), lr=cfg.lr, weight_decay=cfg.l2)
        self.reward_fn = reward_fn
        demos = demonstrations or []
        self.n_demo = sum(len(d["actions"]) + 1 for d in demos)
        size = self.n_demo + cfg.buffer_size
        dtype = np.uint8 if len(self.obs_shape) == 3 else np.float32
        self.obs = np.zeros((size, *self.obs_shape), dtype)
        self.actions = np.zeros(size, np.int64)
        self.env_rewards = np.zeros(size, np.float32)
        self.terminal = np.zeros(size, bool)
        self.last = np.zeros(size, bool)
        self.starts = np.zeros(size, bool)  # a transition starts at this row
        self.priority = np.zeros(size, np.float64)
        row = 0
        for i, d in enumerate(demos):
            obs, actions = np.asarray(d["obs"]), np.asarray(d["actions"], np.int64)
            if len(obs) != len(actions) + 1:
                raise InputError("a demonstration needs one more observation than actions", item=i)
            t = len(actions)
            self.obs[row : row + t + 1] = obs
            self.actions[row : row + t] = actions
            self.env_rewards[row : row + t] = np.asarray(d["rewards"], np.float32)
            self.last[row + t - 1] = True
            self.terminal[row + t - 1] = bool(d.get("terminated", False))
            self.starts[row : row + t] = True
            self.priority[row : row + t] = 1.0 + cfg.demo_bonus
            row += t + 1
        self.ptr = self.n_demo  # next agent row
        self.filled = 0
        self.updates = 0
        self.steps = 0

    # --- replay -------------------------------------------------------------------------------
    def _wrap(self, rows: np.ndarray) -> np.ndarray:
        """Agent rows past the end wrap into the circular part; demonstration rows stay (clipped)."""
        rows = np.asarray(rows)
        agent = rows >= self.n_demo
        wrapped = self.n_demo + (rows - self.n_demo) % self.config.buffer_size
        return np.where(agent, wrapped, np.minimum(rows, max(self.n_demo - 1, 0)))

    def _store(self, obs: np.ndarray, action: int, reward: float, terminal: bool, last: bool) -> None:
        """Row for `obs` with the transition taken from it (the next row is the next observation)."""
        j = self.ptr
        self.obs[j], self.actions[j], self.env_rewards[j] = obs, action, reward
        self.terminal[j], self.last[j], self.starts[j] = terminal, last, True
        self.priority[j] = max(self.priority[self.n_demo :].max(initial=0.0), 1.0)
        self._advance()

    def _store_final(self, obs: np.ndarray) -> None:
        j = self.ptr
        self.obs[j], self.starts[j], self.priority[j] = obs, False, 0.0
        self.terminal[j] = self.last[j] = False
        self._advance()

    def _advance(self) -> None:
        self.ptr = int(self._wrap(np.array([self.ptr + 1]))[0])
        self.filled = min(self.filled + 1, self.config.buffer_size)

    def _sample(self, demo_only: bool) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.config
        p = self.priority[: self.n_demo] if demo_only else self.priority
        p = np.where(self.starts[: len(p)], p, 0.0) ** cfg.alpha
        if not demo_only:  # windows from the newest rows would read rows not written yet
            p[self.n_demo + (self.ptr - self.n_demo - np.arange(1, cfg.n_step + 2)) % cfg.buffer_size] = 0.0
        if p.sum() <= 0:
            raise InputError("nothing to sample: no demonstrations and no agent steps yet", item=demo_only)
        probs = p / p.sum()
        idx = self.rng.choice(len(p), size=cfg.batch_size, p=probs)
        weights = (len(p) * probs[idx]) ** (-cfg.beta)
        return idx, weights / weights.max()

    # --- learning -----------------------------------------------------------------------------
    def _rewards(self, rows: np.ndarray) -> torch.Tensor:
        """Reward of the transitions starting at rows (any shape) from the observation each reaches."""
        nxt = self._wrap(rows + 1)
        if self.reward_fn is None:
            return torch.as_tensor(self.env_rewards[rows.reshape(-1)]).reshape(rows.shape)
        with torch.no_grad():
            r = self.reward_fn(torch.as_tensor(self.obs[nxt.reshape(-1)]))
        return r.float().reshape(rows.shape)

    def update(self, demo_only: bool = False) -> dict[str, float]:
        """One gradient step on the DQfD loss over a prioritised minibatch; returns its parts."""
        cfg = self.config
        idx, weights = self._sample(demo_only)
        window = self._wrap(idx[:, None] + np.arange(cfg.n_step)[None, :])
        rewards = self._rewards(window).numpy()
        ret_n, disc_n, off = n_step_targets(rewards, self.terminal[window], self.last[window], cfg.gamma)
        boot_n = self._wrap(window[np.arange(len(idx)), off] + 1)
        boot_1 = self._wrap(idx + 1)
        obs = torch.as_tensor(self.obs[idx])
        q_all = self.q(obs)
        q = q_all.gather(1, torch.as_tensor(self.actions[idx])[:, None]).squeeze(1)
        with torch.no_grad():
            both = torch.as_tensor(self.obs[np.concatenate([boot_1, boot_n])])
            a_star = self.q(both).argmax(1, keepdim=True)
            v = self.target(both).gather(1, a_star).squeeze(1).double().numpy()
        v1, vn = v[: len(idx)], v[len(idx) :]
        y1 = rewards[:, 0] + cfg.gamma * (1.0 - self.terminal[idx]) * v1
        yn = ret_n + disc_n * vn
        w = torch.as_tensor(weights, dtype=torch.float32)
        huber = nn.functional.smooth_l1_loss
        td1 = huber(q, torch.as_tensor(y1, dtype=torch.float32), reduction="none")
        tdn = huber(q, torch.as_tensor(yn, dtype=torch.float32), reduction="none")
        is_demo = torch.as_tensor(idx < self.n_demo, dtype=torch.float32)
        sup = large_margin_loss(q_all, torch.as_tensor(self.actions[idx]), cfg.margin) * is_demo
        loss = (w * (td1 + cfg.lambda_n * tdn + cfg.lambda_e * sup)).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        delta = np.abs(q.detach().double().numpy() - y1)
        self.priority[idx] = delta + cfg.priority_eps + cfg.demo_bonus * (idx < self.n_demo)
        self.updates += 1
        if self.updates % cfg.target_every == 0:
            self.target.load_state_dict(self.q.state_dict())
        return {
            "loss": float(loss.detach()),
            "supervised": float(sup.detach().sum() / is_demo.sum().clamp(min=1)),
        }

    def pretrain(self, steps: int | None = None) -> None:
        """``steps`` (default ``config.pretrain_steps``) updates on demonstrations alone."""
        for _ in range(self.config.pretrain_steps if steps is None else steps):
            self.update(demo_only=True)

    def epsilon(self) -> float:
        cfg = self.config
        frac = min(self.steps / max(cfg.eps_decay_steps, 1), 1.0)
        return cfg.eps_start + frac * (cfg.eps_end - cfg.eps_start)

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> int:
        """Greedy action (ε-greedy with the current ε unless deterministic)."""
        if not deterministic and self.rng.random() < self.epsilon():
            return int(self.rng.integers(self.n_actions))
        with torch.no_grad():
            return int(self.q(torch.as_tensor(np.asarray(obs)[None])).argmax(1)[0])

    def step(
        self, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray, done: tuple[bool, bool]
    ) -> None:
        """Record one environment step (``done`` = (terminated, truncated)) and train on schedule."""
        terminated, truncated = done
        self._store(obs, action, reward, terminated, terminated or truncated)
        if terminated or truncated:
            self._store_final(next_obs)
        self.steps += 1
        cfg = self.config
        if self.steps >= cfg.learning_starts and self.steps % cfg.train_every == 0:
            self.update()

    def learn(self, env, total_timesteps: int, callback: Callable[[dict], None] | None = None) -> DQfD:
        """Act ε-greedily in `env` for ``total_timesteps`` steps; ``callback(info)`` after each episode
        with ``{"step", "env_return", "length"}`` (the env's own return, for reporting only)."""
        obs, _ = env.reset(seed=self.config.seed)
        ret, length = 0.0, 0
        for _ in range(int(total_timesteps)):
            action = self.predict(obs, deterministic=False)
            nxt, r, term, trunc, _ = env.step(action)
            self.step(np.asarray(obs), action, float(r), np.asarray(nxt), (bool(term), bool(trunc)))
            ret, length = ret + float(r), length + 1
            obs = nxt
            if term or trunc:
                if callback is not None:
                    callback({"step": self.steps, "env_return": ret, "length": length})
                obs, _ = env.reset()
                ret, length = 0.0, 0
        return self
