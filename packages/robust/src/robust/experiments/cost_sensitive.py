"""``reproduce robust --only cost-sensitive``: cost-sensitive certified training (Zhang & Evans 2019).

Gowal et al.'s small IBP net on MNIST (the defenses experiment's data, schedule and test images)
trained four ways: clean; plain IBP training (every change of class counts: the overall-robust
baseline, the checkpoint the ``defenses`` experiment trains too); and the ``"ibp-cost"`` recipe
with the binary ``"odd-seeds"`` matrix (only changes of odd digits cost) and with the real-valued
``"distance"`` matrix (changing digit i into j costs |i - j|). For each, at the test eps: clean
accuracy, overall IBP-verified accuracy, the binary matrix's cost-sensitive robust error and the
real-valued matrix's average cost (all certified, IBP bounds). The paper's finding: a model trained
for the cost matrix has "substantially reduced cost-sensitive robust error, while maintaining
classification accuracy" against the overall-robust model (Wong & Kolter's dual bounds on MNIST
and CIFAR-10; ours are IBP's). Figure ``cost_sensitive.png``: per (seed, target) pair, the share of
test images of the seed class whose change into the target is not ruled out, for plain IBP and
for the odd-seeds model.
"""

from __future__ import annotations

from pathlib import Path

import torch

from core.cli import RunOptions
from core.plots import new_figure, save_figure
from core.results import ResultTable
from robust.certify import verified_accuracy
from robust.certify.cost import cost_matrix, cost_sensitive_robust_error, reachable_targets
from robust.experiments.defended import defended_model
from robust.experiments.defenses import ARCHITECTURE, BUDGET, TRAIN_EPS
from robust.experiments.models import experiment_data, reference_models

__all__ = ["cost_sensitive"]


def cost_sensitive(options: RunOptions) -> list[ResultTable]:
    """Train (or resume) the four models and certify them; returns the published table."""
    budget = BUDGET[options.scale]
    data = experiment_data(options)
    k = data.num_classes
    models, reference = reference_models(options, data, (ARCHITECTURE,))
    schedule = {
        "eps": TRAIN_EPS,
        "ibp_warmup_steps": budget["ibp_warmup"],
        "ibp_ramp_steps": budget["ibp_ramp"],
    }
    trained = {"clean": (models[ARCHITECTURE], reference.rows[0]["train_seconds"])}
    variants = {
        "IBP (overall)": ("ibp", {"recipe": "ibp"}),
        "IBP cost-sensitive, odd-seeds": (
            "ibpcost-odd",
            {"recipe": "ibp-cost", "cost_matrix": cost_matrix("odd-seeds", k)},
        ),
        "IBP cost-sensitive, distance": (
            "ibpcost-dist",
            {"recipe": "ibp-cost", "cost_matrix": cost_matrix("distance", k)},
        ),
    }
    for label, (name, fields) in variants.items():
        model, history, _ = defended_model(
            options, data, ARCHITECTURE, f"{name}{TRAIN_EPS:g}", **schedule, **fields
        )
        trained[label] = (model, history[-1]["train_seconds"])
    device = next(models[ARCHITECTURE].parameters()).device
    x, y = data.x_test[: budget["n_test"]].to(device), data.y_test[: budget["n_test"]].to(device)
    odd, distance = cost_matrix("odd-seeds", k), cost_matrix("distance", k)
    table = ResultTable(
        "cost_sensitive",
        title=f"Cost-sensitive certified training on {data.name} ({ARCHITECTURE}, L-inf eps {TRAIN_EPS}, {len(x)} test images)",
        data=data.describe(),
        notes=(
            "All robust numbers are IBP certificates at the training eps. odd-seeds: only changes of odd digits cost 1 "
            "(cost robust error = share of odd test digits with a change not ruled out); distance: changing i into j "
            "costs |i - j| (average cost over all test digits). Zhang & Evans (2019) report substantially lower "
            "cost-sensitive robust error at maintained accuracy against the overall-robust model."
        ),
    )
    for label, (model, seconds) in trained.items():
        binary = cost_sensitive_robust_error(model, x, y, TRAIN_EPS, odd)
        real = cost_sensitive_robust_error(model, x, y, TRAIN_EPS, distance)
        with torch.no_grad():
            clean = float((model.eval()(x).argmax(1) == y).float().mean())
        table.add(
            training=label,
            clean_accuracy=clean,
            verified_accuracy=verified_accuracy(model, x, y, TRAIN_EPS),
            odd_seed_cost_robust_error=binary["cost_robust_error"],
            distance_average_cost=real["average_cost"],
            train_seconds=seconds,
        )
    options.publish(table)
    _heatmaps(
        {label: trained[label][0] for label in ("IBP (overall)", "IBP cost-sensitive, odd-seeds")},
        x,
        y,
        k,
        Path(options.out) / "cost_sensitive.png",
    )
    return [table]


def _heatmaps(models: dict, x: torch.Tensor, y: torch.Tensor, k: int, path: Path) -> None:
    """Per (seed, target), the share of seed-class test images whose change is not ruled out."""
    figure = new_figure(4.8 * len(models), 3.8)
    figure.subplots_adjust(wspace=0.35)
    for i, (label, model) in enumerate(models.items()):
        with torch.no_grad():
            reach = reachable_targets(model.eval(), x, y, TRAIN_EPS).float()
        rates = torch.stack([reach[y == c].mean(0) if (y == c).any() else torch.zeros(k) for c in range(k)])
        axes = figure.add_subplot(1, len(models), i + 1)
        image = axes.imshow(rates.cpu().numpy(), vmin=0, vmax=1, cmap="viridis")
        axes.set(xlabel="target class", ylabel="seed class", title=label, xticks=range(k), yticks=range(k))
        figure.colorbar(image, ax=axes, fraction=0.046)
    save_figure(figure, path)
