"""Cost-sensitive certified robustness (Zhang & Evans 2019, sec. 12), on IBP's margin bounds.

A cost matrix ``C (k, k)`` says how much an adversarial change of the class from seed ``i`` to
target ``j`` hurts (``C[i, j] >= 0``, diagonal ignored). A seed example of class ``y`` is
*cost-sensitively certified* when every target ``j`` with ``C[y, j] > 0`` is ruled out by the
certificate: the lower bound of ``z_y - z_j`` over the L-inf ball is positive. Everything else
(targets of cost 0) may be reachable without counting.

- `cost_sensitive_robust_error`: for a binary ``C``, the share of seed examples (classes whose
  row has a positive cost) with at least one costly target not ruled out (the paper's
  "cost-sensitive robust error"); for a real-valued ``C``, the mean over seed examples of the
  summed cost of the targets not ruled out (the paper's "average cost").
- `cost_sensitive_loss`: the paper's regulariser ``log(1 + sum_j C[y, j] exp(u_j))`` with
  ``u_j`` the upper bound of ``z_j - z_y``, averaged over the seed examples of the batch. Zhang &
  Evans take the bounds from Wong & Kolter's dual network; here they are IBP's
  (`robust.certify.ibp.margin_lower_bounds`), which is what the package trains certified nets
  with. The authors' code averages per seed class and sums over classes; we average over all
  seed examples of a batch, so classes weigh by their frequency.
- `cost_matrix`: the matrices of the experiment: ``"overall"`` (every change costs 1: ordinary
  certified robustness), ``"odd-seeds"`` (only changes of odd digits cost), ``"distance"``
  (real-valued ``|i - j|`` between digit values).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from core.errors import InputError

__all__ = [
    "COST_PRESETS",
    "cost_matrix",
    "cost_sensitive_loss",
    "cost_sensitive_robust_error",
    "reachable_targets",
    "validate_cost_matrix",
]

COST_PRESETS = ("overall", "odd-seeds", "distance")
"""Names `cost_matrix` knows."""


def cost_matrix(name: str, num_classes: int = 10) -> tuple[float, ...]:
    """The preset `name` (one of `COST_PRESETS`) as a flat row-major tuple (``DefenseConfig.cost_matrix``)."""
    if name not in COST_PRESETS:
        raise InputError("unknown cost matrix", item=name, expected=", ".join(COST_PRESETS))
    rows = []
    for i in range(num_classes):
        for j in range(num_classes):
            if i == j:
                rows.append(0.0)
            elif name == "overall":
                rows.append(1.0)
            elif name == "odd-seeds":
                rows.append(float(i % 2 == 1))
            else:
                rows.append(float(abs(i - j)))
    return tuple(rows)


def validate_cost_matrix(values: Sequence[float] | Tensor, num_classes: int) -> Tensor:
    """``values`` (flat ``k*k`` or ``(k, k)``) as a ``(k, k)`` float tensor with a zero diagonal.

    Raises:
        InputError: wrong size, a negative or non-finite entry (named by row and column), or no
            positive entry at all.
    """
    from robust.defenses.config import check_cost_matrix

    flat = [float(v) for v in torch.as_tensor(values, dtype=torch.float64).flatten()]
    check_cost_matrix(flat, num_classes)
    matrix = torch.tensor(flat, dtype=torch.float32).reshape(num_classes, num_classes)
    return matrix.fill_diagonal_(0.0)


def reachable_targets(model: nn.Module, x: Tensor, y: Tensor, eps: float) -> Tensor:
    """``(n, k)`` bool: the certificate cannot rule out class ``j`` at L-inf radius `eps` (False at ``j = y``)."""
    from robust.certify.ibp import margin_lower_bounds

    return margin_lower_bounds(model, x, y, eps) <= 0


def cost_sensitive_robust_error(
    model: nn.Module, x: Tensor, y: Tensor, eps: float, cost: Sequence[float] | Tensor, batch_size: int = 500
) -> dict[str, float]:
    """The certified cost-sensitive metrics of ``model`` on ``x (n, ...)``, ``y (n,)`` at radius `eps`.

    Returns:
        ``seed_examples`` (examples whose class has a costly target), ``cost_robust_error``
        (share of them with a costly target not ruled out), ``average_cost`` (mean summed cost of
        the targets not ruled out, over seed examples; equals ``cost_robust_error`` for a binary
        matrix with a single costly target per row) and ``overall_robust_error`` (share of all
        examples not certified against every target).
    """
    from robust.guard import evaluation_mode

    k = _num_classes(model)
    matrix = validate_cost_matrix(cost, k).to(x.device)
    seeds = errors = 0
    summed_cost, overall = 0.0, 0
    with evaluation_mode(model), torch.no_grad():
        for s in range(0, len(x), batch_size):
            xb, yb = x[s : s + batch_size], y[s : s + batch_size]
            reach = reachable_targets(model, xb, yb, eps)
            # A wrong clean prediction reaches its own predicted class at eps 0 already.
            rows = matrix[yb]
            is_seed = (rows > 0).any(1)
            costly = reach & (rows > 0)
            seeds += int(is_seed.sum())
            errors += int(costly.any(1)[is_seed].sum())
            summed_cost += float((reach.float() * rows).sum(1)[is_seed].sum())
            overall += int(reach.any(1).sum())
    return {
        "seed_examples": float(seeds),
        "cost_robust_error": errors / seeds if seeds else float("nan"),
        "average_cost": summed_cost / seeds if seeds else float("nan"),
        "overall_robust_error": overall / max(len(x), 1),
    }


def cost_sensitive_loss(model: nn.Module, x: Tensor, y: Tensor, eps: float, cost: Tensor) -> Tensor:
    """Zhang & Evans' regulariser ``mean over seed examples of log(1 + sum_j C[y, j] exp(u_j))``.

    ``u_j = -(lower bound of z_y - z_j)`` is the certified upper bound of ``z_j - z_y``; targets of
    cost 0 drop out. Zero when the batch holds no seed example.
    """
    from robust.certify.ibp import margin_lower_bounds

    rows = cost[y]  # (n, k)
    is_seed = (rows > 0).any(1)
    if not bool(is_seed.any()):
        return x.new_zeros(())
    upper = -margin_lower_bounds(model, x[is_seed], y[is_seed], eps)  # -inf at j = y
    rows = rows[is_seed]
    logits = torch.where(rows > 0, upper + rows.clamp_min(1e-30).log(), torch.full_like(upper, -float("inf")))
    zero = logits.new_zeros(len(logits), 1)
    return torch.logsumexp(torch.cat([logits, zero], 1), 1).mean()


def _num_classes(model: nn.Module) -> int:
    from robust.certify.ibp import layers_of

    last = layers_of(model)[-1]
    if not isinstance(last, nn.Linear):
        raise InputError("the last layer must be nn.Linear for margin bounds", item=type(last).__name__)
    return last.out_features
