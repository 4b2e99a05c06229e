"""The boundary attack (Brendel, Rauber & Bethge, ICLR 2018) and its low-frequency variant (Guo et al. 2019).

A decision-based attack: it sees only the predicted label. It starts from an adversarial point
(uniform noise that is misclassified, then a binary search towards ``x`` along the line between
them) and walks along the decision boundary towards ``x``. Each step draws a direction ``eta``
(standard Gaussian, or low-frequency DCT noise for ``frequency="low"``), makes it orthogonal to
``x - x_adv`` and scales it to ``spherical_step * d`` (``d = ||x - x_adv||_2``), projects the
moved point back onto the sphere of radius ``d`` around ``x`` (query 1), then moves it a fraction
``source_step`` towards ``x`` (query 2). The candidate replaces ``x_adv`` when it is still
adversarial. As in the paper, both step sizes adapt every `adapt_every` steps: each is multiplied by
`step_adaptation` when its candidates succeeded more than half of the time (spherical) or more than
a quarter (source step), and divided by it when below a fifth, so the walk stays at the boundary.
Defaults are the paper's (spherical 0.01, source 0.01, adaptation 1.5).

``cost_`` counts every model query (initialisation, binary search, two per step). After a call,
``trace_`` holds ``(queries (n,), l2 distance (n,))`` after every step (distance inf where no
adversarial start was found), for success-vs-queries curves.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.attacks.base import Attack, check_budget
from robust.attacks.dct import low_frequency_noise, low_frequency_side
from robust.attacks.norms import l2_norm

__all__ = ["BoundaryAttack"]


def _view(values: Tensor, like: Tensor) -> Tensor:
    return values.view(-1, *([1] * (like.ndim - 1)))


class BoundaryAttack(Attack):
    """Untargeted boundary attack in L2; ``frequency="low"`` searches low DCT frequencies (LF-BA).

    Args:
        max_queries: query budget per example (initialisation included).
        spherical_step, source_step: initial step sizes (relative to the current distance).
        step_adaptation: factor by which the step sizes adapt.
        adapt_every: steps between adaptations.
        init_tries: uniform-noise draws tried to find an adversarial starting point.
        search_steps: binary-search steps from the noise towards ``x``.
        frequency, ratio: pixel-space or low-frequency directions (block side ``ratio * side``).
        seed: see `Attack`.
    """

    name = "boundary"
    cost_unit = "queries"

    def __init__(
        self,
        model: nn.Module,
        max_queries: int = 5000,
        spherical_step: float = 0.01,
        source_step: float = 0.01,
        step_adaptation: float = 1.5,
        adapt_every: int = 10,
        init_tries: int = 50,
        search_steps: int = 10,
        frequency: Literal["full", "low"] = "full",
        ratio: float = 0.25,
        *,
        seed: int = 0,
    ) -> None:
        super().__init__(model, targeted=False, seed=seed)
        for name, value in (
            ("max_queries", max_queries),
            ("adapt_every", adapt_every),
            ("init_tries", init_tries),
        ):
            check_budget(name, value, positive=True, integer=True)
        check_budget("search_steps", search_steps, integer=True)
        for name, value in (("spherical_step", spherical_step), ("source_step", source_step)):
            check_budget(name, value, positive=True)
        if not step_adaptation > 1:
            raise InputError("step_adaptation must be > 1", item=f"step_adaptation={step_adaptation}")
        if frequency not in ("full", "low"):
            raise InputError("frequency must be 'full' or 'low'", item=f"frequency={frequency!r}")
        low_frequency_side(8, ratio)
        self.max_queries, self.adapt_every, self.init_tries, self.search_steps = (
            max_queries,
            adapt_every,
            init_tries,
            search_steps,
        )
        self.spherical_step, self.source_step, self.step_adaptation = (
            float(spherical_step),
            float(source_step),
            float(step_adaptation),
        )
        self.frequency, self.ratio = frequency, float(ratio)
        self.trace_: list[tuple[Tensor, Tensor]] = []

    def _adversarial(self, x: Tensor, y: Tensor) -> Tensor:
        with torch.no_grad():
            return self.logits(x).argmax(1) != y

    def _direction(self, shape: tuple[int, ...], like: Tensor) -> Tensor:
        if self.frequency == "low":
            return low_frequency_noise(shape, self.ratio, self.generator).to(like.device, like.dtype)
        return self.randn(*shape, like=like)

    def initialise(self, x: Tensor, y: Tensor, used: Tensor) -> tuple[Tensor, Tensor]:
        """An adversarial start for each example (and whether one was found), charging queries in `used`."""
        start = x.clone()
        found = torch.zeros(len(x), dtype=torch.bool, device=x.device)
        for _ in range(self.init_tries):
            if bool(found.all()):
                break
            noise = self.rand(*x.shape, like=x)
            hit = self._adversarial(noise, y) & ~found
            used += (~found).cpu().long()
            start[hit] = noise[hit]
            found |= hit
        low = torch.zeros(len(x), device=x.device)  # blend weight towards x that is known adversarial
        high = torch.ones(len(x), device=x.device)
        for _ in range(self.search_steps):
            middle = (low + high) / 2
            blend = (1 - _view(middle, x)) * start + _view(middle, x) * x
            hit = self._adversarial(blend, y)
            used += found.cpu().long()
            low = torch.where(hit & found, middle, low)
            high = torch.where(hit & found, high, middle)
        start = (1 - _view(low, x)) * start + _view(low, x) * x
        return start, found

    def perturb(self, x: Tensor, y: Tensor) -> Tensor:
        n = len(x)
        used = torch.zeros(n, dtype=torch.long)
        x_adv, found = self.initialise(x, y, used)
        spherical = torch.full((n,), self.spherical_step, device=x.device)
        source = torch.full((n,), self.source_step, device=x.device)
        spherical_hits = torch.zeros(n, device=x.device)
        source_hits = torch.zeros(n, device=x.device)
        unreached = torch.full((n,), float("inf"))

        def distances() -> Tensor:  # inf where no adversarial start was found
            return torch.where(found.cpu(), l2_norm(x_adv - x).cpu(), unreached)

        self.trace_ = [(used.clone(), distances())]
        step = 0
        while True:
            running = found.cpu() & (used + 2 <= self.max_queries)
            if not bool(running.any()):
                break
            active = running.to(x.device)
            delta = x - x_adv
            distance = _view(l2_norm(delta).clamp_min(1e-12), x)
            unit = delta / distance
            eta = self._direction(tuple(x.shape), x)
            eta = eta - _view((eta * unit).flatten(1).sum(1), x) * unit  # orthogonal to x - x_adv
            eta = eta / _view(l2_norm(eta).clamp_min(1e-12), x) * _view(spherical, x) * distance
            moved = x_adv + eta
            moved = x + (moved - x) * distance / _view(l2_norm(moved - x).clamp_min(1e-12), x)
            moved = moved.clamp(0.0, 1.0)
            candidate = (moved + _view(source, x) * (x - moved)).clamp(0.0, 1.0)
            on_sphere = self._adversarial(moved, y)
            accepted = self._adversarial(candidate, y) & active
            used += 2 * running.long()
            x_adv = torch.where(_view(accepted, x), candidate, x_adv)
            spherical_hits += (on_sphere & active).float()
            source_hits += accepted.float()
            step += 1
            if step % self.adapt_every == 0:
                spherical = self._adapt(spherical, spherical_hits / self.adapt_every, 0.5)
                source = self._adapt(source, source_hits / self.adapt_every, 0.25)
                spherical_hits.zero_()
                source_hits.zero_()
            self.trace_.append((used.clone(), distances()))
        if self._counter is not None:
            self._counter += used
        return torch.where(_view(found, x), x_adv, x)

    def _adapt(self, size: Tensor, rate: Tensor, target: float) -> Tensor:
        size = torch.where(rate > target, size * self.step_adaptation, size)
        return torch.where(rate < 0.2, size / self.step_adaptation, size).clamp(1e-6, 1.0)

    def budget(self) -> dict[str, object]:
        return {
            "norm": "l2",
            "max_queries": self.max_queries,
            "spherical_step": self.spherical_step,
            "source_step": self.source_step,
            "frequency": self.frequency,
            "ratio": self.ratio,
        }
