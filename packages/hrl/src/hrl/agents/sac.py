"""SAC: Soft Actor-Critic (Haarnoja, Zhou, Abbeel and Levine 2018; automatic temperature, the 2018b version).

Like `hrl.agents.td3`, in two parts:

- `SACLearner`: a squashed-Gaussian actor (`hrl.networks.SquashedGaussianActor`), twin critics and their
  Polyak targets (`hrl.networks.TwinQNetwork`), and the temperature alpha (fixed, or tuned towards an
  entropy of -action_dim). One `update` per minibatch: the critics regress on
  r + gamma (1 - terminated) (min_j Q'_j(s', a') - alpha log pi(a' | s')) with a' ~ pi(. | s'); the
  actor minimises alpha log pi(a | s) - min_j Q_j(s, a); then alpha and the targets move.
- `SAC`: the Stable-Baselines3-shaped agent on `hrl.agents.base.OffPolicyAgent` (loop, checkpoints,
  resume, save/load). Uniform random actions for ``learning_starts`` steps, then samples of the policy;
  ``predict(deterministic=True)`` returns the squashed mean.

Randomness: initialisation inside `torch.random.fork_rng`, every policy sample from the learner's
`torch.Generator`, random actions from a NumPy generator, minibatches from the buffer's.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from core.checkpoint import load_state_into
from hrl.agents.base import OffPolicyAgent
from hrl.config import SACConfig
from hrl.networks import SquashedGaussianActor, TwinQNetwork

__all__ = ["SAC", "SACConfig", "SACLearner"]


class SACLearner:
    """Actor, twin critics, target critics, temperature and optimisers; one `update` per minibatch.

    Args:
        obs_dim: input width (observation, plus a skill for DIAYN).
        low, high: (action_dim,) bounds of the action box.
        config: `SACConfig`.
        device, seed: where the networks live; seeds the initialisation and the sampling generator.
    """

    def __init__(
        self,
        obs_dim: int,
        low: np.ndarray,
        high: np.ndarray,
        config: SACConfig,
        *,
        device: torch.device | str = "cpu",
        seed: int = 0,
    ) -> None:
        self.config = config
        self.device = torch.device(device)
        low_t = torch.as_tensor(low, dtype=torch.float32, device=self.device)
        high_t = torch.as_tensor(high, dtype=torch.float32, device=self.device)
        action_dim = int(low_t.numel())
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.actor = SquashedGaussianActor(obs_dim, config.hidden, low_t, high_t).to(self.device)
            self.critic = TwinQNetwork(obs_dim, action_dim, config.hidden).to(self.device)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.tune_alpha = config.alpha <= 0
        self.target_entropy = -float(action_dim)
        start = 0.0 if self.tune_alpha else math.log(config.alpha)
        self.log_alpha = torch.tensor(start, device=self.device, requires_grad=self.tune_alpha)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=config.actor_lr, fused=True)
        self.critic_optimizer = torch.optim.Adam(self.critic.parameters(), lr=config.critic_lr, fused=True)
        self.alpha_optimizer = torch.optim.Adam([self.log_alpha], lr=config.alpha_lr)
        self.generator = torch.Generator(device=self.device).manual_seed(seed + 1)
        self.updates = 0

    @property
    def alpha(self) -> float:
        return float(self.log_alpha.detach().exp())

    @torch.no_grad()
    def act(self, obs: torch.Tensor, deterministic: bool) -> torch.Tensor:
        """(batch, obs_dim) -> (batch, action_dim): the squashed mean, or a sample of the policy."""
        return self.actor(obs) if deterministic else self.actor.sample(obs, self.generator)[0]

    def critic_target_values(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """r + gamma (1 - d) (min_j Q'_j(s', a') - alpha log pi(a' | s')), a' sampled: (B,)."""
        with torch.no_grad():
            next_action, next_log_prob = self.actor.sample(batch["next_obs"], self.generator)
            next_q = self.critic_target(batch["next_obs"], next_action).min(0).values
            soft = next_q - self.log_alpha.exp() * next_log_prob
            return batch["reward"] + self.config.gamma * (1.0 - batch["terminated"]) * soft

    def update(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        """One critic, actor and temperature step and a target update.

        Args:
            batch: ``obs`` (B, obs_dim), ``action`` (B, action_dim), ``reward`` (B,),
                ``next_obs`` (B, obs_dim), ``terminated`` (B,).
        """
        target = self.critic_target_values(batch)
        q = self.critic(batch["obs"], batch["action"])
        critic_loss = F.mse_loss(q[0], target) + F.mse_loss(q[1], target)
        self.critic_optimizer.zero_grad(set_to_none=True)
        critic_loss.backward()
        self.critic_optimizer.step()
        action, log_prob = self.actor.sample(batch["obs"], self.generator)
        alpha = self.log_alpha.exp().detach()
        actor_loss = (alpha * log_prob - self.critic(batch["obs"], action).min(0).values).mean()
        self.actor_optimizer.zero_grad(set_to_none=True)
        actor_loss.backward()
        self.actor_optimizer.step()
        metrics = {"critic_loss": float(critic_loss.detach()), "actor_loss": float(actor_loss.detach())}
        if self.tune_alpha:
            alpha_loss = -(self.log_alpha * (log_prob.detach() + self.target_entropy)).mean()
            self.alpha_optimizer.zero_grad(set_to_none=True)
            alpha_loss.backward()
            self.alpha_optimizer.step()
            metrics["alpha"] = self.alpha
        with torch.no_grad():
            torch._foreach_lerp_(
                list(self.critic_target.parameters()), list(self.critic.parameters()), self.config.tau
            )
        self.updates += 1
        return metrics

    def state_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor.state_dict(),
            "critic": self.critic.state_dict(),
            "critic_target": self.critic_target.state_dict(),
            "log_alpha": self.log_alpha.detach().clone(),
            "actor_optimizer": self.actor_optimizer.state_dict(),
            "critic_optimizer": self.critic_optimizer.state_dict(),
            "alpha_optimizer": self.alpha_optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "updates": self.updates,
        }

    def load_state_dict(self, state: dict[str, Any], *, source: object = "checkpoint") -> None:
        for name in ("actor", "critic", "critic_target"):
            load_state_into(getattr(self, name), state[name], source=source)
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
        for name in ("actor_optimizer", "critic_optimizer", "alpha_optimizer"):
            getattr(self, name).load_state_dict(state[name])
        self.generator.set_state(state["generator"].to(torch.uint8).cpu())
        self.updates = int(state["updates"])


class SAC(OffPolicyAgent):
    """SAC on a gymnasium env with a 1-D Box observation and a bounded 1-D Box action.

    Attributes:
        learner: the `SACLearner`; buffer: its `ReplayBuffer`; see `OffPolicyAgent` for the rest.
    """

    config_type = SACConfig
    name = "sac"

    def _setup(
        self, env: Any, obs_dim: int, low: np.ndarray, high: np.ndarray, config: SACConfig, device: Any
    ) -> None:
        self._setup_learner_and_buffer(SACLearner, env, obs_dim, low, high, config, device)

    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, None]:
        """The policy's action for (obs_dim,) or (n, obs_dim): the squashed mean, or a sample."""
        obs, single = self._observation_batch(observation)
        action = self.learner.act(torch.as_tensor(obs, device=self.device), deterministic).cpu().numpy()
        return (action[0] if single else action), None

    def _env_step(self, obs: np.ndarray) -> tuple[np.ndarray, float, bool, bool]:
        config = self.config
        if self.num_timesteps < config.learning_starts:
            action = self.rng.uniform(self.action_low, self.action_high).astype(np.float32)
        else:
            action = self.predict(obs, deterministic=False)[0]
        next_obs, reward, terminated, truncated, _ = self.env.step(action)
        next_obs = np.asarray(next_obs, dtype=np.float32)
        self.buffer.add(
            obs=obs, action=action, reward=reward, next_obs=next_obs, terminated=float(terminated)
        )
        if self.num_timesteps >= config.learning_starts and (self.num_timesteps + 1) % config.train_freq == 0:
            for _ in range(config.gradient_steps):
                sample = self.buffer.sample(config.batch_size)
                self.learner.update({k: torch.as_tensor(v, device=self.device) for k, v in sample.items()})
        return next_obs, float(reward), bool(terminated), bool(truncated)
