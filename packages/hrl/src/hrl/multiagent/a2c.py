"""Independent A2C agents on a sequential social dilemma, with or without the social-influence reward.

Jaques et al. (ICML 2019), the model-of-other-agents (MOA) variant: every agent k has its own policy
π_k, value V_k and MOA (`hrl.multiagent.influence.ModelOfOtherAgents`) and learns from its own reward

    r_k^t = e_k^t + β c_k^t,

e the environment's reward and c_k^t the influence of k's action on the others' next actions, read
from k's MOA (counterfactuals over k's actions). β = ``SocialConfig.influence_weight``; β = 0 is the
paper's A2C/A3C baseline (the MOA is trained all the same, so its accuracy and the influence the
baseline agents happen to have can be compared).

The agents are independent: each has its own parameters (the N members of one `EnsembleMLP`, one
batched matmul per layer for all N), its own gradient-norm clip (per member, not over all agents) and
Adam (element-wise, so the agents do not share statistics). The A2C update follows each rollout of
``n_steps`` steps: n-step returns bootstrapped with V of the state after the rollout (also at an
episode's end: episodes are only truncated, by ``max_cycles``), policy loss −A log π, value loss
½(R − V)², entropy bonus; the steps an agent spends off the map (zapped) carry neither policy nor
entropy loss (its action did nothing). The MOA is trained on the same rollout by cross-entropy on the
others' next actions (pairs within the rollout).

``learn`` runs whole episodes (a requested total is rounded up to a multiple of ``max_cycles``);
checkpoints are written at episode ends and every episode's reset is seeded from the run's seed and
its index, so a resumed run is bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.checkpoint import load_checkpoint, load_state_into, save_checkpoint
from core.errors import InputError
from hrl.agents.common import episode_seed, requested_total
from hrl.agents.ppo import gae
from hrl.envs.ssd import equality, make_ssd, sustainability
from hrl.multiagent.config import SocialConfig
from hrl.multiagent.influence import ModelOfOtherAgents
from hrl.networks import EnsembleMLP

__all__ = ["SocialA2C", "clip_grad_norm_per_member"]


def clip_grad_norm_per_member(
    parameters: list[torch.nn.Parameter], members: int, max_norm: float
) -> torch.Tensor:
    """Clip each ensemble member's gradient (its slice of every parameter) to norm `max_norm`.

    Returns:
        (members,) the norms before clipping.
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    norms = torch.sqrt(sum(g.reshape(members, -1).pow(2).sum(1) for g in grads))
    scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(scale.view(members, *([1] * (g.dim() - 1))))
    return norms


