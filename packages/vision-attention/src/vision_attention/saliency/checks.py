"""The sanity checks: how much does each saliency map change when the model's weights or labels do?

`compare_maps` scores the maps of two models on the same images with every measure of
`vision_attention.saliency.similarity` (mean over images). `model_randomization_rows` runs the
cascading and independent tests; `verdict` applies the paper's reading: a method *passes* when its maps
change under randomisation (here: the mean Spearman rank correlation of absolute values between the
trained and the fully randomised model's maps is below `PASS_BELOW`), and *fails* when they barely change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from vision_attention.saliency.methods import METHODS, attribute
from vision_attention.saliency.randomize import cascading_randomization, independent_randomization
from vision_attention.saliency.similarity import SIMILARITIES

__all__ = ["PASS_BELOW", "compare_maps", "model_randomization_rows", "saliency_maps", "verdict"]

PASS_BELOW = 0.5
"""Mean |map| rank correlation under which a method's maps count as changed (the paper's passing methods
fall near 0, its failing ones stay near 1 on MNIST)."""


def saliency_maps(
    model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, methods: Sequence[str] = METHODS, **options
) -> dict[str, torch.Tensor]:
    """``{method: (n, c, h, w) map}`` for every method."""
    model.eval()
    return {name: attribute(model, inputs, targets, name, **options) for name in methods}


def _mean(values: list[float]) -> float | None:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else None


def compare_maps(first: torch.Tensor, second: torch.Tensor) -> dict[str, float | None]:
    """Mean of each similarity over the images of two ``(n, c, h, w)`` map batches (channels summed)."""
    a, b = first.sum(1), second.sum(1)
    return {
        key: _mean([measure(x, y) for x, y in zip(a, b, strict=True)])
        for key, measure in SIMILARITIES.items()
    }


def model_randomization_rows(
    model: nn.Module,
    layers: Sequence[str],
    inputs: torch.Tensor,
    targets: torch.Tensor,
    methods: Sequence[str] = METHODS,
    *,
    seed: int = 0,
    **options,
) -> list[dict]:
    """One row per (test, layer, method): the similarity of the randomised model's maps to the trained one's.

    Rows: ``test`` ("cascading" or "independent"), ``layer`` (for cascading: the lowest layer randomised
    so far), ``method``, and the four similarity columns.
    """
    reference = saliency_maps(model, inputs, targets, methods, seed=seed, **options)
    rows = []
    for test, sweep in (("cascading", cascading_randomization), ("independent", independent_randomization)):
        for layer, randomized in sweep(model, layers, seed=seed + 1):
            maps = saliency_maps(randomized, inputs, targets, methods, seed=seed, **options)
            for name in methods:
                rows.append(
                    {
                        "test": test,
                        "layer": layer,
                        "method": name,
                        **compare_maps(reference[name], maps[name]),
                    }
                )
    return rows


def verdict(correlation: float | None) -> str:
    """``"pass"`` (maps changed: |rank correlation| mean below `PASS_BELOW`), ``"fail"``, or ``"n/a"``."""
    if correlation is None:
        return "n/a"
    return "pass" if correlation < PASS_BELOW else "fail"
