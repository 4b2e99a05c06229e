"""Configs of the scene generator and of the two models, free of torch (defaults follow the paper,
scaled down where the synthetic scenes are far smaller than COCO: sizes are stated per field)."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InputError
from core.validate import require_ints, require_positive, require_seed

__all__ = ["CaptionerConfig", "SceneConfig", "VQAConfig"]


@dataclass(frozen=True)
class SceneConfig:
    """Synthetic scenes: `min_objects`..`max_objects` shapes on a `size` x `size` RGB canvas.

    Attributes:
        size: canvas side in pixels.
        min_objects, max_objects: objects per scene (non-overlapping boxes).
        seed: seeds every draw.
    """

    size: int = 48
    min_objects: int = 2
    max_objects: int = 4
    seed: int = 0

    def __post_init__(self) -> None:
        require_ints(self, "size", "min_objects", "max_objects")
        require_seed(self)
        if self.size < 32 or self.max_objects < self.min_objects or self.max_objects > 6:
            raise InputError(
                "SceneConfig needs size >= 32 and 1 <= min_objects <= max_objects <= 6",
                item=(self.size, self.min_objects, self.max_objects),
            )


@dataclass(frozen=True)
class CaptionerConfig:
    """The two-LSTM captioner (Anderson et al. sec. 3.2). The paper uses 1,000-d LSTMs, 512-d attention and
    word embeddings of 1,000 over 2,048-d features; the scenes here need far less.

    Attributes:
        feature_size: size of each region feature.
        vocab_size: words including <pad>=0, <bos>, <eos>, <unk>.
        embed_size, hidden_size, attention_size: word embedding, both LSTMs, attention MLP.
        max_length: longest caption generated (words, without <bos>/<eos>).
        dropout: on the language LSTM output.
    """

    feature_size: int = 69
    vocab_size: int = 32
    embed_size: int = 64
    hidden_size: int = 128
    attention_size: int = 64
    max_length: int = 12
    dropout: float = 0.0

    def __post_init__(self) -> None:
        require_ints(
            self, "feature_size", "vocab_size", "embed_size", "hidden_size", "attention_size", "max_length"
        )
        if not 0 <= self.dropout < 1:
            raise InputError("CaptionerConfig.dropout must be in [0, 1)", item=self.dropout)


@dataclass(frozen=True)
class VQAConfig:
    """The VQA model (Anderson et al. sec. 3.3; Teney et al. 2018): GRU question encoder over 14 tokens,
    top-down attention, gated-tanh layers, Hadamard fusion, soft-score classifier. The paper: 300-d GloVe
    words, 512-d GRU and hidden layers over 2,048-d features.

    Attributes:
        feature_size, vocab_size, answers: input and output sizes.
        embed_size, hidden_size: word embedding and GRU / joint size.
        question_length: tokens read (the paper truncates at 14).
    """

    feature_size: int = 69
    vocab_size: int = 32
    answers: int = 16
    embed_size: int = 64
    hidden_size: int = 128
    question_length: int = 14

    def __post_init__(self) -> None:
        require_ints(
            self, "feature_size", "vocab_size", "answers", "embed_size", "hidden_size", "question_length"
        )
        require_positive(self, "hidden_size")
