"""Word vocabularies and padded token tensors for captions, questions and answers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import torch

from core.errors import InputError

__all__ = ["BOS", "EOS", "PAD", "UNK", "Vocabulary"]

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")


class Vocabulary:
    """Words in order of first appearance after the four specials (<pad>=0, <bos>=1, <eos>=2, <unk>=3)."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words = list(SPECIALS) + [w for w in words if w not in SPECIALS]
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, texts: Iterable[str], min_count: int = 1) -> Vocabulary:
        counts = Counter(word for text in texts for word in text.split())
        return cls([w for w, c in counts.items() if c >= min_count])

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, text: str, length: int, *, bos: bool = False, eos: bool = False) -> list[int]:
        """Token ids of `text`, truncated to `length` words, wrapped in <bos>/<eos> if asked, padded with 0."""
        ids = [self.index.get(word, UNK) for word in text.split()][:length]
        ids = ([BOS] if bos else []) + ids + ([EOS] if eos else [])
        return ids + [PAD] * (length + int(bos) + int(eos) - len(ids))

    def encode_all(self, texts: Sequence[str], length: int, **options) -> torch.Tensor:
        """``(n, length (+2))`` long."""
        return torch.tensor([self.encode(t, length, **options) for t in texts], dtype=torch.long)

    def decode(self, ids: Iterable[int]) -> str:
        """Words up to the first <eos> (specials dropped)."""
        words = []
        for i in ids:
            i = int(i)
            if i == EOS:
                break
            if i >= len(SPECIALS):
                if i >= len(self.words):
                    raise InputError(
                        "token id outside the vocabulary", item=i, expected=f"< {len(self.words)}"
                    )
                words.append(self.words[i])
        return " ".join(words)
