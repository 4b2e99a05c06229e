"""Sensitivity and generalization (Novak et al. 2018): Jacobian norm and linear-region transitions.

Two sensitivity measures of a trained ReLU classifier, neither using labels:

- `softmax_jacobian_norm`: ``||d softmax(f(x)) / dx||_F`` per input, by one backward pass per class;
- `region_transitions`: the number of changes of the ReLU on/off code between consecutive points of a
  densely sampled closed path (`ellipse`), an estimate of how many linear regions the path crosses.

`study` trains a family of small MLPs on the digits (widths, learning rates, training-set sizes and
label corruption vary), measures both at test points and along ellipses through triples of test points,
and correlates them with the generalization gap (train minus test accuracy).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from core.cli import RunOptions
from core.results import ResultTable

__all__ = ["SENSITIVITY", "ellipse", "region_transitions", "relu_codes", "softmax_jacobian_norm", "study"]

SENSITIVITY = {
    "smoke": {
        "widths": (32, 256),
        "lrs": (1e-3, 1e-2),
        "train_sizes": (300, 1437),
        "corruption": (0.0, 0.5),
        "steps": 3000,
        "ellipses": 20,
        "points": 256,
    },
    "full": {
        "widths": (16, 64, 256, 1024),
        "lrs": (3e-4, 1e-3, 1e-2),
        "train_sizes": (150, 500, 1437),
        "corruption": (0.0, 0.25, 0.5, 1.0),
        "steps": 20000,
        "ellipses": 100,
        "points": 1024,
    },
}
"""Model family (every combination is trained; two hidden layers of each width), Adam steps of batch 64
(about enough to fit the corrupted labels), ellipses and points per ellipse."""


def softmax_jacobian_norm(model: nn.Module, x: Tensor) -> Tensor:
    """Frobenius norm of the Jacobian of the softmax output with respect to the input.

    Args:
        x: ``(n, ...)`` inputs (examples must not interact inside `model`, e.g. no train-mode batch norm).
    Returns:
        ``(n,)`` norms ``sqrt(sum_k ||d p_k(x_i) / d x_i||^2)``.
    """
    x = x.detach().clone().requires_grad_(True)
    probabilities = torch.softmax(model(x), dim=1)
    total = torch.zeros(len(x), dtype=x.dtype)
    for k in range(probabilities.shape[1]):
        (grad,) = torch.autograd.grad(probabilities[:, k].sum(), x, retain_graph=True)
        total += grad.flatten(1).pow(2).sum(1)
    return total.sqrt().detach()


def relu_codes(model: nn.Module, x: Tensor) -> Tensor:
    """``(n, units)`` bool: which units of every ``nn.ReLU`` module of `model` are on (output > 0)."""
    captured: list[Tensor] = []
    hooks = [
        module.register_forward_hook(lambda _m, _i, out: captured.append(out.detach().flatten(1) > 0))
        for module in model.modules()
        if isinstance(module, nn.ReLU)
    ]
    if not hooks:
        raise ValueError(f"{type(model).__name__} has no nn.ReLU module to read on/off codes from")
    try:
        with torch.no_grad():
            model(x)
    finally:
        for hook in hooks:
            hook.remove()
    return torch.cat(captured, dim=1)


def region_transitions(model: nn.Module, path: Tensor, closed: bool = True) -> int:
    """Number of consecutive points of `path` (``(m, ...)``) whose ReLU codes differ.

    With `closed`, the last point is compared with the first as well. Sampled finely enough, this is
    the number of linear-region boundaries the path crosses.
    """
    codes = relu_codes(model, path)
    if closed:
        codes = torch.cat([codes, codes[:1]])
    return int((codes[1:] != codes[:-1]).any(dim=1).sum())


def ellipse(a: Tensor, b: Tensor, c: Tensor, points: int) -> Tensor:
    """``points`` samples of ``m + (a - b)/2 cos t + (c - m) sin t``, ``m = (a + b)/2``: the closed
    curve through `a` (t = 0), `c` (t = pi/2) and `b` (t = pi), for ``t`` in ``[0, 2 pi)``."""
    t = torch.arange(points, dtype=a.dtype) * (2 * math.pi / points)
    shape = (-1,) + (1,) * a.dim()
    middle = (a + b) / 2
    return middle + ((a - b) / 2) * torch.cos(t).view(shape) + (c - middle) * torch.sin(t).view(shape)


def _accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def study(options: RunOptions) -> list[ResultTable]:
    """Train the model family, measure both sensitivities and the gap; table, correlations and figure."""
    from scipy.stats import spearmanr

    from core.plots import new_figure, save_figure
    from core.progress import progress
    from robust.analyses.small import corrupt_labels, mlp, train_classifier
    from robust.data import load_dataset

    budget = SENSITIVITY[options.scale]
    data = load_dataset("digits")
    table = ResultTable(
        "sensitivity_models",
        title="Novak et al.: sensitivity of trained MLPs against their generalization gap (digits)",
        data=data.describe(),
        notes=(
            "two hidden ReLU layers of `width`, Adam, batch 64, "
            f"{budget['steps']} steps; gap = train accuracy (on the labels trained on) - test accuracy; "
            "jacobian = mean ||d softmax / dx||_F over test points; transitions = mean number of ReLU-code "
            f"changes along {budget['ellipses']} ellipses through 3 test points, {budget['points']} points each."
        ),
    )
    rng = np.random.default_rng(options.seed)
    triples = torch.as_tensor(rng.integers(0, len(data.x_test), size=(budget["ellipses"], 3)))
    configs = [
        (w, lr, n, p)
        for w in budget["widths"]
        for lr in budget["lrs"]
        for n in budget["train_sizes"]
        for p in budget["corruption"]
    ]
    for i, (width, lr, n, p) in enumerate(progress(configs, desc="sensitivity models")):
        x, y = data.x_train[:n], corrupt_labels(data.y_train[:n], p, data.num_classes, options.seed + i)
        model = mlp(64, (width, width), data.num_classes, seed=options.seed + i)
        epochs = math.ceil(budget["steps"] * 64 / n)
        train_classifier(model, x, y, epochs=epochs, lr=lr, seed=options.seed + i)
        train_acc, test_acc = _accuracy(model, x, y), _accuracy(model, data.x_test, data.y_test)
        transitions = [
            region_transitions(model, ellipse(*data.x_test[t], points=budget["points"])) for t in triples
        ]
        table.add(
            width=width,
            lr=lr,
            train_size=n,
            corrupted=p,
            train_accuracy=train_acc,
            test_accuracy=test_acc,
            gap=train_acc - test_acc,
            jacobian=float(softmax_jacobian_norm(model, data.x_test).mean()),
            transitions=float(np.mean(transitions)),
        )
    options.publish(table)
    gap = np.array([row["gap"] for row in table.rows])
    summary = ResultTable(
        "sensitivity_correlation",
        title="Novak et al.: rank correlation of each sensitivity with the generalization gap",
        data=data.describe(),
        notes=(
            "Paper (summary sec. 2): both measures correlate with the generalization gap across trained "
            "models (MNIST/CIFAR, thousands of models). Spearman rho over our model family."
        ),
    )
    for measure in ("jacobian", "transitions"):
        values = np.array([row[measure] for row in table.rows])
        rho, pvalue = spearmanr(values, gap)
        summary.add(measure=measure, models=len(gap), spearman_rho=float(rho), p_value=float(pvalue))
    options.publish(summary)
    figure = new_figure(9, 3.6)
    for k, measure in enumerate(("jacobian", "transitions")):
        axis = figure.add_subplot(1, 2, k + 1)
        for p in budget["corruption"]:
            rows = [row for row in table.rows if row["corrupted"] == p]
            axis.scatter([r["gap"] for r in rows], [r[measure] for r in rows], s=12, label=f"corrupted {p}")
        axis.set(xlabel="generalization gap", ylabel=measure, yscale="log")
        axis.legend(fontsize=7)
    save_figure(figure, Path(options.out) / "sensitivity.png")
    return [table, summary]