class SocialA2C:
    """N independent A2C agents (optionally influence-motivated) on Harvest or Cleanup.

    Args:
        config: `SocialConfig` (game, sizes, A2C and influence settings, seed).
        device: torch device.
        env_kwargs: further keyword arguments of the game (`hrl.envs.ssd.HarvestEnv` / `CleanupEnv`).

    Attributes:
        history: one dict per finished episode: ``returns`` (per agent, environment reward),
            ``collective_return`` (their sum: apples minus zap costs), ``apples`` (per agent),
            ``equality`` (1 - Gini of the apples eaten; the zap costs would make returns negative),
            ``sustainability``, ``zaps``, ``cleans``
            (Cleanup's clean actions), ``influence`` (mean c_k per agent-step), ``moa_accuracy``.
    """

    def __init__(
        self, config: SocialConfig, device: Any = "cpu", env_kwargs: dict[str, Any] | None = None
    ) -> None:
        if not isinstance(config, SocialConfig):
            raise InputError("config must be a SocialConfig", item=type(config).__name__)
        self.config, self.device = config, torch.device(device)
        self.env_kwargs = dict(env_kwargs or {})
        self.env = make_ssd(
            config.env, n_agents=config.n_agents, max_cycles=config.max_cycles, **self.env_kwargs
        )
        n, self.n_actions = config.n_agents, self.env.n_actions
        self.obs_dim = int(self.env.observation_space("agent_0").shape[0])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.policy = EnsembleMLP(n, self.obs_dim, config.hidden, self.n_actions).to(self.device)
            self.value = EnsembleMLP(n, self.obs_dim, config.hidden, 1).to(self.device)
            self.moa = ModelOfOtherAgents(n, self.n_actions, self.obs_dim, config.hidden).to(self.device)
        self.optimizer = torch.optim.Adam(
            [*self.policy.parameters(), *self.value.parameters()], lr=config.learning_rate
        )
        self.moa_optimizer = torch.optim.Adam(self.moa.parameters(), lr=config.moa_learning_rate)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.num_timesteps = 0
        self.num_episodes = 0
        self.history: list[dict[str, Any]] = []

    # --- acting --------------------------------------------------------------------------------
    def _as_array(self, observations: dict[str, np.ndarray]) -> np.ndarray:
        return np.stack([observations[a] for a in self.env.possible_agents])

    def predict(self, observations: Any, deterministic: bool = False) -> dict[str, int]:
        """Every agent's action: observations a dict agent -> (obs_dim,) array (as the env gives) or
        an (N, obs_dim) array; returns a dict agent -> action (argmax when `deterministic`)."""
        obs = self._as_array(observations) if isinstance(observations, dict) else np.asarray(observations)
        if obs.shape != (self.config.n_agents, self.obs_dim):
            raise InputError("observations must be (n_agents, obs_dim)", item=obs.shape)
        with torch.no_grad():
            logits = self.policy(torch.as_tensor(obs, dtype=torch.float32, device=self.device).unsqueeze(1))[
                :, 0
            ]
            if deterministic:
                acts = logits.argmax(-1)
            else:
                acts = torch.multinomial(logits.softmax(-1).cpu(), 1, generator=self.generator)[:, 0]
        return {a: int(acts[i]) for i, a in enumerate(self.env.possible_agents)}

    # --- learning ------------------------------------------------------------------------------
    def learn(
        self,
        total_timesteps: int | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_every: int = 10_000,
        callback: Any = None,
    ) -> SocialA2C:
        """Train to `total_timesteps` environment steps (rounded up to whole episodes).

        With `checkpoint`, an existing file is resumed from (only ``total_timesteps`` may differ) and
        the file is rewritten at the first episode end after every `checkpoint_every` steps and at the
        end. `callback(agent, record)` is called after every episode.
        """
        total = requested_total(self.config.total_timesteps, total_timesteps)
        if not isinstance(checkpoint_every, int) or checkpoint_every < 1:
            raise InputError("checkpoint_every must be a positive integer", item=checkpoint_every)
        self.config = replace(self.config, total_timesteps=total)
        path = Path(checkpoint) if checkpoint is not None else None
        if path is not None and path.exists():
            saved = load_checkpoint(path, SocialConfig, resume=self.config)
            self._apply(saved.state, saved.extra, path)
            self.config = replace(self.config, total_timesteps=total)
        last_saved = self.num_timesteps
        while self.num_timesteps < total:
            record = self._episode()
            if callback is not None:
                callback(self, record)
            if path is not None and self.num_timesteps - last_saved >= checkpoint_every:
                self.save(path)
                last_saved = self.num_timesteps
        if path is not None:
            self.save(path)
        return self

    def _episode(self) -> dict[str, Any]:
        cfg, env, n = self.config, self.env, self.config.n_agents
        observations, _ = env.reset(seed=episode_seed(cfg.seed, self.num_episodes))
        obs = self._as_array(observations)
        active = np.ones(n, dtype=np.float32)
        returns = np.zeros(n)
        apples = np.zeros(n)
        reward_times: list[list[int]] = [[] for _ in range(n)]
        zaps = cleans = 0
        influence, accuracy = [], []
        for _ in range(cfg.max_cycles // cfg.n_steps):
            buf_obs, buf_act, buf_rew, buf_active = [], [], [], []
            for _ in range(cfg.n_steps):
                actions = self.predict(obs)
                acts = np.array([actions[a] for a in env.possible_agents])
                observations, rewards, _, _, infos = env.step(actions)
                rew = np.array([rewards[a] for a in env.possible_agents])
                for i in np.flatnonzero(rew > 0):
                    reward_times[i].append(env.t - 1)
                zaps += int(((acts == 5) & (active > 0)).sum())
                cleans += int(((acts == 6) & (active > 0)).sum())
                buf_obs.append(obs)
                buf_act.append(acts)
                buf_rew.append(rew)
                buf_active.append(active)
                returns += rew
                apples += rew > 0
                obs = self._as_array(observations)
                active = np.array(
                    [0.0 if infos[a]["removed"] else 1.0 for a in env.possible_agents], np.float32
                )
            stats = self._update(
                np.stack(buf_obs), np.stack(buf_act), np.stack(buf_rew), np.stack(buf_active), obs
            )
            influence.append(stats["influence"])
            accuracy.append(stats["moa_accuracy"])
            self.num_timesteps += cfg.n_steps
        self.num_episodes += 1
        record = {
            "episode": self.num_episodes,
            "timesteps": self.num_timesteps,
            "returns": [float(r) for r in returns],
            "collective_return": float(returns.sum()),
            "apples": [int(x) for x in apples],
            "equality": equality(apples),
            "sustainability": None if np.isnan(sus := sustainability(reward_times)) else sus,
            "zaps": zaps,
            "cleans": cleans,
            "influence": float(np.mean(influence)),
            "moa_accuracy": float(np.mean(accuracy)),
        }
        self.history.append(record)
        return record

    def _update(
        self, obs: np.ndarray, acts: np.ndarray, rew: np.ndarray, active: np.ndarray, last_obs: np.ndarray
    ) -> dict[str, float]:
        """One A2C step for every agent and one MOA step on a rollout: obs (T, N, D), acts/rew/active (T, N)."""
        cfg, n = self.config, self.config.n_agents
        dev = self.device
        o = torch.as_tensor(obs, dtype=torch.float32, device=dev).transpose(0, 1)  # (N, T, D)
        a = torch.as_tensor(acts, dtype=torch.int64, device=dev)  # (T, N)
        act_mask = torch.as_tensor(active, dtype=torch.float32, device=dev)  # (T, N)
        logits = self.policy(o)  # (N, T, A)
        probs = logits.softmax(-1)
        c = self.moa.influence(o, a, probs.detach(), act_mask)  # (N, T)
        reward = torch.as_tensor(rew, dtype=torch.float32, device=dev) + cfg.influence_weight * c.T
        values = self.value(o).squeeze(-1)  # (N, T)
        with torch.no_grad():
            last = torch.as_tensor(last_obs, dtype=torch.float32, device=dev).unsqueeze(1)
            last_values = self.value(last)[:, 0, 0]
        _, target = gae(reward, values.detach().T, torch.zeros_like(reward), last_values, cfg.gamma, 1.0)
        advantage = (target - values.detach().T).T  # (N, T)
        log_probs = logits.log_softmax(-1)
        taken = log_probs.gather(-1, a.T.unsqueeze(-1)).squeeze(-1)  # (N, T)
        entropy = -(probs * log_probs).sum(-1)
        mask = act_mask.T
        steps = mask.sum(1).clamp_min(1.0)
        # per-agent means summed over agents: each agent's gradient is its own A2C gradient
        policy_loss = (-(advantage * taken * mask).sum(1) / steps).sum()
        entropy_term = ((entropy * mask).sum(1) / steps).sum()
        value_loss = (0.5 * (target.T - values) ** 2).mean(1).sum()
        loss = policy_loss + cfg.vf_coef * value_loss - cfg.ent_coef * entropy_term
        self.optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_per_member(list(self.policy.parameters()), n, cfg.max_grad_norm)
        clip_grad_norm_per_member(list(self.value.parameters()), n, cfg.max_grad_norm)
        self.optimizer.step()
        moa_loss, moa_accuracy = self.moa.loss(o[:, :-1], a[:-1], a[1:], act_mask[1:])
        self.moa_optimizer.zero_grad()
        (moa_loss * n).backward()  # a sum of per-agent means: each MOA's own step size
        self.moa_optimizer.step()
        return {
            "influence": float((c * mask).sum() / mask.sum().clamp_min(1.0)),
            "moa_accuracy": moa_accuracy,
        }

    # --- persistence ---------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write networks, optimisers, the action generator, counters and history atomically."""
        state = {
            "policy": self.policy.state_dict(),
            "value": self.value.state_dict(),
            "moa": self.moa.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "moa_optimizer": self.moa_optimizer.state_dict(),
            "generator": self.generator.get_state(),
        }
        extra = {
            "num_timesteps": self.num_timesteps,
            "num_episodes": self.num_episodes,
            "history": self.history,
            "env_kwargs": self.env_kwargs,
        }
        return save_checkpoint(path, state, self.config, extra=extra)

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: Any = "cpu") -> SocialA2C:
        """An agent restored from `save` (its game rebuilt from the saved config)."""
        saved = load_checkpoint(path, SocialConfig)
        agent = cls(saved.config, device=device, env_kwargs=saved.extra.get("env_kwargs"))
        agent._apply(saved.state, saved.extra, path)
        return agent

    def _apply(self, state: dict[str, Any], extra: dict[str, Any], source: object) -> None:
        for name in ("policy", "value", "moa"):
            load_state_into(getattr(self, name), state[name], source=source)
        self.optimizer.load_state_dict(state["optimizer"])
        self.moa_optimizer.load_state_dict(state["moa_optimizer"])
        self.generator.set_state(state["generator"].to(torch.uint8).cpu())
        self.num_timesteps = int(extra["num_timesteps"])
        self.num_episodes = int(extra["num_episodes"])
        self.history = list(extra["history"])
