"""The agents' configs, kept free of torch so ``hrl --help`` can read their defaults.

Each config is a frozen dataclass whose defaults are the paper's hyper-parameters and whose
``__post_init__`` refuses bad values with a one-line `core.InputError` naming the field. The run
length (``total_timesteps``) is declared `core.extendable`: a checkpointed run may be resumed with a
larger value (the workspace's one resume rule), and nothing else may change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import InputError
from core.resume import extendable

__all__ = ["TD3Config"]


def _positive_int(owner: str, name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InputError(f"{owner}.{name} must be a positive integer", item=value)


def _non_negative_int(owner: str, name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InputError(f"{owner}.{name} must be a non-negative integer", item=value)


def _number_in(owner: str, name: str, value: object, low: float, high: float, *, open_low: bool) -> None:
    """`value` must be a finite number in (low, high] (open_low) or [low, high]."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if open_low else value >= low) and value <= high
    if not ok:
        bracket = "(" if open_low else "["
        raise InputError(f"{owner}.{name} must be a number in {bracket}{low}, {high}]", item=value)


@dataclass(frozen=True)
class TD3Config:
    """Twin Delayed DDPG (Fujimoto, van Hoof and Meger, ICML 2018), HIRO's base learner.

    Defaults are the TD3 paper's, except the hidden sizes: 300-300 for actor and critics as in
    HIRO's reference code (the TD3 paper used 400-300).

    Attributes:
        hidden: hidden layer widths of the actor and of each critic (ReLU).
        actor_lr: Adam step size of the actor.
        critic_lr: Adam step size of the twin critics.
        gamma: discount factor per environment step, in [0, 1].
        tau: Polyak rate of the target networks, in (0, 1].
        batch_size: transitions per gradient step.
        buffer_size: replay capacity in transitions (oldest overwritten first).
        learning_starts: steps of uniform random actions before learning begins.
        exploration_noise: sd of the Gaussian action noise, as a fraction of the action half-range.
        policy_noise: sd of the target-policy smoothing noise, as a fraction of the half-range.
        noise_clip: clip of the smoothing noise, as a fraction of the half-range.
        policy_delay: critic updates per actor (and target) update.
        total_timesteps: environment steps of the whole run (extendable on resume).
        seed: seeds the initialisation, every random action and noise draw, every episode reset.
    """

    hidden: tuple[int, ...] = (300, 300)
    actor_lr: float = 1e-3
    critic_lr: float = 1e-3
    gamma: float = 0.99
    tau: float = 0.005
    batch_size: int = 100
    buffer_size: int = 1_000_000
    learning_starts: int = 10_000
    exploration_noise: float = 0.1
    policy_noise: float = 0.2
    noise_clip: float = 0.5
    policy_delay: int = 2
    total_timesteps: int = extendable(1_000_000)
    seed: int = 0

    def __post_init__(self) -> None:
        owner = "TD3Config"
        if not isinstance(self.hidden, tuple) or not self.hidden:
            raise InputError(f"{owner}.hidden must be a non-empty tuple of widths", item=self.hidden)
        for width in self.hidden:
            _positive_int(owner, "hidden", width)
        for name in ("batch_size", "buffer_size", "policy_delay", "total_timesteps"):
            _positive_int(owner, name, getattr(self, name))
        _non_negative_int(owner, "learning_starts", self.learning_starts)
        for name in ("actor_lr", "critic_lr"):
            _number_in(owner, name, getattr(self, name), 0.0, math.inf, open_low=True)
        _number_in(owner, "gamma", self.gamma, 0.0, 1.0, open_low=False)
        _number_in(owner, "tau", self.tau, 0.0, 1.0, open_low=True)
        for name in ("exploration_noise", "policy_noise", "noise_clip"):
            _number_in(owner, name, getattr(self, name), 0.0, math.inf, open_low=False)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**32:
            raise InputError(f"{owner}.seed must be an integer in [0, 2**32)", item=self.seed)
