"""Torch-free configs of the meta-learning methods (the CLI reads their defaults)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.errors import InputError
from core.resume import extendable
from core.validate import require_ints, require_positive, require_seed

__all__ = ["CactusConfig", "MetaConfig"]


@dataclass(frozen=True)
class MetaConfig:
    """One meta-learner and its episodic training (defaults: the CACTUs paper's MNIST settings, scaled down).

    Attributes:
        method: "protonets" or "maml".
        ways, shots, queries: N-way K-shot tasks with `queries` query images per class.
        hidden: widths of the MLP (ProtoNets' embedding network, MAML's classifier body).
        steps: meta-training iterations (outer steps).
        meta_batch: tasks per outer step.
        learning_rate: Adam's outer learning rate.
        inner_steps, inner_lr: MAML's inner gradient steps on the support set and their SGD step size
            (at evaluation too).
        first_order: MAML without second derivatives (FOMAML).
        seed: weights and task sampling.
    """

    method: Literal["protonets", "maml"] = "protonets"
    ways: int = 5
    shots: int = 1
    queries: int = 5
    hidden: tuple[int, ...] = (128, 64)
    steps: int = extendable(2000)
    meta_batch: int = 8
    learning_rate: float = 1e-3
    inner_steps: int = 5
    inner_lr: float = 0.4
    first_order: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in ("protonets", "maml"):
            raise InputError("unknown meta-learner", item=self.method, expected="protonets or maml")
        require_ints(self, "ways", minimum=2)
        require_ints(self, "shots", "queries", "meta_batch")
        require_ints(self, "steps", "inner_steps", minimum=0)
        require_positive(self, "learning_rate", "inner_lr")
        require_seed(self)


@dataclass(frozen=True)
class CactusConfig:
    """CACTUs' task construction: `partitions` k-means runs with `clusters` clusters each.

    Paper (Hsu et al. 2019): P = 100 partitions for MAML (1 for ProtoNets), k = 10 clusters on MNIST,
    500 on Omniglot and miniImageNet; each k-means run on a randomly rescaled embedding.
    """

    partitions: int = 100
    clusters: int = 10
    rescale: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        require_ints(self, "partitions")
        require_ints(self, "clusters", minimum=2)
        require_seed(self)
