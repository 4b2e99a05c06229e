"""The regularisers of the EWC and GEM baselines: the diagonal empirical Fisher, the (online) EWC
penalty and GEM's gradient projection.

- `diagonal_fisher`: ``F = mean_n (d log p(y_n | x_n) / d theta)^2``, the empirical Fisher's diagonal
  (observed labels, one example at a time), per parameter tensor.
- `EWCPenalty`: ``lambda / 2 sum_t sum_i F_t,i (theta_i - theta*_t,i)^2``. Kirkpatrick et al.'s EWC
  keeps one (anchor, Fisher) pair per task (``online=False``); online EWC (Schwarz et al. 2018, the
  compress phase of Progress & Compress) keeps one pair, the anchor the latest task's weights and the
  running Fisher ``F <- gamma F + F_new``, so its state does not grow with the tasks.
- `gem_project`: GEM's projection (Lopez-Paz and Ranzato 2017, eq. 8-11): when the gradient ``g`` has a
  negative dot product with a previous task's memory gradient (rows of ``G``), replace it by
  ``G^T v + g`` with ``v`` the dual solution ``min_v 1/2 v^T G G^T v + g^T G^T v, v >= margin``. That dual
  is ``min_{v >= margin} 1/2 ||G^T v + g||^2``: a non-negative least-squares problem after
  ``v = u + margin``, solved exactly by `scipy.optimize.nnls` (quadprog, GEM's solver, does not install
  here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["EWCPenalty", "diagonal_fisher", "gem_project"]


def diagonal_fisher(params: list[Any], x: Any, y: Any, forward: Callable[[list[Any], Any], Any]) -> list[Any]:
    """The empirical Fisher's diagonal at ``params`` over the rows of x (n, d), labels y (n,).

    ``forward(params, x)`` returns logits (n, classes). One backward pass per example.
    """
    import torch

    live = [p.detach().requires_grad_(True) for p in params]
    total = [torch.zeros_like(p) for p in params]
    for n in range(len(y)):
        logp = torch.log_softmax(forward(live, x[n : n + 1]), dim=1)[0, y[n]]
        for acc, g in zip(total, torch.autograd.grad(logp, live), strict=True):
            acc += g**2
    return [t / len(y) for t in total]


class EWCPenalty:
    """EWC's quadratic penalty; `consolidate` after each task.

    Args:
        strength: lambda.
        online: one running (anchor, Fisher) pair (online EWC) instead of one pair per task.
        gamma: online EWC's Fisher decay (ignored when ``online=False``).
    """

    def __init__(self, strength: float, online: bool, gamma: float = 1.0) -> None:
        self.strength = strength
        self.online = online
        self.gamma = gamma
        self.anchors: list[list[Any]] = []
        self.fishers: list[list[Any]] = []

    def consolidate(self, params: list[Any], fisher: list[Any]) -> None:
        """Add the finished task's weights and Fisher."""
        anchor = [p.detach().clone() for p in params]
        if self.online and self.fishers:
            self.fishers = [[self.gamma * f + g for f, g in zip(self.fishers[0], fisher, strict=True)]]
            self.anchors = [anchor]
        else:
            self.fishers.append([f.detach().clone() for f in fisher])
            self.anchors.append(anchor)

    def __call__(self, params: list[Any]) -> Any:
        """The penalty at ``params`` (a differentiable scalar tensor; 0 before the first task)."""
        total = params[0].new_zeros(())
        for anchor, fisher in zip(self.anchors, self.fishers, strict=True):
            for p, a, f in zip(params, anchor, fisher, strict=True):
                total = total + (f * (p - a) ** 2).sum()
        return 0.5 * self.strength * total

    def tensors(self) -> dict[str, Any]:
        """The anchors and Fishers by name (for checkpoints)."""
        return {"anchors": self.anchors, "fishers": self.fishers}

    def restore(self, tensors: dict[str, Any]) -> None:
        """Put back what `tensors` returned."""
        self.anchors = [list(a) for a in tensors.get("anchors", [])]
        self.fishers = [list(f) for f in tensors.get("fishers", [])]


def gem_project(gradient: np.ndarray, memories: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """GEM's projected gradient for a flat ``gradient`` (p,) and previous-task gradients ``memories`` (t, p).

    Returned unchanged when no dot product ``memories @ gradient`` is negative (as GEM's code does).
    """
    from scipy.optimize import nnls

    gradient = np.asarray(gradient, dtype=np.float64)
    memories = np.atleast_2d(np.asarray(memories, dtype=np.float64))
    if memories.size == 0 or np.all(memories @ gradient >= 0):
        return gradient
    target = -(gradient + margin * memories.sum(axis=0))
    u, _ = nnls(memories.T, target, maxiter=50 * memories.shape[0] + 100)
    return memories.T @ (u + margin) + gradient
