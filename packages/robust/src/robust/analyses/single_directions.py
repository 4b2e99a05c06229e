"""Importance of single directions (Morcos et al. 2018): ablation curves and class selectivity.

- `ablation_curve`: accuracy as units of one hidden layer are set to zero one after another (or
  random orthonormal directions are projected out of its activations, ``random=True``).
- `class_selectivity`: ``(mu_max - mu_rest) / (mu_max + mu_rest)`` per unit, ``mu_max`` the largest
  class-conditional mean activation and ``mu_rest`` the mean of the other classes' means.

`study` trains one MLP per label-corruption level on the digits and compares their ablation curves
(normalised accuracy on the labels each was trained on, the memorisation setting of the paper) and the
rank correlation between a unit's selectivity and its importance (accuracy drop when ablated alone).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from core.cli import RunOptions
from core.results import ResultTable

__all__ = ["DIRECTIONS", "ablation_curve", "class_selectivity", "hidden_activations", "study"]

DIRECTIONS = {
    "smoke": {"width": 128, "corruption": (0.0, 0.5, 1.0), "epochs": 150, "train": 600, "orders": 3},
    "full": {
        "width": 512,
        "corruption": (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
        "epochs": 400,
        "train": 1437,
        "orders": 10,
    },
}
"""Hidden width (two layers), label-corruption levels, epochs, training examples, random ablation orders."""


def _relu(model: nn.Module, layer: int) -> nn.Module:
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    if not 0 <= layer < len(relus):
        raise ValueError(f"layer {layer} out of range: the model has {len(relus)} nn.ReLU modules")
    return relus[layer]


def hidden_activations(model: nn.Module, layer: int, x: Tensor) -> Tensor:
    """``(n, units)`` outputs of the `layer`-th ``nn.ReLU`` module of `model` on `x`."""
    captured: list[Tensor] = []
    hook = _relu(model, layer).register_forward_hook(
        lambda _m, _i, out: captured.append(out.detach().flatten(1))
    )
    try:
        with torch.no_grad():
            model(x)
    finally:
        hook.remove()
    return captured[0]


def ablation_curve(
    model: nn.Module,
    layer: int,
    x: Tensor,
    y: Tensor,
    order: Tensor,
    *,
    random: bool = False,
    seed: int = 0,
) -> np.ndarray:
    """Accuracy on ``(x, y)`` with the first ``k`` directions of `order` ablated, ``k = 0 .. len(order)``.

    Args:
        layer: which ``nn.ReLU`` module (0 = first) of a model whose ReLUs output ``(n, units)``.
        order: unit indices in ablation order (``random=False``), or, with ``random=True``, only its length
            matters: ``k`` columns of a seeded random orthonormal basis are projected out of the activations.
    Returns:
        ``(len(order) + 1,)`` accuracies.
    """
    units = hidden_activations(model, layer, x[:1]).shape[1]
    if random:
        generator = torch.Generator().manual_seed(seed)
        basis, _ = torch.linalg.qr(torch.randn(units, units, generator=generator))
    state: dict[str, Tensor | None] = {"remove": None}

    def hook(_module, _inputs, out):
        remove = state["remove"]
        if remove is None:
            return out
        flat = out.flatten(1)
        if random:
            q = remove
            flat = flat - (flat @ q) @ q.T
        else:
            flat = flat.clone()
            flat[:, remove] = 0.0
        return flat.view_as(out)

    handle = _relu(model, layer).register_forward_hook(hook)
    accuracies = []
    try:
        with torch.no_grad():
            for k in range(len(order) + 1):
                if k == 0:
                    state["remove"] = None
                else:
                    state["remove"] = basis[:, :k] if random else order[:k]
                accuracies.append(float((model(x).argmax(1) == y).float().mean()))
    finally:
        handle.remove()
    return np.array(accuracies)


def class_selectivity(activations: Tensor, y: Tensor, classes: int) -> np.ndarray:
    """Morcos et al.'s selectivity index per unit, in [0, 1] for non-negative activations.

    Args:
        activations: ``(n, units)`` non-negative (post-ReLU); y: ``(n,)`` labels.
    Returns:
        ``(units,)``; 0 for units that never fire.
    """
    means = torch.stack([activations[y == c].mean(0) for c in range(classes)])  # (classes, units)
    top = means.max(0).values
    rest = (means.sum(0) - top) / (classes - 1)
    denominator = top + rest
    out = torch.where(denominator > 0, (top - rest) / denominator.clamp_min(1e-12), torch.zeros_like(top))
    return out.numpy()


def study(options: RunOptions) -> list[ResultTable]:
    """Ablation curves against label corruption, and selectivity against importance; tables and figure."""
    from scipy.stats import spearmanr

    from core.plots import new_figure, save_figure
    from robust.analyses.small import corrupt_labels, mlp, train_classifier
    from robust.data import load_dataset

    budget = DIRECTIONS[options.scale]
    data = load_dataset("digits")
    width, n = budget["width"], budget["train"]
    curves = ResultTable(
        "single_directions",
        title="Morcos et al.: accuracy under ablation of units / random directions (digits, 2nd hidden layer)",
        data=data.describe() + f"; first {n} training images",
        notes=(
            f"MLP 64-{width}-{width}-10, Adam 1e-3, {budget['epochs']} epochs on labels with the given share "
            "corrupted; accuracy on the labels trained on, normalised by the unablated accuracy; auc = mean "
            f"normalised accuracy over 0..{width} ablated, averaged over {budget['orders']} random orders. "
            "Paper (summary sec. 8): nets trained on corrupted labels (memorising) lose accuracy faster under "
            "ablation; class selectivity does not predict a unit's importance."
        ),
    )
    rng = torch.Generator().manual_seed(options.seed)
    plotted = {}
    for i, p in enumerate(budget["corruption"]):
        x, y = data.x_train[:n], corrupt_labels(data.y_train[:n], p, data.num_classes, options.seed + i)
        model = mlp(64, (width, width), data.num_classes, seed=options.seed + i)
        train_classifier(model, x, y, epochs=budget["epochs"], seed=options.seed + i)
        units, randoms = [], []
        for r in range(budget["orders"]):
            order = torch.randperm(width, generator=rng)
            units.append(ablation_curve(model, 1, x, y, order))
            randoms.append(
                ablation_curve(model, 1, x, y, order, random=True, seed=options.seed + 100 * i + r)
            )
        unit, rand = np.mean(units, 0), np.mean(randoms, 0)
        base = unit[0]
        plotted[p] = (unit / base, rand / base)
        activations = hidden_activations(model, 1, x)
        selectivity = class_selectivity(activations, data.y_train[:n], data.num_classes)
        single = np.array([ablation_curve(model, 1, x, y, torch.tensor([u]))[1] for u in range(width)])
        importance = base - single
        constant = np.ptp(importance) == 0  # no single unit changes accuracy: rank correlation undefined
        rho, pvalue = (np.nan, np.nan) if constant else spearmanr(selectivity, importance)
        curves.add(
            corrupted=p,
            train_accuracy=float(base),
            test_accuracy=float((model(data.x_test).argmax(1) == data.y_test).float().mean()),
            unit_auc=float(np.mean(unit / base)),
            random_direction_auc=float(np.mean(rand / base)),
            accuracy_half_units_ablated=float(unit[width // 2] / base),
            max_single_unit_drop=float(importance.max()),
            selectivity_importance_rho=None if constant else float(rho),
            selectivity_importance_p=None if constant else float(pvalue),
        )
    options.publish(curves)
    figure = new_figure(9, 3.6)
    left, right = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
    for p, (unit, rand) in plotted.items():
        left.plot(np.arange(len(unit)), unit, label=f"corrupted {p}")
        right.plot(np.arange(len(rand)), rand, label=f"corrupted {p}")
    left.set(xlabel="units ablated", ylabel="normalised train accuracy", title="single units")
    right.set(xlabel="random directions ablated", title="random directions")
    left.legend(fontsize=7)
    save_figure(figure, Path(options.out) / "single_directions.png")
    return [curves]
