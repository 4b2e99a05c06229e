"""``reproduce robust --only blackbox``: NES and the boundary attack against their low-frequency variants.

Table ``nes_queries``: success rate against the number of model queries for NES (Ilyas et al.
2018, query-limited setting) and LF-NES (Guo et al. 2019: search directions in the lowest DCT
frequencies) on the clean LeNet, at the same L-inf budget. Paper finding (Guo et al., Fig. 4 and
Table 1): restricting the search to low frequencies reaches the same success with far fewer
queries. Figures: ``nes_queries.png``, ``boundary_queries.png``.

Table ``boundary_queries``: median L2 distance of the boundary attack's (always adversarial)
examples after Q queries, and the share within L2 `BOUNDARY_SUCCESS_L2`, for the boundary attack
(Brendel et al. 2018) and LF-BA (Guo et al. 2019) on the same images.

Table ``nes_settings``: NES in Ilyas et al.'s three threat models on the same LeNet and budget:
query-limited (all probabilities), partial information (top-1 probability only) and label-only
(top-3 labels only, smoothed rank score). Paper finding: the attack still succeeds with less
information, at a higher query cost (label-only the most expensive).
"""

from __future__ import annotations

from pathlib import Path

import torch

from core.cli import RunOptions
from core.plots import new_figure, save_figure
from core.results import ResultTable
from robust.attacks import NES, BoundaryAttack
from robust.evaluate import attack_in_batches
from robust.experiments.models import experiment_data, reference_models
from robust.guard import evaluation_mode

__all__ = ["BUDGET", "SETTINGS", "blackbox", "nes_settings"]

BUDGET = {
    "smoke": {"n_test": 50, "max_queries": 3000, "grid": (100, 250, 500, 1000, 2000, 3000)},
    "full": {"n_test": 500, "max_queries": 10_000, "grid": (100, 250, 500, 1000, 2000, 5000, 10_000)},
}
"""Images attacked, query budget per image and the query counts at which success is read off."""

EPS, ALPHA, SAMPLES, SIGMA = 0.2, 0.02, 50, 0.001
"""L-inf budget, step, queries per estimate and search sigma of both variants (Ilyas et al.'s 50 samples and sigma)."""

BOUNDARY = {"smoke": {"n_test": 20, "max_queries": 3000}, "full": {"n_test": 200, "max_queries": 10_000}}
"""Images and queries per image of the boundary-attack comparison."""

BOUNDARY_SUCCESS_L2 = 2.0
"""L2 distance under which a boundary-attack example counts as a success (MNIST scale)."""

SETTINGS = {
    "query-limited": {"setting": "query-limited"},
    "partial information (top-1 probability)": {"setting": "partial", "top_k": 1},
    "label-only (top-3 labels)": {
        "setting": "label-only",
        "top_k": 3,
        "samples": 10,
        "label_samples": 10,
        "mu": 0.1,
        "sigma": 0.01,
    },
}
"""NES threat models compared; label-only uses 5 antithetic pairs, sigma 0.01, 10 noise draws of mu 0.1 per
score (ours: the rank score is flat at the others' sigma 0.001)."""

SETTINGS_IMAGES = {"smoke": 20, "full": 200}

RATIOS = (0.25, 0.125)
"""Low-frequency block sides as fractions of the image side (28 px: 7x7 and 4x4 blocks)."""


def blackbox(options: RunOptions) -> list[ResultTable]:
    """Run NES and LF-NES on the LeNet; returns the published table."""
    budget = BUDGET[options.scale]
    data = experiment_data(options)
    models, _ = reference_models(options, data, ("lenet",))
    model = models["lenet"]
    device = next(model.parameters()).device
    x, y = data.x_test[: budget["n_test"]].to(device), data.y_test[: budget["n_test"]].to(device)
    with evaluation_mode(model), torch.no_grad():
        correct = model(x).argmax(1) == y
    x, y = x[correct], y[correct]
    variants = {"NES": {"frequency": "full"}}
    variants.update({f"LF-NES (ratio {r})": {"frequency": "low", "ratio": r} for r in RATIOS})
    table = ResultTable(
        "nes_queries",
        title=(
            f"Black-box success against queries on the clean LeNet ({len(x)} correctly classified test images, "
            f"L-inf eps {EPS})"
        ),
        data=data.describe(),
        notes=(
            "Paper (Guo et al. 2019): low-frequency NES needs far fewer queries than NES for the same success. "
            f"Both: {SAMPLES} antithetic samples per estimate, sigma {SIGMA}, alpha {ALPHA}; columns "
            "'success_at_Q' = share fooled within Q queries."
        ),
    )
    curves = {}
    for label, options_ in variants.items():
        attack = NES(
            model,
            eps=EPS,
            alpha=ALPHA,
            samples=SAMPLES,
            sigma=SIGMA,
            max_queries=budget["max_queries"],
            seed=options.seed,
            **options_,
        )
        row = {"attack": label, **success_against_queries(model, attack, x, y, budget["grid"])}
        table.add(**row)
        curves[label] = [row[f"success_at_{q}"] for q in budget["grid"]]
    options.publish(table)
    figure = new_figure(5.0, 3.4)
    axis = figure.add_subplot(1, 1, 1)
    for label, values in curves.items():
        axis.plot(budget["grid"], values, marker="o", label=label)
    axis.set_xscale("log")
    axis.set_xlabel("queries per image")
    axis.set_ylabel("success rate")
    axis.legend(fontsize=7)
    save_figure(figure, Path(options.out) / "nes_queries.png")
    boundary = boundary_queries(model, x, y, options, budget["grid"], data.describe())
    options.publish(boundary)
    settings = nes_settings(
        model,
        x[: SETTINGS_IMAGES[options.scale]],
        y[: SETTINGS_IMAGES[options.scale]],
        options,
        budget,
        data.describe(),
    )
    options.publish(settings)
    return [table, boundary, settings]


