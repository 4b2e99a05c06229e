"""Configurations of the model and of its training: frozen dataclasses whose defaults are the paper's.

Kept apart from the torch modules so that the command line reads its defaults from them
(`core.cli.add_config_arguments`) without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.errors import InputError
from core.resume import extendable

__all__ = ["MAX_STEREOISOMERS", "JTVAEConfig", "TrainConfig"]

MAX_STEREOISOMERS = 32
"""Default cap on the stereoisomers enumerated after the 2D assembly (`molgraph.stereo`)."""


@dataclass(frozen=True)
class JTVAEConfig:
    """Model sizes; defaults are the paper's (hidden 450, latent 56 split 28 + 28, graph depth 3)
    and the authors' release (tree depth 20). ``max_stereoisomers`` caps the isomers scored after
    decoding (0: decode without stereo). ``scorer`` is the graph decoder's candidate scorer:
    ``"cluster"`` (each candidate atom reads its cluster's tree-encoder vector; the default, which
    every saved model before this option used) or ``"messages"`` (the paper's Eq. 12: tree messages
    injected into the candidate's bond messages)."""

    hidden: int = 450
    latent: int = 56
    depth_tree: int = 20
    depth_graph: int = 3
    max_tree_nodes: int = 100
    max_stereoisomers: int = MAX_STEREOISOMERS
    scorer: Literal["cluster", "messages"] = "cluster"

    def __post_init__(self) -> None:
        if self.scorer not in ("cluster", "messages"):
            raise InputError("config field scorer must be 'cluster' or 'messages'", item=self.scorer)
        if self.max_stereoisomers < 0:
            raise InputError("config field max_stereoisomers must be >= 0", item=self.max_stereoisomers)
        for name in ("hidden", "latent", "depth_tree", "depth_graph", "max_tree_nodes"):
            if getattr(self, name) < 1:
                raise InputError(f"config field {name} must be >= 1", item=getattr(self, name))
        if self.latent % 2:
            raise InputError("latent must be even (tree and graph halves)", item=self.latent)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings.

    Attributes:
        epochs: passes over the data (extendable: a finished run resumes with more epochs);
            batch_size: molecules per step.
        lr: Adam learning rate, multiplied by `lr_decay` after every epoch.
        beta_start, beta_max: KL weight at the start and its ceiling.
        beta_warmup: steps at `beta_start` before annealing; beta_step: increase per `beta_every` steps.
        clip_norm: gradient-norm clip; seed: shuffling and reparameterisation noise.
    """

    epochs: int = extendable(20)
    batch_size: int = 32
    lr: float = 1e-3
    lr_decay: float = 0.9
    beta_start: float = 0.0
    beta_max: float = 1.0
    beta_warmup: int = 40000
    beta_step: float = 0.002
    beta_every: int = 1000
    clip_norm: float = 50.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise InputError("epochs and batch_size must be >= 1", item=(self.epochs, self.batch_size))
        if self.lr <= 0:
            raise InputError("lr must be positive", item=self.lr)

    def beta(self, step: int) -> float:
        """KL weight at optimisation step `step` (linear annealing after the warm-up)."""
        if step < self.beta_warmup:
            return self.beta_start
        raised = self.beta_start + self.beta_step * ((step - self.beta_warmup) // self.beta_every + 1)
        return min(self.beta_max, raised)
