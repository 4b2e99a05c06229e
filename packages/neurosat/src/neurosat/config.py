"""The config dataclasses of the model and of training (no torch import: the CLI reads their defaults).

`NeuroSATConfig` is the architecture, `TrainConfig` the optimisation, `TrainingRun` both together:
the config a training checkpoint records and resumes under (`core.resume`: only ``train.epochs``
may differ when a run resumes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import InputError
from core.resume import extendable

__all__ = ["NeuroSATConfig", "TrainConfig", "TrainingRun"]


@dataclass(frozen=True)
class NeuroSATConfig:
    """Architecture (paper defaults).

    Attributes:
        d: embedding size of literals and clauses (128).
        rounds: message-passing rounds used in training (26); any number works at inference.
        mlp_layers: hidden ReLU layers of the message and vote MLPs (3).
        layer_norm: layer-normalised LSTM cells (the authors' code) instead of plain ones.
    """

    d: int = 128
    rounds: int = 26
    mlp_layers: int = 3
    layer_norm: bool = True

    def __post_init__(self) -> None:
        for name in ("d", "rounds", "mlp_layers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"NeuroSATConfig.{name} must be a positive integer", item=repr(value))


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (paper / authors' code defaults).

    Attributes:
        epochs: passes over the training problems; extendable: a finished run resumed with more
            epochs continues where it stopped.
        learning_rate: Adam step size (2e-5).
        l2_weight: weight of the L2 penalty on all parameters (1e-10).
        clip_norm: global gradient-norm clip (0.65).
        max_nodes: literals + clauses per (global) batch (12,000).
        rounds: message-passing rounds in training; None uses the model config's (26).
        seed: shuffling seed.
        pair_batches: keep each SAT/UNSAT twin pair (problems ``2i``, ``2i+1``, as `generate_sr`
            returns them) in the same batch. The common part of the two graphs then cancels in the
            gradient and only the one-literal difference drives learning; with shuffled single
            problems the same small model stays at chance far longer (measured: see README).
    """

    epochs: int = extendable(10, metadata={"help": "passes over the training problems"})
    learning_rate: float = field(default=2e-5, metadata={"help": "Adam step size"})
    l2_weight: float = field(default=1e-10, metadata={"help": "L2 penalty weight"})
    clip_norm: float = field(default=0.65, metadata={"help": "gradient-norm clip"})
    max_nodes: int = field(default=12_000, metadata={"help": "literals + clauses per batch"})
    rounds: int | None = None
    seed: int = field(default=0, metadata={"help": "shuffling seed"})
    pair_batches: bool = field(default=True, metadata={"help": "keep SAT/UNSAT twin pairs in one batch"})

    def __post_init__(self) -> None:
        for name in ("epochs", "max_nodes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"TrainConfig.{name} must be a positive integer", item=repr(value))
        if self.rounds is not None and self.rounds < 1:
            raise InputError("TrainConfig.rounds must be >= 1 (or None for the model's)", item=self.rounds)
        if not self.learning_rate > 0 or not self.clip_norm > 0 or self.l2_weight < 0:
            raise InputError(
                "TrainConfig needs learning_rate > 0, clip_norm > 0, l2_weight >= 0",
                item=f"{self.learning_rate}, {self.clip_norm}, {self.l2_weight}",
            )
        if self.seed < 0:
            raise InputError("TrainConfig.seed must be >= 0", item=self.seed)


@dataclass(frozen=True)
class TrainingRun:
    """The config a training checkpoint records: the architecture and the optimisation settings."""

    model: NeuroSATConfig = NeuroSATConfig()
    train: TrainConfig = TrainConfig()
