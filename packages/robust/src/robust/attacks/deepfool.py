"""DeepFool (Moosavi-Dezfooli, Fawzi & Frossard, CVPR 2016): the minimal L2 step to the nearest
linearised decision boundary, repeated until the label changes.

At the current point, for each candidate class ``l`` (the ``candidates`` highest other logits)
the gap ``g_l = Z_l - Z_y`` (negative while ``y`` wins) and its input gradient ``w_l`` give the
distance ``|g_l| / ||w_l||_2`` to the linearised boundary of ``l``; the step to the closest one is
``r = |g_l| / ||w_l||^2 * w_l``. Steps accumulate until the example is misclassified; the total is
multiplied by ``1 + overshoot`` (the paper's 0.02). For an affine classifier one iteration gives the
exact minimal L2 perturbation (tested in closed form). `deepfool_perturbation` returns the raw
perturbation without clipping to [0, 1] (the universal construction needs it); the `DeepFool`
attack clips.

Defaults: overshoot 0.02, 50 iterations, 10 candidate classes (the paper's code).
Cost: one gradient call per candidate per iteration per example still running.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.attacks.base import Attack, check_budget

__all__ = ["DeepFool", "deepfool_perturbation"]


def deepfool_perturbation(
    attack: Attack, x: Tensor, y: Tensor, *, steps: int, overshoot: float, candidates: int, clip: bool
) -> Tensor:
    """DeepFool's accumulated perturbation ``(n, ...)`` of ``x`` for labels ``y`` (uses `attack`'s
    model access and cost counter); with `clip`, each iterate is kept in [0, 1]."""
    n = len(x)
    total = torch.zeros_like(x)
    rows = torch.arange(n, device=x.device)
    for _ in range(steps):
        current = x + (1 + overshoot) * total
        if clip:
            current = current.clamp(0.0, 1.0)
        point = current.detach().requires_grad_(True)
        logits = attack.logits(point)
        active = logits.argmax(1) == y
        if not bool(active.any()):
            break
        k = min(candidates, logits.shape[1] - 1)
        others = logits.detach().scatter(1, y[:, None], -float("inf")).topk(k, dim=1).indices
        best = torch.zeros_like(x)
        best_distance = torch.full((n,), float("inf"), dtype=x.dtype, device=x.device)
        for j in range(k):
            gap = logits[rows, others[:, j]] - logits[rows, y]
            (slope,) = torch.autograd.grad(gap.sum(), point, retain_graph=j < k - 1)
            norm = slope.flatten(1).norm(dim=1)
            distance = torch.where(norm > 0, gap.detach().abs() / norm.clamp_min(1e-30), best_distance)
            scale = (distance / norm.clamp_min(1e-30)).view(-1, *([1] * (x.ndim - 1)))
            take = distance < best_distance
            best[take] = (slope * scale)[take]
            best_distance[take] = distance[take]
        attack._charge(k, active)
        move = (active & torch.isfinite(best_distance)).to(x.dtype).view(-1, *([1] * (x.ndim - 1)))
        # 1e-4 past the linearised boundary, so that an exactly affine boundary is crossed
        total = total + move * best * (1 + 1e-4)
    return (1 + overshoot) * total


class DeepFool(Attack):
    """Untargeted minimal-L2 DeepFool attack.

    Args:
        steps: iterations at most.
        overshoot: the final perturbation is ``1 + overshoot`` times the accumulated steps.
        candidates: other classes considered per iteration (the highest logits).
        seed: see `Attack` (DeepFool draws nothing).
    """

    name = "deepfool"

    def __init__(
        self,
        model: nn.Module,
        steps: int = 50,
        overshoot: float = 0.02,
        candidates: int = 10,
        *,
        seed: int = 0,
    ) -> None:
        super().__init__(model, seed=seed)
        check_budget("steps", steps, positive=True, integer=True)
        check_budget("overshoot", overshoot)
        check_budget("candidates", candidates, positive=True, integer=True)
        self.steps, self.overshoot, self.candidates = steps, float(overshoot), candidates

    def perturb(self, x: Tensor, y: Tensor) -> Tensor:
        if self.targeted:
            raise InputError("DeepFool is untargeted")
        delta = deepfool_perturbation(
            self, x, y, steps=self.steps, overshoot=self.overshoot, candidates=self.candidates, clip=True
        )
        return (x + delta).clamp(0.0, 1.0)

    def budget(self) -> dict[str, object]:
        return {"norm": "l2", "steps": self.steps, "overshoot": self.overshoot, "candidates": self.candidates}
