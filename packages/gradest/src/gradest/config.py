"""The configs of the training run and of the toy problem, kept free of torch.

The CLI reads its defaults from these dataclasses (`core.cli.add_config_arguments`), so ``gradest --help``
needs them without importing torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import InputError
from core.resume import extendable
from core.validate import require_ints, require_positive, require_seed

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
        require_ints(self, "num_samples", "steps", "batch_size", "eval_every", "checkpoint_every")
        require_seed(self)
        require_positive(self, "learning_rate")
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
        require_ints(self, "num_categories", minimum=2)
        require_ints(self, "steps", "replicates")
        if not math.isfinite(self.initial_logit):
            raise InputError("ToyConfig.initial_logit must be finite", item=self.initial_logit)
        require_positive(self, "learning_rate")