def nes_settings(model, x, y, options: RunOptions, budget, data: str) -> ResultTable:
    """Success against queries of NES when the black box reveals all probabilities, the top one, or labels."""
    table = ResultTable(
        "nes_settings",
        title=f"NES under Ilyas et al.'s three threat models on the clean LeNet ({len(x)} images, L-inf eps {EPS})",
        data=data,
        notes=(
            "Paper (Ilyas et al. 2018): NES still fools the model when only the top-k probabilities or only the "
            "top-k labels are returned, at a higher query cost. Untargeted here; the paper's targeted "
            "partial-information schedule (start from a target image, shrink eps) is not run."
        ),
    )
    for label, extra in SETTINGS.items():
        settings = {"samples": SAMPLES, "sigma": SIGMA, **extra}
        attack = NES(
            model, eps=EPS, alpha=ALPHA, max_queries=budget["max_queries"], seed=options.seed, **settings
        )
        table.add(setting=label, **success_against_queries(model, attack, x, y, budget["grid"]))
    return table


def success_against_queries(model, attack: NES, x, y, grid) -> dict[str, float | None]:
    """Run `attack` on ``x, y``; the share fooled within each query count of `grid` and the median
    queries of the successes (``success_at_Q``, ``median_queries_of_successes``)."""
    x_adv, cost = attack_in_batches(attack, x, y, batch_size=25)
    with evaluation_mode(model), torch.no_grad():
        fooled = (model(x_adv).argmax(1) != y).cpu()
    row: dict[str, float | None] = {
        f"success_at_{q}": float((fooled & (cost <= q)).float().mean()) for q in grid
    }
    row["median_queries_of_successes"] = float(cost[fooled].float().median()) if fooled.any() else None
    return row


def boundary_queries(model, x, y, options: RunOptions, grid, data: str) -> ResultTable:
    """Median L2 distance and success within `BOUNDARY_SUCCESS_L2` against queries, BA vs LF-BA."""
    settings = BOUNDARY[options.scale]
    x, y = x[: settings["n_test"]], y[: settings["n_test"]]
    grid = [q for q in grid if q <= settings["max_queries"]]
    table = ResultTable(
        "boundary_queries",
        title=f"Boundary attack vs LF-BA on the clean LeNet ({len(x)} images): L2 distance after Q queries",
        data=data,
        notes=(
            "Paper (Guo et al. 2019): the low-frequency boundary attack reaches small distances with far fewer "
            f"queries. 'median_l2_at_Q': median distance after Q queries; 'success_at_Q': share within L2 "
            f"{BOUNDARY_SUCCESS_L2}. Paper defaults: spherical and source steps 0.01, adaptation 1.5."
        ),
    )
    figure = new_figure(5.0, 3.4)
    axis = figure.add_subplot(1, 1, 1)
    variants = {"boundary": {"frequency": "full"}, "LF-BA (ratio 0.25)": {"frequency": "low", "ratio": 0.25}}
    for label, extra in variants.items():
        attack = BoundaryAttack(model, max_queries=settings["max_queries"], seed=options.seed, **extra)
        attack(x, y)
        row = {"attack": label}
        medians = []
        for q in grid:
            # the last trace entry with at most q queries, per example
            distance = torch.stack([d for used, d in attack.trace_])  # (steps, n)
            queries = torch.stack([used for used, d in attack.trace_])
            masked = torch.where(queries <= q, distance, torch.full_like(distance, float("inf")))
            best = masked.min(0).values
            row[f"median_l2_at_{q}"] = float(best.median()) if torch.isfinite(best).any() else None
            row[f"success_at_{q}"] = float((best <= BOUNDARY_SUCCESS_L2).float().mean())
            medians.append(row[f"median_l2_at_{q}"])
        table.add(**row)
        axis.plot(grid, [m if m is not None else float("nan") for m in medians], marker="o", label=label)
    axis.set_xscale("log")
    axis.set_xlabel("queries per image")
    axis.set_ylabel("median L2 distance")
    axis.legend(fontsize=7)
    save_figure(figure, Path(options.out) / "boundary_queries.png")
    return table
