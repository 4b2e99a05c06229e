"""MB-MPO's hyper-parameters (torch-free, so ``hrl --help`` reads them), validated on construction."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import InputError
from core.resume import extendable

__all__ = ["MBMPOConfig"]


def _positive_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InputError(f"MBMPOConfig.{name} must be a positive integer", item=value)


def _number(name: str, value: object, low: float, high: float, *, open_low: bool) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if open_low else value >= low) and value <= high
    if not ok:
        bracket = "(" if open_low else "["
        raise InputError(f"MBMPOConfig.{name} must be a number in {bracket}{low}, {high}]", item=value)


@dataclass(frozen=True)
class MBMPOConfig:
    """Model-Based Meta-Policy Optimisation (Clavera et al., CoRL 2018), with a PPO outer step.

    Each iteration collects ``episodes_per_iter`` real episodes (episode j with the meta-policy
    adapted to member j mod K), refits the K-member dynamics ensemble on all real transitions (each
    member on its own bootstrap resample), then takes ``meta_steps`` meta-policy steps: per member,
    ``rollouts`` imagined trajectories of ``horizon`` steps from the pre-update policy, one
    policy-gradient inner step of size ``inner_lr``, ``rollouts`` more trajectories from the adapted
    policy, and ``outer_epochs`` PPO-clip epochs on the sum over members of the adapted policies'
    surrogates (differentiated through the inner step). ``inner_lr = 0`` and ``members = 1`` is the
    single-model, model-exploiting baseline (PPO on one learned model); ``inner_lr = 0`` with K > 1
    is ME-PPO (an ensemble without adaptation, as ME-TRPO with PPO).

    Defaults follow the paper where it gives them (5 models of 512-512 ReLU, 64-64 tanh policy,
    discount 0.99, GAE lambda 1 with a linear feature baseline, horizon 200) and are ours elsewhere
    (PPO outer step instead of TRPO, Adam, the inner step size, the iteration sizes).

    Attributes:
        members: K dynamics models (each one of MB-MPO's tasks).
        model_hidden: hidden widths of each dynamics model (ReLU).
        model_epochs, model_lr, model_batch: Adam fitting of the ensemble after each collection.
        policy_hidden: hidden widths of the Gaussian policy's mean (tanh); log std state-independent.
        init_log_std: initial log standard deviation of the policy.
        inner_lr: the inner policy-gradient step size alpha (0: no adaptation).
        outer_lr: Adam step size of the outer (meta) step.
        outer_epochs: PPO epochs per meta step (full batch).
        clip_range: the PPO ratio clip epsilon.
        meta_steps: meta-policy steps per iteration.
        rollouts: imagined trajectories per member, per inner and per outer batch.
        horizon: length of imagined trajectories (steps).
        episodes_per_iter: real episodes collected per iteration.
        gamma, gae_lambda: discount and GAE lambda of the advantages.
        total_timesteps: real environment steps of the run (extendable).
        seed: initial weights, every action, bootstrap and imagined start-state draw, every reset.
    """

    members: int = 5
    model_hidden: tuple[int, ...] = (512, 512)
    model_epochs: int = 50
    model_lr: float = 1e-3
    model_batch: int = 256
    policy_hidden: tuple[int, ...] = (64, 64)
    init_log_std: float = 0.0
    inner_lr: float = 0.01
    outer_lr: float = 1e-3
    outer_epochs: int = 5
    clip_range: float = 0.2
    meta_steps: int = 30
    rollouts: int = 20
    horizon: int = 200
    episodes_per_iter: int = 5
    gamma: float = 0.99
    gae_lambda: float = 1.0
    total_timesteps: int = extendable(100_000)
    seed: int = 0

    def __post_init__(self) -> None:
        for name in (
            "members",
            "model_epochs",
            "model_batch",
            "outer_epochs",
            "meta_steps",
            "rollouts",
            "horizon",
            "episodes_per_iter",
            "total_timesteps",
        ):
            _positive_int(name, getattr(self, name))
        for name in ("model_hidden", "policy_hidden"):
            widths = getattr(self, name)
            if not isinstance(widths, tuple):
                raise InputError(f"MBMPOConfig.{name} must be a tuple of widths", item=widths)
            for width in widths:
                _positive_int(name, width)
        if not self.policy_hidden:
            raise InputError("MBMPOConfig.policy_hidden must be a non-empty tuple of widths", item=())
        _number("init_log_std", self.init_log_std, -10.0, 5.0, open_low=False)
        _number("inner_lr", self.inner_lr, 0.0, math.inf, open_low=False)
        _number("model_lr", self.model_lr, 0.0, math.inf, open_low=True)
        _number("outer_lr", self.outer_lr, 0.0, math.inf, open_low=True)
        _number("clip_range", self.clip_range, 0.0, 1.0, open_low=True)
        _number("gamma", self.gamma, 0.0, 1.0, open_low=False)
        _number("gae_lambda", self.gae_lambda, 0.0, 1.0, open_low=False)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**32:
            raise InputError("MBMPOConfig.seed must be an integer in [0, 2**32)", item=self.seed)
