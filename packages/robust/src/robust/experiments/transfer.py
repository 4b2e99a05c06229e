"""``reproduce robust --only transfer``: I-FGSM vs DI-FGSM transfer on all 1,000 test images, over
resize ranges.

Table ``transfer_resize``: the ``attacks`` sub-experiment's transfer table (examples crafted on the
clean CNN at L-inf eps 0.2, 10 steps, judged on the LeNet and the MLP) on the whole test split
instead of the first 200 images, with DI2-FGSM and M-DI2-FGSM at resize rates 0.9 (the default),
0.8 and 0.7 (stronger diversity on 28x28 digits, where a 10% shrink moves strokes by 1-2 pixels).
Paper finding (Xie et al. 2019): input diversity raises transfer over I-FGSM, momentum adds to it.
"""

from __future__ import annotations

from core.cli import RunOptions
from core.results import ResultTable
from robust.experiments.attacks import transfer
from robust.experiments.models import experiment_data, reference_models

__all__ = ["BUDGET", "SOURCES", "transfer_resize", "transfer_sources"]

BUDGET = {"smoke": {"n_test": 1000, "steps": 10}, "full": {"n_test": 1000, "steps": 40}}
"""Test images and attack steps (the full scale uses Madry et al.'s 40 steps)."""

RESIZE_RATES = (0.9, 0.8, 0.7)

SOURCES = {"mlp": ("mlp",), "cnn+lenet": ("cnn", "lenet"), "cnn+mlp": ("cnn", "mlp")}
"""Sources of ``transfer_sources``: the dense MLP (the largest architecture gap to the conv nets) and
two-model ensembles (mean logits), Xie et al.'s ensemble setting; targets are the remaining models."""


def transfer_resize(options: RunOptions) -> list[ResultTable]:
    """Transfer rates of (M-)I-FGSM and (M-)DI2-FGSM over resize rates; returns the published table."""
    budget = BUDGET[options.scale]
    data = experiment_data(options)
    models, _ = reference_models(options, data)
    device = next(models["cnn"].parameters()).device
    x, y = data.x_test[: budget["n_test"]].to(device), data.y_test[: budget["n_test"]].to(device)
    table = transfer(
        models, x, y, budget["steps"], options.seed, data.describe(), RESIZE_RATES, name="transfer_resize"
    )
    options.publish(table)
    return [table]


def transfer_sources(options: RunOptions) -> list[ResultTable]:
    """I-FGSM vs DI2-FGSM (p = 0.5, resize 0.9) from other sources: the MLP and two-model ensembles.

    Returns one table per source (``transfer_from_<source>``), on the whole test split.
    """
    budget = BUDGET[options.scale]
    data = experiment_data(options)
    models, _ = reference_models(options, data)
    device = next(models["cnn"].parameters()).device
    x, y = data.x_test[: budget["n_test"]].to(device), data.y_test[: budget["n_test"]].to(device)
    tables = []
    for label, sources in SOURCES.items():
        table = transfer(
            models,
            x,
            y,
            budget["steps"],
            options.seed,
            data.describe(),
            name=f"transfer_from_{label}",
            sources=sources,
        )
        options.publish(table)
        tables.append(table)
    return tables
