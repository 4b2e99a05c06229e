"""Torch-free configuration of the multi-agent learners (read by ``hrl --help``)."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InputError
from core.resume import extendable

__all__ = ["SocialConfig"]


@dataclass(frozen=True)
class SocialConfig:
    """Independent actor-critic agents on a sequential social dilemma, optionally influence-motivated.

    Each agent has its own policy, value network and model of other agents (MOA; Jaques et al. 2019);
    its training reward is r_k = e_k + ``influence_weight`` · c_k, e_k the environment's reward and c_k
    the social-influence reward computed with its MOA (`hrl.multiagent.influence`). With
    ``influence_weight=0`` it is plain A2C (the paper's baseline; the MOA is still trained so that its
    accuracy can be compared). The paper uses A3C with conv-LSTM agents, 5 agents and a curriculum on
    the influence weight; here MLP agents, a constant weight and the sizes below (chosen here).

    Attributes:
        env: ``"harvest"`` or ``"cleanup"`` (`hrl.envs.ssd`).
        n_agents: agents in the game.
        max_cycles: steps per episode.
        n_steps: steps per A2C update (must divide ``max_cycles``: updates end at episode ends too).
        total_timesteps: environment steps of the run (extendable on resume).
        learning_rate: Adam step size of the policy and value networks.
        moa_learning_rate: Adam step size of the MOA (cross-entropy on the others' next actions).
        gamma: discount; returns are n-step, bootstrapped with V at the rollout's end.
        ent_coef, vf_coef, max_grad_norm: A2C's entropy bonus, value-loss weight, gradient-norm clip.
        influence_weight: beta, the weight of the influence reward (0: no influence).
        hidden: hidden widths of every MLP.
        seed: the one seed of the run.
    """

    env: str = "harvest"
    n_agents: int = 5
    max_cycles: int = 200
    n_steps: int = 50
    total_timesteps: int = extendable(200_000)
    learning_rate: float = 1e-3
    moa_learning_rate: float = 1e-3
    gamma: float = 0.99
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    influence_weight: float = 0.0
    hidden: tuple[int, ...] = (64, 64)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.env not in ("harvest", "cleanup"):
            raise InputError("unknown social dilemma", item=self.env, expected="harvest or cleanup")
        for name in ("n_agents", "max_cycles", "n_steps", "total_timesteps"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be >= 1", item=getattr(self, name))
        if self.n_agents < 2:
            raise InputError("n_agents must be >= 2 (influence needs another agent)", item=self.n_agents)
        if self.max_cycles % self.n_steps:
            raise InputError("n_steps must divide max_cycles", item=(self.n_steps, self.max_cycles))
        for name in ("learning_rate", "moa_learning_rate", "max_grad_norm"):
            if not getattr(self, name) > 0:
                raise InputError(f"{name} must be > 0", item=getattr(self, name))
        if not 0.0 <= self.gamma <= 1.0:
            raise InputError("gamma must be in [0, 1]", item=self.gamma)
        for name in ("ent_coef", "vf_coef", "influence_weight"):
            if getattr(self, name) < 0:
                raise InputError(f"{name} must be >= 0", item=getattr(self, name))
        if not self.hidden or any(int(width) < 1 for width in self.hidden):
            raise InputError("hidden widths must be >= 1", item=self.hidden)
