"""Configs of the SQOOP study (Bahdanau et al. 2019), free of torch."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import InputError
from core.validate import require_ints

__all__ = ["SQOOP_MODELS", "SqoopConfig"]

SQOOP_MODELS = ("tree", "chain", "film", "mac", "attention", "layout")
"""tree: NMN with the layout Relate[R](Find[X](stem), Find[Y](stem)); chain: NMN Find[Y](Find[R](Find[X](stem)));
film: a generic FiLM network conditioned on the whole question (no layout); mac: a MAC-style recurrent
attention network (Hudson & Manning 2018); attention: the tree layout whose modules choose their word by a
learned soft attention over the 3 question words (Attention N2NMN); layout: a learned mixture p(tree) tree +
(1 - p(tree)) chain of the two NMNs' answer distributions (layout induction)."""


@dataclass(frozen=True)
class SqoopConfig:
    """One SQOOP model and its scenes.

    Attributes:
        model: one of `SQOOP_MODELS`.
        width: channels of the stem output and of every module.
        embedding: size of the word embeddings that condition the modules (FiLM: per token).
        grid: the scene is ``grid x grid`` cells (5 objects in distinct cells).
        cell: pixels per cell side (the canvas is ``grid * cell`` pixels square).
        objects: objects per scene (X, Y and distractors).
        vocabulary: the first that many of the 36 objects are used (36: the paper's SQOOP).
        steps: reasoning steps of the MAC model (the others ignore it).
        tree_logit: initial logit of p(tree) of the layout model (0: the 50/50 mixture; the others ignore it).
    """

    model: str = "tree"
    width: int = 32
    embedding: int = 32
    grid: int = 4
    cell: int = 8
    objects: int = 5
    vocabulary: int = 36
    steps: int = 4
    tree_logit: float = 0.0

    def __post_init__(self) -> None:
        if self.model not in SQOOP_MODELS:
            raise InputError("SqoopConfig.model is unknown", item=self.model, expected=str(SQOOP_MODELS))
        require_ints(self, "width", "embedding", "grid", "cell", "objects", "vocabulary", "steps")
        if (
            isinstance(self.tree_logit, bool)
            or not isinstance(self.tree_logit, int | float)
            or not math.isfinite(self.tree_logit)
        ):
            raise InputError("SqoopConfig.tree_logit must be a finite number", item=self.tree_logit)
        if not 2 <= self.vocabulary <= 36:
            raise InputError("SqoopConfig.vocabulary must be in 2..36", item=self.vocabulary)
        if self.cell < 6:
            raise InputError("SqoopConfig.cell must be >= 6 pixels (a glyph per cell)", item=self.cell)
        if not 2 <= self.objects <= min(self.grid * self.grid, self.vocabulary):
            raise InputError(
                "SqoopConfig.objects must fit the grid",
                item=f"objects={self.objects}, grid={self.grid}",
                expected=f"2..{self.grid * self.grid}",
            )
