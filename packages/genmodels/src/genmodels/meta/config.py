"""Torch-free configs of the meta-learning methods (the CLI reads their defaults)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.errors import InputError
from core.resume import extendable
from core.validate import require_ints, require_positive, require_seed

__all__ = ["CactusConfig", "MetaConfig", "UpdateRuleConfig"]


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


@dataclass(frozen=True)
class UpdateRuleConfig:
    """Metz et al. (2019)'s meta-learned unsupervised update rule, scaled down (`genmodels.meta.update_rule`).

    Attributes:
        hidden: width of the rule's per-neuron MLPs (shared by every neuron of every layer).
        channels: number of pre x post products summed into a weight update.
        inner_steps: unsupervised updates per unroll (the horizon the rule is meta-trained for).
        truncation: unsupervised steps between two meta-gradient truncations (a meta-loss at each).
        inner_batch: unlabelled images per unsupervised update.
        widths, depths: the base MLPs meta-training draws from (one per unroll).
        meta_steps: meta-training iterations (one unroll each).
        learning_rate: Adam's meta learning rate; grad_clip: norm clip of the meta-gradient.
        ways, shots, queries: the few-shot readout tasks of the meta-objective.
        ridge: the linear readout's ridge penalty.
        snapshot_every: keep a copy of the rule every this many meta-steps (accuracy vs meta-steps).
        checkpoint_every: meta-steps between checkpoints.
        seed: the rule's init, the base nets, batches and tasks.
    """

    hidden: int = 16
    channels: int = 4
    inner_steps: int = 10
    truncation: int = 5
    inner_batch: int = 64
    widths: tuple[int, ...] = (32, 64)
    depths: tuple[int, ...] = (1, 2)
    meta_steps: int = extendable(300)
    learning_rate: float = 3e-3
    grad_clip: float = 1.0
    ways: int = 5
    shots: int = 5
    queries: int = 10
    ridge: float = 0.1
    snapshot_every: int = 50
    checkpoint_every: int = 25
    seed: int = 0

    def __post_init__(self) -> None:
        require_ints(self, "hidden", "channels", "inner_steps", "truncation", "inner_batch", "snapshot_every")
        require_ints(self, "checkpoint_every", "shots", "queries")
        require_ints(self, "ways", minimum=2)
        require_ints(self, "meta_steps", minimum=0)
        require_positive(self, "learning_rate", "grad_clip", "ridge")
        require_seed(self)
        if self.truncation > self.inner_steps:
            raise InputError(
                "UpdateRuleConfig.truncation must not exceed inner_steps",
                item=f"truncation {self.truncation}, inner_steps {self.inner_steps}",
            )
        for name in ("widths", "depths"):
            values = getattr(self, name)
            if not values or any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in values):
                raise InputError(
                    f"UpdateRuleConfig.{name} must be a non-empty tuple of integers >= 1", item=values
                )
