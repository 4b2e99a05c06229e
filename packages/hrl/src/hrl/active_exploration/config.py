"""MAX on continuous tasks: its config, kept free of torch (``hrl --help`` reads the defaults)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import InputError
from core.resume import extendable

__all__ = ["CONTINUOUS_METHODS", "ContinuousMAXConfig"]

CONTINUOUS_METHODS = ("max", "reactive", "random")
"""``max``: SAC trained inside the ensemble on the Jensen-Renyi novelty, then acting; ``reactive``:
model-free SAC on the real transitions with the same novelty as its reward (the paper's JDRX
baseline); ``random``: uniform actions."""


def _positive_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InputError(f"ContinuousMAXConfig.{name} must be a positive integer", item=value)


def _positive(name: str, value: object) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    if not ok:
        raise InputError(f"ContinuousMAXConfig.{name} must be a positive number", item=value)


@dataclass(frozen=True)
class ContinuousMAXConfig:
    """MAX (Shyam, Jaskowski and Gomez, ICML 2019) with Gaussian forward models and SAC.

    The defaults are the sizes we read in the paper's appendix for its continuous tasks (32 models of
    4 x 512, the models refitted and a fresh exploration policy trained every 25 real steps, 256 random
    steps first, SAC with a fixed entropy coefficient 0.02); they are not checked against the paper's
    code. The studies here pass smaller values (see `hrl.experiments.max_continuous`).

    Attributes:
        method: one of `CONTINUOUS_METHODS`.
        ensemble_size, model_hidden, model_lr, model_batch_size: the ensemble of Gaussian forward
            models (`hrl.active_exploration.models.GaussianEnsemble`) and its Adam steps.
        model_steps: minibatch steps of every refit (each member on its own bootstrap weights).
        refit_every: real steps between refits (and, for ``max``, between exploration policies).
        warm_up_steps: uniform random steps before any model or policy is used.
        policy_hidden, policy_lr, alpha, gamma, tau, policy_batch_size: the SAC exploration policy
            (one lr for actor and critics; ``alpha`` fixed).
        imagined_rollouts, imagined_horizon, policy_iterations, policy_updates: ``max``'s planning:
            ``policy_iterations`` times, ``imagined_rollouts`` parallel rollouts of
            ``imagined_horizon`` steps from real states in the ensemble (a random member each step),
            then ``policy_updates`` SAC steps on the imagined transitions.
        policy_reset: ``max`` starts every exploration policy afresh (the paper) or goes on
            training the last one (cheaper).
        total_timesteps: real steps of the run (extendable on resume).
        seed: seeds everything.
    """

    method: str = "max"
    ensemble_size: int = 32
    model_hidden: tuple[int, ...] = (512, 512, 512, 512)
    model_lr: float = 1e-3
    model_batch_size: int = 256
    model_steps: int = 200
    refit_every: int = 25
    warm_up_steps: int = 256
    policy_hidden: tuple[int, ...] = (256, 256)
    policy_lr: float = 1e-3
    alpha: float = 0.02
    gamma: float = 0.99
    tau: float = 0.005
    policy_batch_size: int = 256
    imagined_rollouts: int = 128
    imagined_horizon: int = 50
    policy_iterations: int = 50
    policy_updates: int = 50
    policy_reset: bool = True
    total_timesteps: int = extendable(20_000)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in CONTINUOUS_METHODS:
            raise InputError(
                "ContinuousMAXConfig.method is unknown",
                item=self.method,
                expected=f"one of {CONTINUOUS_METHODS}",
            )
        if (
            not isinstance(self.ensemble_size, int)
            or isinstance(self.ensemble_size, bool)
            or self.ensemble_size < 2
        ):
            raise InputError(
                "ContinuousMAXConfig.ensemble_size must be an integer >= 2", item=self.ensemble_size
            )
        for name in ("model_hidden", "policy_hidden"):
            widths = getattr(self, name)
            if not isinstance(widths, tuple) or not widths:
                raise InputError(
                    f"ContinuousMAXConfig.{name} must be a non-empty tuple of widths", item=widths
                )
            for width in widths:
                _positive_int(name, width)
        for name in (
            "model_batch_size",
            "model_steps",
            "refit_every",
            "policy_batch_size",
            "imagined_rollouts",
            "imagined_horizon",
            "policy_iterations",
            "policy_updates",
            "total_timesteps",
        ):
            _positive_int(name, getattr(self, name))
        if (
            not isinstance(self.warm_up_steps, int)
            or isinstance(self.warm_up_steps, bool)
            or self.warm_up_steps < 2
        ):
            raise InputError(
                "ContinuousMAXConfig.warm_up_steps must be an integer >= 2", item=self.warm_up_steps
            )
        for name in ("model_lr", "policy_lr", "alpha", "tau"):
            _positive(name, getattr(self, name))
        if not (isinstance(self.gamma, int | float) and 0 <= self.gamma <= 1):
            raise InputError("ContinuousMAXConfig.gamma must be a number in [0, 1]", item=self.gamma)
        if self.tau > 1:
            raise InputError("ContinuousMAXConfig.tau must be in (0, 1]", item=self.tau)
        if not isinstance(self.policy_reset, bool):
            raise InputError("ContinuousMAXConfig.policy_reset must be True or False", item=self.policy_reset)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**32:
            raise InputError("ContinuousMAXConfig.seed must be an integer in [0, 2**32)", item=self.seed)

    def sac(self) -> object:
        """The exploration policy's `hrl.config.SACConfig`."""
        from hrl.config import SACConfig

        return SACConfig(
            hidden=self.policy_hidden,
            actor_lr=self.policy_lr,
            critic_lr=self.policy_lr,
            gamma=self.gamma,
            tau=self.tau,
            batch_size=self.policy_batch_size,
            alpha=self.alpha,
            learning_starts=0,
            seed=self.seed,
        )
