"""``reproduce robust --only spatial``: rotations and translations against the clean CNN.

Table ``spatial``: accuracy of the clean CNN on test images under the grid adversary (rotations
and translations together, rotations only, translations only) and the worst-of-10 random
adversary, at the paper's MNIST budget of +-30 degrees and +-3 pixels (Engstrom et al. 2019).
Paper finding: a standard CNN with high clean accuracy loses most of it to the combined grid
attack, and worst-of-10 random transforms already cost a large share of it.
"""

from __future__ import annotations

from core.cli import RunOptions
from core.results import ResultTable
from robust.attacks import SpatialGrid
from robust.evaluate import evaluate
from robust.experiments.models import experiment_data, reference_models

__all__ = ["BUDGET", "spatial"]

BUDGET = {
    "smoke": {"n_test": 50, "rotations": 11, "shifts": 5},
    "full": {"n_test": 500, "rotations": 31, "shifts": 7},
}
"""Test images and grid points (the paper's MNIST grid: 31 rotations x 5 x 5 translations; full uses 7 x 7)."""

MAX_DEGREES, MAX_SHIFT = 30.0, 3.0


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
    return [table]
