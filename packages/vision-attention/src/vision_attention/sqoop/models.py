"""The SQOOP models: tree and chain neural module networks (NMN) and a generic FiLM network.

All share the stem (a ``cell x cell`` convolution with stride ``cell`` and a 1x1 one: a feature vector per grid cell)
and append x, y coordinate maps (CoordConv-style) to every module's input, so that the relations are
computable. A *module* takes two feature maps and a word, ``m(a, b, w) = a + ReLU(FiLM_w(conv(ReLU(conv([a; b; xy])))))``
with the FiLM scale and shift predicted from the word embedding; one module's weights are shared by every
word (the paper's "Find" parametrisation; the word decides what it does). The classifier is a 1x1 convolution,
a global max pool and a linear layer onto {no, yes}.

- `TreeNMN`: ``Relate[R](Find[X](stem, stem), Find[Y](stem, stem))``, the layout of the question.
- `ChainNMN`: ``m(m(m(stem, stem, X), stem, R), stem, Y)``, the same modules in a chain.
- `FiLMNet`: three FiLM residual blocks on the stem, each conditioned on the whole question (the three
  token embeddings concatenated), the generic model of the paper's comparison.
"""

from __future__ import annotations

import torch
from torch import nn

from vision_attention.sqoop.config import SqoopConfig
from vision_attention.sqoop.render import TOKENS

__all__ = ["ChainNMN", "FiLMNet", "Module", "TreeNMN", "make_sqoop_model"]


def _coords(h: torch.Tensor) -> torch.Tensor:
    n, _, rows, cols = h.shape
    y = torch.linspace(-1, 1, rows, device=h.device).view(1, 1, rows, 1).expand(n, 1, rows, cols)
    x = torch.linspace(-1, 1, cols, device=h.device).view(1, 1, 1, cols).expand(n, 1, rows, cols)
    return torch.cat([x, y], 1)


class Stem(nn.Module):
    def __init__(self, config: SqoopConfig) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, config.width, config.cell, stride=config.cell),
            nn.ReLU(),
            nn.Conv2d(config.width, config.width, 1),
            nn.ReLU(),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)


class Module(nn.Module):
    """``m(a, b, w) = a + ReLU(FiLM_w(conv(ReLU(conv([a; b; xy])))))``, FiLM from a word vector ``w``."""

    def __init__(self, width: int, embedding: int, inputs: int = 2) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inputs * width + 2, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)
        self.film = nn.Linear(embedding, 2 * width)

    def forward(self, a: torch.Tensor, b: torch.Tensor | None, word: torch.Tensor) -> torch.Tensor:
        x = torch.cat([a, _coords(a)] if b is None else [a, b, _coords(a)], 1)
        z = self.conv2(torch.relu(self.conv1(x)))
        gamma, beta = self.film(word).chunk(2, dim=1)
        z = (1 + gamma[:, :, None, None]) * z + beta[:, :, None, None]
        return a + torch.relu(z)


class Classifier(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.project = nn.Conv2d(width + 2, width, 1)
        self.out = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 2))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        z = torch.relu(self.project(torch.cat([h, _coords(h)], 1)))
        return self.out(z.amax(dim=(2, 3)))


class _Base(nn.Module):
    def __init__(self, config: SqoopConfig) -> None:
        super().__init__()
        self.config = config
        self.stem = Stem(config)
        self.words = nn.Embedding(TOKENS, config.embedding)
        self.classifier = Classifier(config.width)


class TreeNMN(_Base):
    """``Relate[R](Find[X](s, s), Find[Y](s, s))``: the question's own layout."""

    def __init__(self, config: SqoopConfig) -> None:
        super().__init__(config)
        self.find = Module(config.width, config.embedding)
        self.relate = Module(config.width, config.embedding)

    def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        s = self.stem(images)
        x, r, y = (self.words(tokens[:, k]) for k in range(3))
        return self.classifier(self.relate(self.find(s, s, x), self.find(s, s, y), r))


class ChainNMN(_Base):
    """``m(m(m(s, s, X), s, R), s, Y)``: the same module applied along the question."""

    def __init__(self, config: SqoopConfig) -> None:
        super().__init__(config)
        self.module = Module(config.width, config.embedding)

    def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        s = self.stem(images)
        h = s
        for k in range(3):
            h = self.module(h, s, self.words(tokens[:, k]))
        return self.classifier(h)


class FiLMNet(_Base):
    """Three FiLM residual blocks, each conditioned on the whole question ``[e(X); e(R); e(Y)]``."""

    def __init__(self, config: SqoopConfig) -> None:
        super().__init__(config)
        self.question = nn.Sequential(nn.Linear(3 * config.embedding, config.embedding), nn.ReLU())
        self.blocks = nn.ModuleList(Module(config.width, config.embedding, inputs=1) for _ in range(3))

    def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        h = self.stem(images)
        q = self.question(self.words(tokens).flatten(1))
        for block in self.blocks:
            h = block(h, None, q)
        return self.classifier(h)


def make_sqoop_model(config: SqoopConfig) -> nn.Module:
    """The model `config.model` names."""
    return {"tree": TreeNMN, "chain": ChainNMN, "film": FiLMNet}[config.model](config)
