"""Model-agnostic meta-learning (Finn, Abbeel & Levine 2017) on a functional MLP classifier."""

from __future__ import annotations

import math
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class MAMLNet(nn.Module):
    """An MLP ``in_features -> hidden... -> ways`` whose forward takes the weights as an argument."""

    def __init__(self, in_features: int, hidden: tuple[int, ...], ways: int):
        super().__init__()
        sizes = [in_features, *hidden, ways]
        self.weights = nn.ParameterList()
        for a, b in pairwise(sizes):
            bound = 1.0 / math.sqrt(a)
            self.weights.append(nn.Parameter(torch.empty(b, a).uniform_(-bound, bound)))
            self.weights.append(nn.Parameter(torch.zeros(b)))

    def forward(self, x: Tensor, weights: list[Tensor] | None = None) -> Tensor:
        w = list(self.weights) if weights is None else weights
        h = x.flatten(1)
        for i in range(0, len(w), 2):
            h = F.linear(h, w[i], w[i + 1])
            if i < len(w) - 2:
                h = F.relu(h)
        return h

    def adapt(
        self, xs: Tensor, ys: Tensor, steps: int, lr: float, *, create_graph: bool = False
    ) -> list[Tensor]:
        """The weights after `steps` SGD steps of step size `lr` on the support cross-entropy.

        With ``create_graph`` the result stays differentiable in the initial weights (second-order
        MAML); without it, the inner gradients are constants (first-order MAML, and evaluation).
        """
        weights = list(self.weights)
        for _ in range(steps):
            loss = F.cross_entropy(self(xs, weights), ys)
            grads = torch.autograd.grad(loss, weights, create_graph=create_graph)
            weights = [w - lr * g for w, g in zip(weights, grads)]
        return weights
