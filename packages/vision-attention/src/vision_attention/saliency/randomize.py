"""The paper's randomisation tests (Adebayo et al. 2018, sec. 4 and 5).

- `cascading_randomization`: re-initialise the layers from the top (logits) down, cumulatively: after
  step k the k top-most layers hold fresh random weights.
- `independent_randomization`: re-initialise one layer at a time, every other layer trained.
- `permuted_labels`: the training labels shuffled (the data-randomisation test trains a model on them).

Re-initialisation uses each layer's own ``reset_parameters`` (PyTorch's default init) under a forked,
seeded RNG, so the caller's RNG is untouched and the randomised models are reproducible.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from core.errors import InputError

__all__ = ["cascading_randomization", "independent_randomization", "permuted_labels", "reinitialize"]


def _layer(model: nn.Module, name: str) -> nn.Module:
    try:
        return model.get_submodule(name)
    except AttributeError:
        raise InputError("the model has no such layer", item=name) from None


def reinitialize(model: nn.Module, names: Sequence[str], seed: int) -> nn.Module:
    """A copy of `model` with the named layers re-initialised (seeded); `model` itself is unchanged."""
    randomized = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for name in names:
            layer = _layer(randomized, name)
            if not hasattr(layer, "reset_parameters"):
                raise InputError("layer cannot be re-initialised (no reset_parameters)", item=name)
            layer.reset_parameters()
    return randomized.eval()


def cascading_randomization(
    model: nn.Module, layers: Sequence[str], seed: int = 0
) -> Iterator[tuple[str, nn.Module]]:
    """``(layer, model with layers[:k+1] re-initialised)`` for k = 0..; `layers` go from the top down."""
    for k, name in enumerate(layers):
        yield name, reinitialize(model, layers[: k + 1], seed)


def independent_randomization(
    model: nn.Module, layers: Sequence[str], seed: int = 0
) -> Iterator[tuple[str, nn.Module]]:
    """``(layer, model with only that layer re-initialised)`` for each of `layers`."""
    for name in layers:
        yield name, reinitialize(model, [name], seed)


def permuted_labels(labels: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """`labels` in a seeded random order (the data-randomisation test's targets)."""
    return labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))]
