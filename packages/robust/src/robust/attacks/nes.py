"""NES: black-box attacks from natural-evolution-strategies gradient estimates (Ilyas, Engstrom,
Athalye & Lin, ICML 2018), in the query-limited setting, with the low-frequency variant of Guo et al.

The gradient of the expected loss under a Gaussian search distribution is estimated from
antithetic pairs ``u_i, -u_i`` (the paper's eq. 3 with antithetic sampling)::

    g = 1 / (2 n sigma) * sum_i [F(x + sigma u_i) - F(x - sigma u_i)] u_i,

where ``F`` uses only the model's output probabilities: ``-log p_y`` untargeted, ``log p_t``
targeted. Each step is a signed L-inf step of size `alpha`, projected onto the eps-ball and [0, 1]
(the paper's PGD on the estimate). Each example stops as soon as it succeeds; its cost is the
number of model queries it used (``2 n`` per estimate plus one to check success), up to
`max_queries`. With ``frequency="low"`` the directions ``u_i`` are low-frequency DCT noise
(`robust.attacks.dct.low_frequency_noise`), Guo et al.'s LF-NES.

Defaults follow Ilyas et al.'s ImageNet settings scaled to small images: sigma 0.001, 50 samples
(25 antithetic pairs) per estimate, alpha 0.01, 10,000 queries; eps is the task's L-inf budget.

Ilyas et al.'s two weaker threat models are ``setting="partial"`` and ``setting="label-only"``:

* partial information: the black box returns only the ``top_k`` largest probabilities. ``F`` is
  ``-log p_y`` (``log p_t`` targeted) when that class is among them; otherwise only ``p_y <= p_k``
  (the k-th largest) is known, and ``-log p_k`` (``log p_k``) stands in, the bound on the same side.
* label-only: the black box returns only the ``top_k`` labels, in order. ``F`` is Ilyas et al.'s
  discretised score ``R(x) = k - rank`` of the class (0 when absent; negated untargeted), smoothed
  by averaging it over ``label_samples`` draws of uniform noise in ``[-mu, mu]`` (their
  ``S(x) = E R(x + delta)``), so each value costs ``label_samples`` queries.

Not implemented from the paper: the targeted partial-information schedule that starts from an
image of the target class and shrinks eps while keeping the target in the top k; the attack here
always starts from ``x`` inside its eps-ball.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.attacks.base import Attack, check_budget
from robust.attacks.dct import low_frequency_noise, low_frequency_side
from robust.attacks.norms import project

__all__ = ["NES", "nes_gradient"]


def nes_gradient(
    score: Callable[[Tensor], Tensor],
    x: Tensor,
    pairs: int,
    sigma: float,
    draw: Callable[[tuple[int, ...]], Tensor],
) -> Tensor:
    """Antithetic NES estimate of ``grad score(x)`` for each example of ``x (n, ...)``.

    Args:
        score: ``(m, ...) -> (m,)`` values to ascend (one model query per row).
        pairs: antithetic pairs per example (``2 * pairs`` queries each).
        sigma: search standard deviation (pixels).
        draw: ``shape -> Tensor`` of search directions (standard Gaussian, or low-frequency).

    Returns:
        ``(n, ...)`` the estimate.
    """
    n = len(x)
    u = draw((pairs, *x.shape)).to(x.device, x.dtype)  # (pairs, n, ...)
    points = torch.cat([x[None] + sigma * u, x[None] - sigma * u])  # (2 pairs, n, ...)
    values = score(points.reshape(2 * pairs * n, *x.shape[1:])).reshape(2 * pairs, n)
    difference = values[:pairs] - values[pairs:]  # (pairs, n)
    weights = difference.view(pairs, n, *([1] * (x.ndim - 1)))
    return (weights * u).sum(0) / (2 * pairs * sigma)


class NES(Attack):
    """Query-limited NES (``frequency="full"``) or LF-NES (``frequency="low"``), L-inf.

    Args:
        eps: L-inf budget.
        alpha: step size of the signed step.
        samples: queries per gradient estimate (antithetic: ``samples // 2`` pairs; even, >= 2).
        sigma: search standard deviation.
        max_queries: query budget per example.
        frequency: ``"full"`` (pixel-space Gaussian) or ``"low"`` (low-frequency DCT noise).
        ratio: the low-frequency block's side as a fraction of the image side.
        targeted, seed: see `Attack`.

    Cost: model queries per example (``cost_unit = "queries"``).
    """

    name = "nes"
    cost_unit = "queries"

    def __init__(
        self,
        model: nn.Module,
        eps: float = 0.05,
        alpha: float = 0.01,
        samples: int = 50,
        sigma: float = 0.001,
        max_queries: int = 10_000,
        frequency: Literal["full", "low"] = "full",
        ratio: float = 0.25,
        setting: Literal["query-limited", "partial", "label-only"] = "query-limited",
        top_k: int = 1,
        label_samples: int = 50,
        mu: float = 0.001,
        *,
        targeted: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(model, targeted=targeted, seed=seed)
        check_budget("eps", eps)
        check_budget("alpha", alpha, positive=True)
        check_budget("samples", samples, positive=True, integer=True)
        check_budget("sigma", sigma, positive=True)
        check_budget("max_queries", max_queries, positive=True, integer=True)
        if samples < 2 or samples % 2:
            raise InputError(
                "samples must be an even number >= 2 (antithetic pairs)", item=f"samples={samples}"
            )
        if frequency not in ("full", "low"):
            raise InputError("frequency must be 'full' or 'low'", item=f"frequency={frequency!r}")
        low_frequency_side(8, ratio)  # validates the ratio
        if setting not in ("query-limited", "partial", "label-only"):
            raise InputError(
                "unknown setting",
                item=f"setting={setting!r}",
                expected="'query-limited', 'partial' or 'label-only'",
            )
        check_budget("top_k", top_k, positive=True, integer=True)
        check_budget("label_samples", label_samples, positive=True, integer=True)
        check_budget("mu", mu)
        self.setting, self.top_k, self.label_samples, self.mu = setting, top_k, label_samples, float(mu)
        self.eps, self.alpha, self.samples, self.sigma = float(eps), float(alpha), samples, float(sigma)
        self.max_queries, self.frequency, self.ratio = max_queries, frequency, float(ratio)

    def score(self, x: Tensor, y: Tensor) -> Tensor:
        """``(m,)`` the value NES ascends, from what the setting reveals (see the module docstring)."""
        if self.setting == "label-only":
            return self._label_score(x, y)
        probabilities = self.probabilities(x)
        if self.setting == "partial":
            k = min(self.top_k, probabilities.shape[1])
            top = probabilities.topk(k, dim=1)
            shown = (top.indices == y[:, None]).any(1)
            chosen = torch.where(shown, probabilities.gather(1, y[:, None])[:, 0], top.values[:, -1])
        else:
            chosen = probabilities.gather(1, y[:, None])[:, 0]
        chosen = chosen.clamp_min(1e-30).log()
        return chosen if self.targeted else -chosen

    def _label_score(self, x: Tensor, y: Tensor) -> Tensor:
        """Ilyas et al.'s smoothed discretised score from the top-k labels alone, ``(m,)``."""
        k = min(self.top_k, self.logits(x[:1]).shape[1])
        total = torch.zeros(len(x), dtype=x.dtype, device=x.device)
        for _ in range(self.label_samples):
            noise = (2 * torch.rand(*x.shape, generator=self.generator) - 1).to(x.device, x.dtype) * self.mu
            with torch.no_grad():
                labels = self.logits((x + noise).clamp(0.0, 1.0)).topk(k, dim=1).indices  # (m, k), best first
            match = labels == y[:, None]
            rank = torch.where(match.any(1), match.float().argmax(1).to(x.dtype), torch.full_like(total, k))
            total += k - rank  # k for the top label, 0 when absent
        value = total / self.label_samples
        return value if self.targeted else -value

    def probabilities(self, x: Tensor) -> Tensor:
        """The black box's answer ``(m, classes)`` (queries are charged by `perturb`)."""
        with torch.no_grad():
            return torch.softmax(self.logits(x), dim=1)

    def _draw(self, shape: tuple[int, ...]) -> Tensor:
        if self.frequency == "low":
            return low_frequency_noise(shape, self.ratio, self.generator)
        return torch.randn(*shape, generator=self.generator)

    def _success(self, x: Tensor, y: Tensor) -> Tensor:
        predicted = self.probabilities(x).argmax(1)
        return predicted == y if self.targeted else predicted != y

    def perturb(self, x: Tensor, y: Tensor) -> Tensor:
        pairs = self.samples // 2
        per_value = self.label_samples if self.setting == "label-only" else 1
        per_step = 2 * pairs * per_value + 1  # one estimate and one check of success
        x_adv = x.clone()
        active = ~self._success(x, y)  # first query: is it already misclassified?
        used = torch.ones(len(x), dtype=torch.long)
        while True:
            running = active.cpu() & (used + per_step <= self.max_queries)
            index = running.nonzero()[:, 0]
            if len(index) == 0:
                break
            device_index = index.to(x.device)
            current, labels = x_adv[device_index], y[device_index]
            repeated = labels.repeat(2 * pairs)
            grad = nes_gradient(
                lambda points, targets=repeated: self.score(points, targets),
                current,
                pairs,
                self.sigma,
                self._draw,
            )
            stepped = project(x[device_index], current + self.alpha * grad.sign(), self.eps, "linf")
            x_adv[device_index] = stepped
            used[index] += per_step
            done = self._success(stepped, labels)
            active[device_index[done]] = False
        self._charge_counts(used)
        return x_adv

    def _charge_counts(self, used: Tensor) -> None:
        if self._counter is not None:
            self._counter += used

    def budget(self) -> dict[str, object]:
        return {
            "norm": "linf",
            "eps": self.eps,
            "alpha": self.alpha,
            "samples": self.samples,
            "sigma": self.sigma,
            "max_queries": self.max_queries,
            "frequency": self.frequency,
            "ratio": self.ratio,
            "setting": self.setting,
            "top_k": self.top_k,
            "label_samples": self.label_samples,
            "mu": self.mu,
        }
