"""``reproduce robust --only spatial``: rotations and translations against the clean CNN.

Table ``spatial``: accuracy of the clean CNN on test images under the grid adversary (rotations
and translations together, rotations only, translations only) and the worst-of-10 random
adversary, at the paper's MNIST budget of +-30 degrees and +-3 pixels (Engstrom et al. 2019).
Paper finding: a standard CNN with high clean accuracy loses most of it to the combined grid
attack, and worst-of-10 random transforms already cost a large share of it.

Table ``deformations``: stAdv (Xiao et al. 2018; the paper's tau 0.05 with its L-BFGS run per image and
with Adam on the batch, and tau 0.005) and ADef (Alaifari et al. 2019; Gaussian
sigma 1) on the same CNN and images: success among correctly classified images within displacement
budgets (the T-norm, the largest displacement of any pixel, at most 0.5 / 1 / 2 pixels), read off the
fields each attack returns. Paper finding: both fool almost every MNIST image with displacements of
about a pixel or less.
"""

from __future__ import annotations

import torch

from core.cli import RunOptions
from core.results import ResultTable
from robust.attacks import ADef, SpatialGrid, StAdv
from robust.attacks.adef import t_norm
from robust.evaluate import evaluate
from robust.experiments.models import experiment_data, reference_models
from robust.guard import evaluation_mode

__all__ = ["BUDGET", "DEFORMATION_BUDGETS", "deformations", "spatial"]

BUDGET = {
    "smoke": {"n_test": 50, "rotations": 11, "shifts": 5},
    "full": {"n_test": 500, "rotations": 31, "shifts": 7},
}
"""Test images and grid points (the paper's MNIST grid: 31 rotations x 5 x 5 translations; full uses 7 x 7)."""

MAX_DEGREES, MAX_SHIFT = 30.0, 3.0

DEFORMATION_BUDGETS = (0.5, 1.0, 2.0)
"""T-norm budgets (pixels) at which the success of stAdv and ADef is read off."""

STADV_STEPS = {"smoke": 100, "full": 300}
"""Adam steps of stAdv (learning rate 0.01 pixel), and objective evaluations of its per-image L-BFGS."""


def spatial(options: RunOptions) -> list[ResultTable]:
    """Run the spatial adversaries on the CNN; returns the published table."""
    budget = BUDGET[options.scale]
    data = experiment_data(options)
    models, _ = reference_models(options, data, ("cnn",))
    model = models["cnn"]
    device = next(model.parameters()).device
    x, y = data.x_test[: budget["n_test"]].to(device), data.y_test[: budget["n_test"]].to(device)
    rotations, shifts = budget["rotations"], budget["shifts"]
    adversaries = {
        "grid: rotation + translation": SpatialGrid(model, MAX_DEGREES, MAX_SHIFT, rotations, shifts),
        "grid: rotation only": SpatialGrid(model, MAX_DEGREES, 0.0, rotations, 1),
        "grid: translation only": SpatialGrid(model, 0.0, MAX_SHIFT, 1, shifts),
        "worst-of-10 random": SpatialGrid(model, MAX_DEGREES, MAX_SHIFT, random=10, seed=options.seed),
    }
    result = evaluate(model, (x, y), list(adversaries.values()), name="spatial")
    table = ResultTable(
        "spatial",
        title=f"Clean CNN under rotations (+-{MAX_DEGREES:g} deg) and translations (+-{MAX_SHIFT:g} px), {len(x)} test images",
        data=data.describe(),
        notes=(
            "Paper (Engstrom et al. 2019): the combined grid attack removes most of a standard MNIST CNN's accuracy; "
            f"worst-of-10 random transforms a large part of it. Grid: {rotations} rotations x {shifts} x {shifts} "
            "translations; cost = queries per image (stops at the first transform that fools)."
        ),
    )
    for label, row in zip(adversaries, result.rows, strict=True):
        table.add(
            adversary=label,
            clean_accuracy=row["clean_accuracy"],
            robust_accuracy=row["robust_accuracy"],
            mean_queries=row["cost"],
        )
    options.publish(table)
    deformed = deformations(model, x, y, options, data.describe())
    options.publish(deformed)
    return [table, deformed]


def deformations(model, x, y, options: RunOptions, data: str) -> ResultTable:
    """stAdv and ADef success within T-norm budgets on the correctly classified images of ``x``."""
    with evaluation_mode(model), torch.no_grad():
        correct = model(x).argmax(1) == y
    x, y = x[correct], y[correct]
    table = ResultTable(
        "deformations",
        title=f"stAdv and ADef on the clean CNN ({len(x)} correctly classified test images)",
        data=data,
        notes=(
            "Papers (Xiao et al. 2018; Alaifari et al. 2019): flow fields / smooth deformations fool almost every "
            "MNIST image with displacements of about a pixel or less. 'success_within_B' = share fooled with the "
            "largest pixel displacement (T-norm) <= B pixels, read off the returned fields; cost = gradient calls."
        ),
    )
    steps = STADV_STEPS[options.scale]
    attacks = {
        "stAdv (tau 0.05, L-BFGS per image, paper)": StAdv(model, tau=0.05, steps=steps, optimizer="lbfgs"),
        "stAdv (tau 0.05, Adam)": StAdv(model, tau=0.05, steps=STADV_STEPS[options.scale], lr=0.01),
        "stAdv (tau 0.005)": StAdv(model, tau=0.005, steps=STADV_STEPS[options.scale], lr=0.01),
        "ADef (sigma 1)": ADef(model, sigma=1.0),
    }
    for label, attack in attacks.items():
        per_image = isinstance(attack, StAdv) and attack.optimizer == "lbfgs"
        chunks = [(x[i : i + 1], y[i : i + 1]) for i in range(len(x))] if per_image else [(x, y)]
        outputs, fields, costs = [], [], []
        for images, labels in chunks:
            outputs.append(attack(images, labels))
            fields.append(attack.flow_ if isinstance(attack, StAdv) else attack.field_)
            costs.append(attack.cost_)
        x_adv, field, cost = torch.cat(outputs), torch.cat(fields), torch.cat(costs)
        with evaluation_mode(model), torch.no_grad():
            fooled = (model(x_adv).argmax(1) != y).cpu()
        norms = t_norm(field).cpu()
        row = {"attack": label, "success": float(fooled.float().mean())}
        for b in DEFORMATION_BUDGETS:
            row[f"success_within_{b:g}"] = float((fooled & (norms <= b)).float().mean())
        row["median_t_norm_of_successes"] = float(norms[fooled].median()) if fooled.any() else None
        row["mean_cost"] = float(cost.float().mean())
        table.add(**row)
    return table
