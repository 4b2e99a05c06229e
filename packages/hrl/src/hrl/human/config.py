"""Torch-free configuration of the human-priors study's agent (read by ``hrl --help``)."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InputError
from core.resume import extendable
from hrl.config import _number_in, _positive_int, _seed

__all__ = ["ACTIONS", "RENDERINGS", "CountQConfig", "check_rendering"]

ACTIONS = ("wait", "left", "right", "up", "down", "jump-left", "jump-right")
"""The priors platformer's actions by index (`hrl.envs.priors`)."""

RENDERINGS = ("original", "masked", "reversed", "similarity", "all")
"""The priors platformer's renderings (`hrl.envs.priors`)."""


def check_rendering(name: object) -> str:
    """`name` if it is one of `RENDERINGS`, else a one-line `InputError` naming it."""
    if not isinstance(name, str) or name not in RENDERINGS:
        raise InputError(
            "unknown priors rendering", item=repr(name), expected=f"one of {', '.join(RENDERINGS)}"
        )
    return name


@dataclass(frozen=True)
class CountQConfig:
    """Tabular Q-learning on hashed pixel observations with a count-based exploration bonus.

    Every distinct observation (its pixels' BLAKE2b digest) is a table row; the update is
    Q(s, a) += lr · (r + bonus / sqrt(n(s, a)) + gamma · max_a' Q(s', a') [not terminal] - Q(s, a)),
    n(s, a) the visits of the pair so far (MBIE-EB's bonus, Strehl and Littman 2008), and new rows start
    at the optimistic value ``bonus / (1 - gamma)``. Actions are greedy, ties broken at random. The agent
    knows nothing of what pixels mean, which is what the study needs: a learner without priors.

    Attributes:
        learning_rate: the step size lr, in (0, 1] (1 is exact in a deterministic game).
        gamma: discount, in [0, 1).
        bonus: the exploration bonus weight (> 0).
        hash_bits: 0 keys the table by the exact pixels; k > 0 by a k-bit SimHash of them, sign(A x)
            with A a fixed (k, pixels) Gaussian matrix drawn from ``seed`` (Tang et al. 2017's count-based
            exploration on Atari frames): similar frames share a row, so what the pixels look like matters.
        stop_when_solved: end `learn` at the end of the first solved episode (steps-to-solve is then
            ``num_timesteps``).
        total_timesteps: the step budget (extendable on resume).
        seed: seeds the tie-breaking and every episode's reset.
    """

    learning_rate: float = 1.0
    gamma: float = 0.99
    bonus: float = 0.1
    hash_bits: int = 0
    stop_when_solved: bool = True
    total_timesteps: int = extendable(1_000_000)
    seed: int = 0

    def __post_init__(self) -> None:
        owner = "CountQConfig"
        _number_in(owner, "learning_rate", self.learning_rate, 0.0, 1.0, open_low=True)
        _number_in(owner, "gamma", self.gamma, 0.0, 1.0, open_low=False)
        if self.gamma == 1.0:
            raise InputError(
                f"{owner}.gamma must be below 1 (the optimistic start is bonus / (1 - gamma))", item=1.0
            )
        _number_in(owner, "bonus", self.bonus, 0.0, float("inf"), open_low=True)
        _positive_int(owner, "total_timesteps", self.total_timesteps)
        if (
            not isinstance(self.hash_bits, int)
            or isinstance(self.hash_bits, bool)
            or not 0 <= self.hash_bits <= 512
        ):
            raise InputError(f"{owner}.hash_bits must be an integer in [0, 512]", item=self.hash_bits)
        if not isinstance(self.stop_when_solved, bool):
            raise InputError(f"{owner}.stop_when_solved must be true or false", item=self.stop_when_solved)
        _seed(owner, self.seed)
