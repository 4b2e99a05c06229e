"""Prototypical networks (Snell, Swersky & Zemel 2017): class means in an embedding, softmax over
negative squared Euclidean distances."""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import Tensor, nn


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers of `sizes` with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def prototypes(embeddings: Tensor, labels: Tensor, ways: int) -> Tensor:
    """``(ways, d)`` mean embedding of each class ``0..ways-1`` of ``embeddings (n, d)``."""
    one_hot = torch.nn.functional.one_hot(labels, ways).to(embeddings.dtype)
    return one_hot.T @ embeddings / one_hot.sum(0)[:, None]


def proto_logits(queries: Tensor, protos: Tensor) -> Tensor:
    """``(m, ways)`` logits: minus the squared distance of each query ``(m, d)`` to each prototype."""
    return -torch.cdist(queries, protos).pow(2)


class ProtoNet(nn.Module):
    """An MLP embedding of flattened images; `classify` is the nearest-prototype rule."""

    def __init__(self, in_features: int, hidden: tuple[int, ...]):
        super().__init__()
        self.body = mlp([in_features, *hidden]) if hidden else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x.flatten(1))

    def logits(self, xs: Tensor, ys: Tensor, xq: Tensor, ways: int) -> Tensor:
        """``(len(xq), ways)`` logits of the queries given the support set ``(xs, ys)``."""
        return proto_logits(self(xq), prototypes(self(xs), ys, ways))
