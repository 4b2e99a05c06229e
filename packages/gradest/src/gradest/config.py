"""The configs of the training run and of the toy problem, kept free of torch.

The CLI reads its defaults from these dataclasses (`core.cli.add_config_arguments`), so ``gradest --help``
needs them without importing torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import InputError
from core.resume import extendable

__all__ = ["ToyConfig", "TrainConfig"]


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run.

    Attributes:
        estimator: a name from `gradest.ESTIMATORS`.
        num_samples: draws per row (the evaluation budget; REBAR/RELAX spend 3 evaluations per draw).
        steps: optimiser steps (extendable: a finished run resumes with more steps).
        batch_size: rows per minibatch.
        learning_rate: Adam step size.
        eval_every: steps between exact evaluations.
        checkpoint_every: steps between checkpoints (when a path is given).
        seed: seeds the model initialisation and every draw.
        k: categories summed exactly by the ``rb-`` estimators (an int, or "auto" for the paper's choice).
    """

    estimator: str = "rb-reinforce"
    num_samples: int = 3
    steps: int = extendable(1000)
    batch_size: int = 64
    learning_rate: float = 1e-3
    eval_every: int = 100
    checkpoint_every: int = 500
    seed: int = 0
    k: int | str = "auto"

    def __post_init__(self) -> None:
        for name in ("num_samples", "steps", "batch_size", "eval_every", "checkpoint_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"TrainConfig.{name} must be a positive integer", item=value)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**32:
            raise InputError("TrainConfig.seed must be an integer in [0, 2**32)", item=self.seed)
        if not (isinstance(self.learning_rate, int | float) and 0.0 < self.learning_rate < float("inf")):
            raise InputError("TrainConfig.learning_rate must be a finite number > 0", item=self.learning_rate)
        if self.k != "auto" and (not isinstance(self.k, int) or isinstance(self.k, bool) or self.k < 0):
            raise InputError("TrainConfig.k must be a non-negative integer or 'auto'", item=self.k)


@dataclass(frozen=True)
class ToyConfig:
    """The toy problem and its optimisation.

    Attributes:
        num_categories: K.
        target_low, target_high: the band of the targets p (evenly spaced; p_K is the largest).
        initial_logit: initial logit of category 0 (the worst), all others start at 0.
        learning_rate: SGD step size on the logits.
        steps: optimisation steps.
        replicates: independent runs, optimised together as rows of one batch.
    """

    num_categories: int = 10
    target_low: float = 0.45
    target_high: float = 0.55
    initial_logit: float = 4.0
    learning_rate: float = 1.0
    steps: int = 500
    replicates: int = 8

    def __post_init__(self) -> None:
        if not isinstance(self.num_categories, int) or self.num_categories < 2:
            raise InputError("ToyConfig.num_categories must be an integer >= 2", item=self.num_categories)
        for name in ("steps", "replicates"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"ToyConfig.{name} must be a positive integer", item=value)
        if not math.isfinite(self.initial_logit):
            raise InputError("ToyConfig.initial_logit must be finite", item=self.initial_logit)
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise InputError("ToyConfig.learning_rate must be a finite number > 0", item=self.learning_rate)
