"""Configs of the SQOOP study (Bahdanau et al. 2019), free of torch."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InputError
from core.validate import require_ints

__all__ = ["SQOOP_MODELS", "SqoopConfig"]

SQOOP_MODELS = ("tree", "chain", "film")
"""tree: NMN with the layout Relate[R](Find[X](stem), Find[Y](stem)); chain: NMN Find[Y](Find[R](Find[X](stem)));
film: a generic FiLM network conditioned on the whole question (no layout)."""


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
    """

    model: str = "tree"
    width: int = 32
    embedding: int = 32
    grid: int = 4
    cell: int = 8
    objects: int = 5
    vocabulary: int = 36

    def __post_init__(self) -> None:
        if self.model not in SQOOP_MODELS:
            raise InputError("SqoopConfig.model is unknown", item=self.model, expected=str(SQOOP_MODELS))
        require_ints(self, "width", "embedding", "grid", "cell", "objects", "vocabulary")
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
