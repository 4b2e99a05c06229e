"""Adaptive attacks on obfuscated gradients (Athalye, Carlini & Wagner, ICML 2018).

- `BPDA`: a module wrapping a non-differentiable defense ``g`` (quantisation, JPEG, denoisers):
  its forward is ``g(x)``, its backward the gradient of a differentiable approximation ``h``
  (the identity by default, as the paper does for ``g(x) ~ x``). Put it in front of the
  classifier (``nn.Sequential(BPDA(g), classifier)``) and run any gradient attack.
- `EOT`: wraps any gradient attack so that each gradient call averages over `samples` draws of a
  randomised model or defense (expectation over transformation); cost rises by that factor.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.attacks.base import Attack, check_budget

__all__ = ["BPDA", "EOT"]


class BPDA(nn.Module):
    """Forward through `defense`, backward through `approximation` (default: the identity).

    Implemented as ``h(x) + (g(x) - h(x)).detach()``: the value is exactly ``g(x)`` and the
    gradient exactly ``dh/dx``.
    """

    def __init__(
        self, defense: Callable[[Tensor], Tensor], approximation: Callable[[Tensor], Tensor] | None = None
    ):
        super().__init__()
        if not callable(defense):
            raise InputError("BPDA needs a callable defense", item=type(defense).__name__)
        self.defense = defense
        self.approximation = approximation

    def forward(self, x: Tensor) -> Tensor:
        approximated = x if self.approximation is None else self.approximation(x)
        return approximated + (self.defense(x) - approximated).detach()


class EOT(Attack):
    """Expectation over transformation around a gradient `attack`: each gradient is a mean over `samples`.

    The wrapped attack is copied (its generator included), so the original stays usable.
    Over a deterministic model, ``EOT(attack, k)`` returns the same examples as ``attack``.
    """

    def __init__(self, attack: Attack, samples: int = 10) -> None:
        if not isinstance(attack, Attack):
            raise InputError("EOT wraps an Attack", item=type(attack).__name__)
        if attack.cost_unit != "gradients":
            raise InputError(
                "EOT averages gradients; it wraps white-box (gradient) attacks only", item=attack.name
            )
        check_budget("samples", samples, positive=True, integer=True)
        super().__init__(attack.model, targeted=attack.targeted, seed=attack.seed)
        self.inner = copy.copy(attack)
        self.inner.generator = _copy_generator(attack.generator)
        self.inner.gradient_samples = attack.gradient_samples * samples
        self.samples = samples
        self.name = f"eot-{attack.name}"
        self.min_image_dims = attack.min_image_dims

    def perturb(self, x: Tensor, y: Tensor) -> Tensor:
        """The wrapped attack on inputs this call already validated; its gradient calls count here."""
        self.inner._counter = self._counter  # one cost counter: the inner attack adds to it in place
        try:
            return self.inner.perturb(x, y)
        finally:
            self.inner._counter = None

    def budget(self) -> dict[str, object]:
        return {**self.inner.budget(), "eot_samples": self.samples}


def _copy_generator(source: torch.Generator) -> torch.Generator:
    generator = torch.Generator()
    generator.set_state(source.get_state())
    return generator
