"""Put a model in eval mode with frozen parameters for an attack, and restore it exactly afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn

__all__ = ["evaluation_mode"]


@contextmanager
def evaluation_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Inside: every submodule in eval mode, every parameter with ``requires_grad=False``.

    On exit (also on an exception) each submodule gets back its own ``training`` flag and each
    parameter its own ``requires_grad``, so a model whose parts were in mixed modes (a frozen
    batch-norm inside a training net) comes back exactly as it was. Parameter values and their
    ``.grad`` are never touched: attacks differentiate with respect to the input only.
    """
    modes = [(module, module.training) for module in model.modules()]
    flags = [(parameter, parameter.requires_grad) for parameter in model.parameters()]
    try:
        model.eval()
        for parameter, _ in flags:
            parameter.requires_grad_(False)
        yield model
    finally:
        for module, mode in modes:
            module.training = mode
        for parameter, flag in flags:
            parameter.requires_grad_(flag)
