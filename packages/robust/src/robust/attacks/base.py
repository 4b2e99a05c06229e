"""The `Attack` base class: a torchattacks-like callable ``attack(x, y) -> x_adv`` with a cost.

Every attack is built with its model and budget and called on a batch::

    attack = PGD(model, eps=0.3, alpha=0.01, steps=40)
    x_adv = attack(x, y)          # (n, c, h, w) in [0, 1]
    attack.cost_                  # (n,) gradient calls (white-box) or model queries (black-box)

The call validates its inputs (floating images in [0, 1], integer labels within the model's
classes, a model that returns one ``(n, classes)`` tensor; this takes one forward pass that is
not charged to the attack's cost, as it only reveals the number of classes), runs with the model in eval mode and
its parameters frozen, and restores the model exactly (`robust.guard.evaluation_mode`). Randomness
(random starts, input diversity, search directions) comes from the attack's own generator, seeded
by its ``seed`` argument, so a run is reproducible without touching torch's global state; draws are
made on the CPU, so results do not depend on the device.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.guard import evaluation_mode

__all__ = ["Attack", "check_budget"]


def check_budget(name: str, value: float, *, positive: bool = False, integer: bool = False) -> None:
    """Refuse a budget value that is negative (or not positive, or not an integer), naming it.

    Raises:
        InputError: naming the parameter and its value.
    """
    if integer and (isinstance(value, bool) or not isinstance(value, int)):
        raise InputError(f"{name} must be an integer", item=f"{name}={value!r}")
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise InputError(f"{name} must be a number", item=f"{name}={value!r}")
    if positive and not value > 0:
        raise InputError(f"{name} must be > 0", item=f"{name}={value}")
    if not positive and value < 0:
        raise InputError(f"{name} must be >= 0", item=f"{name}={value}")


class Attack(ABC):
    """Base class of every attack.

    Subclasses set `name` and `cost_unit` and implement `perturb`. They may use `loss_gradient`
    (white-box: one gradient call per example per use, times `gradient_samples` under EOT) or
    `query` (black-box: counts one query per example per use).

    Args:
        model: a classifier ``(n, c, h, w) -> (n, classes)`` logits.
        targeted: when True, ``y`` holds target classes and the attack pushes towards them.
        seed: seeds the attack's generator.

    Attributes:
        cost_: after a call, ``(n,)`` int64: gradient calls or queries spent on each example.
    """

    name: ClassVar[str] = "attack"
    cost_unit: ClassVar[str] = "gradients"
    min_image_dims: ClassVar[int] = 2

    def __init__(self, model: nn.Module, *, targeted: bool = False, seed: int = 0) -> None:
        if not callable(model):
            raise InputError("model must be a callable torch module", item=type(model).__name__)
        check_budget("seed", seed, integer=True)
        self.model = model
        self.targeted = bool(targeted)
        self.seed = seed
        self.generator = torch.Generator().manual_seed(seed)
        self.gradient_samples = 1
        self.cost_: Tensor | None = None
        self._counter: Tensor | None = None

    # --- the public call -------------------------------------------------------------------

    def __call__(self, x: Tensor, y: Tensor) -> Tensor:
        """Adversarial examples for images ``x (n, ...)`` in [0, 1] and labels ``y (n,)``.

        Raises:
            InputError: images that are not floating point, not finite, outside [0, 1] or of too
                few dimensions; labels of the wrong shape, dtype or range; a model output that is
                not one ``(n, classes)`` tensor.
        """
        self._check_images(x)
        module = self.model if isinstance(self.model, nn.Module) else nn.Module()
        with evaluation_mode(module):
            with torch.no_grad():  # the class count from one image: a whole-batch pass doubled FGSM's cost
                classes = self.logits(x[:1]).shape[1]
            self._check_labels(y, len(x), classes)
            self._counter = torch.zeros(len(x), dtype=torch.long)
            x_adv = self.perturb(x.detach(), y.detach().long())
        self.cost_ = self._counter
        self._counter = None
        return x_adv.detach()

    @abstractmethod
    def perturb(self, x: Tensor, y: Tensor) -> Tensor:
        """The attack itself on validated inputs (model already in eval mode); returns ``x_adv``."""

    # --- what subclasses use ---------------------------------------------------------------

    def logits(self, x: Tensor) -> Tensor:
        """The model's output on ``x``, checked to be one ``(n, classes)`` tensor."""
        out = self.model(x)
        if isinstance(out, tuple | list):
            raise InputError(
                f"the model returned a {type(out).__name__}; attacks need one (n, classes) logits tensor",
                expected="wrap the model so that forward returns only the logits",
            )
        if not isinstance(out, Tensor):
            raise InputError("the model must return a tensor of logits", item=type(out).__name__)
        if out.ndim != 2 or out.shape[0] != x.shape[0]:
            raise InputError(
                f"the model returned shape {tuple(out.shape)} for {x.shape[0]} images",
                expected="(n, classes) logits",
            )
        return out

    def loss(self, logits: Tensor, y: Tensor) -> Tensor:
        """Per-example loss the attack ascends: cross-entropy, negated for targeted attacks. ``(n,)``."""
        value = nn.functional.cross_entropy(logits, y, reduction="none")
        return -value if self.targeted else value

    def input_transform(self, x: Tensor) -> Tensor:
        """A transform applied before the model inside gradient calls (identity; DI-FGSM overrides)."""
        return x

    def loss_gradient(self, x: Tensor, y: Tensor, active: Tensor | None = None) -> Tensor:
        """Gradient of `loss` with respect to ``x``, averaged over `gradient_samples` draws (EOT).

        Args:
            x: ``(n, ...)`` current images.
            y: ``(n,)`` labels (targets when targeted).
            active: ``(n,)`` bool, the examples charged for this call (default: all).
        """
        total = torch.zeros_like(x)
        for _ in range(self.gradient_samples):
            point = x.detach().requires_grad_(True)
            value = self.loss(self.logits(self.input_transform(point)), y).sum()
            (grad,) = torch.autograd.grad(value, point)
            total += grad
        self._charge(self.gradient_samples, active)
        return total / self.gradient_samples

    def query(self, x: Tensor, active: Tensor | None = None) -> Tensor:
        """Black-box access: the model's probabilities ``(n, classes)``, no gradient, one query each."""
        with torch.no_grad():
            probabilities = torch.softmax(self.logits(x), dim=1)
        self._charge(1, active)
        return probabilities

    def predict(self, x: Tensor) -> Tensor:
        """Predicted classes ``(n,)`` (a check of the attack's progress, not charged as a query)."""
        with torch.no_grad():
            return self.logits(x).argmax(1)

    def succeeded(self, x_adv: Tensor, y: Tensor) -> Tensor:
        """``(n,)`` bool: misclassified (untargeted) or classified as the target (targeted)."""
        predicted = self.predict(x_adv)
        return predicted == y if self.targeted else predicted != y

    def rand(self, *shape: int, like: Tensor) -> Tensor:
        """Uniform [0, 1) draws from the attack's generator, on ``like``'s device and dtype."""
        return torch.rand(*shape, generator=self.generator).to(like.device, like.dtype)

    def randn(self, *shape: int, like: Tensor) -> Tensor:
        """Standard normal draws from the attack's generator, on ``like``'s device and dtype."""
        return torch.randn(*shape, generator=self.generator).to(like.device, like.dtype)

    def randint(self, low: int, high: int) -> int:
        """One integer in [low, high) from the attack's generator."""
        return int(torch.randint(low, high, (1,), generator=self.generator))

    def budget(self) -> dict[str, object]:
        """The attack's budget as a JSON-able dict (for result tables)."""
        return {}

    def __repr__(self) -> str:
        items = ", ".join(f"{key}={value!r}" for key, value in self.budget().items())
        return f"{type(self).__name__}({items})"

    # --- internals ---------------------------------------------------------------------------

    def _charge(self, count: int, active: Tensor | None) -> None:
        if self._counter is None:
            return
        if active is None:
            self._counter += count
        else:
            self._counter += count * active.to(self._counter.device, torch.long).cpu()

    def _check_images(self, x: Tensor) -> None:
        if not isinstance(x, Tensor):
            raise InputError("images must be a torch tensor", item=type(x).__name__)
        if x.ndim < self.min_image_dims:
            raise InputError(
                f"images must have at least {self.min_image_dims} dimensions (n, ...) for {self.name}",
                item=f"shape {tuple(x.shape)}",
            )
        if len(x) == 0:
            raise InputError("no images given", item=f"shape {tuple(x.shape)}")
        if not x.is_floating_point():
            raise InputError("images must be floating point in [0, 1]", item=f"dtype {x.dtype}")
        if not bool(torch.isfinite(x).all()):
            raise InputError("images contain NaN or inf")
        low, high = float(x.min()), float(x.max())
        if low < 0.0 or high > 1.0:
            raise InputError(
                "images must lie in [0, 1]",
                item=f"range [{low:.4g}, {high:.4g}]",
                expected="scale pixels to [0, 1]",
            )

    def _check_labels(self, y: Tensor, n: int, classes: int) -> None:
        if not isinstance(y, Tensor):
            raise InputError("labels must be a torch tensor", item=type(y).__name__)
        if y.shape != (n,):
            raise InputError(f"labels must have shape ({n},) for {n} images", item=f"shape {tuple(y.shape)}")
        if y.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
            raise InputError("labels must be integer class indices", item=f"dtype {y.dtype}")
        low, high = int(y.min()), int(y.max())
        if low < 0 or high >= classes:
            bad = low if low < 0 else high
            raise InputError(
                f"label {bad} out of range for a model with {classes} classes", expected=f"0..{classes - 1}"
            )
