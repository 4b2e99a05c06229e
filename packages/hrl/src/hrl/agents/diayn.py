"""DIAYN: "Diversity is All You Need" (Eysenbach, Gupta, Ibarz and Levine, ICLR 2019), on SAC.

No environment reward. At every reset a skill z is drawn from the uniform prior p(z) = 1 / K and
held for the episode; the policy is SAC's (`hrl.agents.sac.SACLearner`) on [s, one_hot(z)] with a
fixed entropy coefficient (the paper's 0.1), and its reward is the pseudo-reward

    r(s', z) = log q(z | s') - log p(z)

of a discriminator q (an MLP on the state dimensions ``discriminator_indices``; (0, 1) is the paper's
"x-y prior"), computed when a minibatch is sampled, with the current q; then q takes one
cross-entropy step on the same minibatch's (s', z). Skills that visit distinguishable states earn more.

The agent is an `hrl.agents.base.OffPolicyAgent` (loop, checkpoints, resume, save/load).
``predict(obs, state=z)`` acts as skill z (``state`` carries the skill; None: skill 0) and returns
``(action, z)``; `discriminate` gives q's log-probabilities.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from core.checkpoint import load_state_into
from core.errors import InputError
from hrl.agents.base import OffPolicyAgent
from hrl.agents.common import substream
from hrl.agents.sac import SACLearner
from hrl.buffers import ReplayBuffer
from hrl.config import DIAYNConfig
from hrl.networks import mlp

__all__ = ["DIAYN", "DIAYNConfig"]


class DIAYN(OffPolicyAgent):
    """DIAYN on a gymnasium env with a 1-D Box observation and a bounded 1-D Box action.

    Attributes:
        learner: the skill-conditioned `SACLearner`; discriminator: q(z | s) (logits over skills);
        buffer: transitions with their skill; see `OffPolicyAgent` for the counters.

    Raises:
        InputError: spaces that are not flat Boxes, or discriminator indices outside the observation.
    """

    config_type = DIAYNConfig
    name = "diayn"

    def _check_config(self, config: DIAYNConfig, obs_dim: int) -> None:
        outside = [i for i in config.discriminator_indices if i >= obs_dim]
        if outside:
            raise InputError(
                "DIAYNConfig.discriminator_indices name a dimension outside the observation",
                item=f"index {outside[0]}",
                expected=f"indices < {obs_dim}",
            )

    def _setup(
        self, env: Any, obs_dim: int, low: np.ndarray, high: np.ndarray, config: DIAYNConfig, device: Any
    ) -> None:
        self.device = torch.device(device)
        self.skills = config.skills
        self.indices = list(config.discriminator_indices) or list(range(obs_dim))
        self.learner = SACLearner(
            obs_dim + self.skills, low, high, config.sac(), device=self.device, seed=config.seed
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed + 7)
            self.discriminator = mlp(len(self.indices), config.discriminator_hidden, self.skills).to(
                self.device
            )
        self.discriminator_optimizer = torch.optim.Adam(
            self.discriminator.parameters(), lr=config.discriminator_lr
        )
        self.rng = substream(config.seed, 1)
        fields = {
            "obs": (obs_dim,),
            "skill": (),
            "action": (low.size,),
            "next_obs": (obs_dim,),
            "terminated": (),
        }
        self.buffer = ReplayBuffer(config.buffer_size, fields, rng=substream(config.seed, 2))
        self._init_counters(env, obs_dim, low, high, config)

    def _clear_episode(self) -> None:
        super()._clear_episode()
        self._skill: int | None = None

    # ---------------------------------------------------------------- skills
    def _conditioned(self, obs: torch.Tensor, skill: torch.Tensor) -> torch.Tensor:
        return torch.cat([obs, F.one_hot(skill.long(), self.skills).to(obs.dtype)], dim=-1)

    def discriminate(self, obs: torch.Tensor) -> torch.Tensor:
        """log q(z | s) for every skill: (B, obs_dim) -> (B, skills)."""
        return torch.log_softmax(self.discriminator(obs[:, self.indices]), dim=-1)

    def pseudo_reward(self, next_obs: torch.Tensor, skill: torch.Tensor) -> torch.Tensor:
        """log q(z | s') - log p(z) with p uniform: (B,)."""
        with torch.no_grad():
            log_q = self.discriminate(next_obs).gather(1, skill.long()[:, None]).squeeze(1)
        return log_q + math.log(self.skills)

    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, int]:
        """Skill ``state`` (default 0)'s action for one observation (obs_dim,): ``(action, skill)``."""
        obs = np.asarray(observation, dtype=np.float32)
        if obs.shape != (self.obs_dim,):
            raise InputError("observation has the wrong shape", item=obs.shape, expected=f"({self.obs_dim},)")
        skill = 0 if state is None else int(state)
        if not 0 <= skill < self.skills:
            raise InputError("DIAYN skill out of range", item=skill, expected=f"0 .. {self.skills - 1}")
        inputs = self._conditioned(torch.as_tensor(obs[None], device=self.device), torch.tensor([skill]))
        return self.learner.act(inputs, deterministic)[0].cpu().numpy(), skill

    # -------------------------------------------------------------- learning
    def _env_step(self, obs: np.ndarray) -> tuple[np.ndarray, float, bool, bool]:
        config = self.config
        if self._skill is None:  # a new episode: a skill from the uniform prior
            self._skill = int(self.rng.integers(self.skills))
        if self.num_timesteps < config.learning_starts:
            action = self.rng.uniform(self.action_low, self.action_high).astype(np.float32)
        else:
            action = self.predict(obs, state=self._skill, deterministic=False)[0]
        next_obs, reward, terminated, truncated, _ = self.env.step(action)
        next_obs = np.asarray(next_obs, dtype=np.float32)
        self.buffer.add(
            obs=obs, skill=self._skill, action=action, next_obs=next_obs, terminated=float(terminated)
        )
        if self.num_timesteps >= config.learning_starts:
            self._train_step()
        return next_obs, float(reward), bool(terminated), bool(truncated)

    def _train_step(self) -> None:
        batch = {
            k: torch.as_tensor(v, device=self.device)
            for k, v in self.buffer.sample(self.config.batch_size).items()
        }
        skill = batch["skill"]
        self.learner.update(
            {
                "obs": self._conditioned(batch["obs"], skill),
                "action": batch["action"],
                "reward": self.pseudo_reward(batch["next_obs"], skill),
                "next_obs": self._conditioned(batch["next_obs"], skill),
                "terminated": batch["terminated"],
            }
        )
        loss = F.cross_entropy(self.discriminator(batch["next_obs"][:, self.indices]), skill.long())
        self.discriminator_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.discriminator_optimizer.step()

    # ------------------------------------------------------------ persistence
    def _state(self, include_buffer: bool) -> dict[str, Any]:
        return {
            **super()._state(include_buffer),
            "discriminator": self.discriminator.state_dict(),
            "discriminator_optimizer": self.discriminator_optimizer.state_dict(),
        }

    def _load_state(self, state: dict[str, Any], source: object) -> None:
        super()._load_state(state, source)
        load_state_into(self.discriminator, state["discriminator"], source=source)
        self.discriminator_optimizer.load_state_dict(state["discriminator_optimizer"])
