"""Gradient estimators for ``sum_b E_{z ~ q_b}[f_b(z)]`` with one call signature.

Every estimator is called as ``estimator(logits, objective, num_samples=N, generator=g)`` and returns
an `Estimate` whose ``loss`` is a scalar *surrogate*: ``loss.backward()`` deposits the gradient estimate
in the logits (and in whatever parameters the objective uses), and ``loss.item()`` is the estimate of
the objective's value. So any estimator plugs into any torch optimiser.

The objective receives ``z`` of shape ``(S, B, K)`` (one-hot vectors, or relaxed ones for the
Gumbel-softmax family) and returns ``(S, B)``: one value per draw and row.

Estimators that draw samples implement `SampleEstimator.per_sample`: the surrogate of the
single-sample estimator ``g(z)`` at given categories. `gradest.rao_blackwell.RaoBlackwellized` uses it
to sum ``q(z) g(z)`` exactly over the top-k categories.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from core.errors import InputError
from gradest.categorical import check_logits, conditional_gumbel, gumbel_noise, sample_categories

__all__ = [
    "Estimate",
    "Estimator",
    "Exact",
    "GumbelSoftmax",
    "Objective",
    "Reinforce",
    "ReinforceLeaveOneOut",
    "SampleEstimator",
    "SampleTerms",
    "evaluate_objective",
]

Objective = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class Estimate:
    """What every estimator returns.

    Attributes:
        loss: scalar surrogate; its gradient is the estimate, its value equals ``value``.
        value: detached scalar estimate of ``sum_b E_{q_b}[f_b]`` (biased for relaxed estimators).
        evaluations: objective evaluations spent per row.
    """

    loss: Tensor
    value: Tensor
    evaluations: int


@dataclass(frozen=True)
class SampleTerms:
    """Per-draw pieces of a single-sample estimator.

    Attributes:
        surrogate: ``(S, B)``; the gradient of ``surrogate[s, b]`` is ``g(z_{s,b})``.
        value: ``(S, B)`` detached objective value at the draw.
        logit_grad: ``(S, B, K)`` the logits part of ``g`` kept differentiable in the control-variate
            parameters (REBAR/RELAX), else None.
    """

    surrogate: Tensor
    value: Tensor
    logit_grad: Tensor | None = None


def evaluate_objective(objective: Objective, z: Tensor) -> Tensor:
    """Call `objective` on ``z (S, B, K)`` and check it returns one finite value per draw and row.

    Raises:
        InputError: a non-tensor, a wrong shape (e.g. a non-scalar objective per draw) or a NaN/inf.
    """
    num_draws, rows = z.shape[0], z.shape[1]
    out = objective(z)
    if not isinstance(out, Tensor):
        raise InputError("the objective must return a tensor", item=type(out).__name__)
    if rows == 1 and out.shape == (num_draws,):
        out = out.unsqueeze(1)
    if out.shape != (num_draws, rows):
        raise InputError(
            "the objective must return one scalar per draw and row",
            item=f"returned shape {tuple(out.shape)} for z of shape {tuple(z.shape)}",
            expected=f"shape ({num_draws}, {rows})",
        )
    if not bool(torch.isfinite(out.detach()).all()):
        raise InputError(
            "the objective returned a non-finite value", item=out.detach().flatten()[:5].tolist()
        )
    return out


def _check_num_samples(
    num_samples: int, minimum: int = 1, name: str = "this estimator", why: str = ""
) -> None:
    if not isinstance(num_samples, int) or isinstance(num_samples, bool):
        raise InputError("num_samples must be an integer", item=repr(num_samples), expected=f">= {minimum}")
    if num_samples < minimum:
        raise InputError(
            f"{name} needs at least {minimum} draw{'s' if minimum > 1 else ''} per row{why}",
            item=f"num_samples = {num_samples}",
            expected=f"num_samples >= {minimum}",
        )


def combine(weights: Tensor, terms: SampleTerms) -> tuple[Tensor, Tensor]:
    """``(surrogate, value)`` rows ``(B,)``: the weighted sums over draws, ``weights`` ``(S, B)`` detached."""
    return (weights * terms.surrogate).sum(0), (weights * terms.value).sum(0)


def finish(surrogate_rows: Tensor, value_rows: Tensor, evaluations: int) -> Estimate:
    """Sum over rows; shift the surrogate so that ``loss`` has the estimate's value."""
    surrogate = surrogate_rows.sum()
    value = value_rows.sum().detach()
    return Estimate(loss=value + (surrogate - surrogate.detach()), value=value, evaluations=evaluations)


class Estimator(ABC):
    """Base class: ``__call__(logits (B, K) or (K,), objective, num_samples, generator) -> Estimate``."""

    name = "estimator"
    unbiased = True

    @abstractmethod
    def __call__(
        self,
        logits: Tensor,
        objective: Objective,
        num_samples: int = 1,
        generator: torch.Generator | None = None,
    ) -> Estimate:
        """Estimate the gradient of ``sum_b E_{q_b}[f_b]``; see the module docstring."""

    def state_dict(self) -> dict:
        """Learned or running state (baselines, control variates) for checkpoints; empty when stateless."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what `state_dict` returned (a stateless estimator accepts only an empty state)."""
        if state:
            raise InputError(f"estimator {self.name!r} keeps no state", item=sorted(state))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class Exact(Estimator):
    """The exact gradient by enumerating all K categories (Liu et al. 2019, eq. 2).

    ``loss = sum_b sum_k q_b(k) f_b(e_k)``; costs K evaluations per row. The reference for all tests.
    `num_samples` and `generator` are ignored.

    Memory is O(K B): the objective is called on chunks of ``c`` categories at a time, ``z`` of shape
    ``(c, B, K)`` with ``c B K <= max(K B, chunk_elements)``, never on all K one-hots at once (a
    ``(K, B, K)`` tensor is 8 GB at K = 2000, B = 500). What the objective keeps for backward (when
    ``f`` has parameters of its own) is the objective's.

    Args:
        chunk_elements: the largest one-hot block ``c B K`` handed to the objective in one call.
    """

    name = "exact"

    def __init__(self, chunk_elements: int = 1 << 20) -> None:
        if not isinstance(chunk_elements, int) or chunk_elements < 1:
            raise InputError("chunk_elements must be a positive integer", item=chunk_elements)
        self.chunk_elements = chunk_elements

    def __call__(self, logits, objective, num_samples=1, generator=None):
        logits = check_logits(logits)
        rows, k = logits.shape
        probs = torch.softmax(logits, -1)
        chunk = max(1, self.chunk_elements // (rows * k))
        # f(e_j) for every category j, (K, B). Values that carry no graph are written into one buffer, so
        # nothing small outlives a chunk's temporaries (interleaved small survivors fragment the heap: the
        # peak RSS at K = 2000, B = 500 was 7.6 GB with per-chunk products kept for backward, 30 MB without).
        table = torch.empty(k, rows, dtype=logits.dtype, device=logits.device)
        pieces: list[Tensor] = []  # per chunk: its values when they carry a graph, else a view of `table`
        for start in range(0, k, chunk):
            stop = min(start + chunk, k)
            categories = torch.arange(start, stop, device=logits.device)
            z = F.one_hot(categories, k).to(logits.dtype).unsqueeze(1).expand(stop - start, rows, k)
            values = evaluate_objective(objective, z)  # (c, B)
            if values.requires_grad:  # f has parameters of its own: keep the graph
                pieces.append(values)
            else:
                table[start:stop] = values
                pieces.append(table[start:stop])
            del values, z
        graph = any(piece.requires_grad for piece in pieces)
        values = torch.cat(pieces, 0) if graph else table
        expected = (probs.transpose(0, 1) * values).sum(0)
        return finish(expected, expected.detach(), k)


class SampleEstimator(Estimator):
    """An estimator that averages a single-sample estimator ``g(z)`` over `num_samples` draws."""

    evaluations_per_sample = 1
    min_samples = 1
    uses_noise = False
    """Whether the single-sample estimator uses the Gumbel noise behind a draw (relaxations, REBAR)."""

    @abstractmethod
    def per_sample(
        self,
        logits: Tensor,
        objective: Objective,
        categories: Tensor,
        noise: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> SampleTerms:
        """The single-sample estimator at ``categories (S, B)``.

        Args:
            logits: ``(B, K)``.
            categories: ``(S, B)`` long; the draws z.
            noise: ``(S, B, K)`` Gumbel noise with ``argmax(log q + noise) == categories``, when the
                categories were drawn by Gumbel-max; estimators that need noise draw it conditionally
                on the categories otherwise.
        """

    def observe(self, values: Tensor) -> None:
        """Hook called with the ``(S, B)`` objective values after each estimate (baselines)."""

    def after_estimate(self, logits: Tensor, logit_grad: Tensor | None) -> None:
        """Hook called with the combined differentiable logits gradient (control-variate tuning)."""

    def __call__(self, logits, objective, num_samples=1, generator=None):
        logits = check_logits(logits)
        _check_num_samples(num_samples, self.min_samples, self.name)
        if self.uses_noise:  # Gumbel-max: the categories and the noise they came from
            log_probs = torch.log_softmax(logits.detach(), -1)
            noise = gumbel_noise((num_samples, *logits.shape), logits, generator)
            categories = torch.argmax(log_probs + noise, -1)
        else:
            noise = None
            categories = sample_categories(torch.softmax(logits.detach(), -1), num_samples, generator)
        terms = self.per_sample(logits, objective, categories, noise=noise, generator=generator)
        weights = torch.full_like(terms.value, 1.0 / num_samples)
        surrogate, value = combine(weights, terms)
        self.observe(terms.value)
        if terms.logit_grad is not None:
            self.after_estimate(logits, (weights.unsqueeze(-1) * terms.logit_grad).sum(0))
        return finish(surrogate, value, num_samples * self.evaluations_per_sample)


def _one_hot(categories: Tensor, logits: Tensor) -> Tensor:
    return F.one_hot(categories, logits.shape[-1]).to(logits.dtype)


def _log_prob_at(logits: Tensor, categories: Tensor) -> Tensor:
    log_probs = torch.log_softmax(logits, -1).expand(*categories.shape, logits.shape[-1])
    return torch.gather(log_probs, -1, categories.unsqueeze(-1)).squeeze(-1)


class Reinforce(SampleEstimator):
    """REINFORCE / score function: ``g(z) = (f(z) - c) grad log q(z) + grad f(z)`` (Williams 1992).

    Args:
        baseline: ``"none"`` (c = 0) or ``"moving-average"``: c is an exponential moving average of
            the objective values of *earlier* calls (so it is independent of the current draw and the
            estimator stays unbiased).
        decay: the moving average's decay.
    """

    def __init__(self, baseline: str = "none", decay: float = 0.9) -> None:
        if baseline not in ("none", "moving-average"):
            raise InputError("unknown baseline", item=baseline, expected="'none' or 'moving-average'")
        if not 0.0 <= decay < 1.0:
            raise InputError("decay must lie in [0, 1)", item=decay)
        self.baseline = baseline
        self.decay = decay
        self.baseline_value = 0.0
        self._seen = False
        self.name = "reinforce" if baseline == "none" else "reinforce-ma"

    def per_sample(self, logits, objective, categories, noise=None, generator=None):
        values = evaluate_objective(objective, _one_hot(categories, logits))
        centred = (values - self.baseline_value).detach()
        surrogate = values + centred * _log_prob_at(logits, categories)
        return SampleTerms(surrogate=surrogate, value=values.detach())

    def state_dict(self) -> dict:
        return {"baseline_value": float(self.baseline_value), "seen": self._seen}

    def load_state_dict(self, state: dict) -> None:
        self.baseline_value, self._seen = float(state["baseline_value"]), bool(state["seen"])

    def observe(self, values: Tensor) -> None:
        if self.baseline != "moving-average":
            return
        mean = float(values.mean())
        if not self._seen:
            self.baseline_value, self._seen = mean, True
        else:
            self.baseline_value = self.decay * self.baseline_value + (1.0 - self.decay) * mean


class ReinforceLeaveOneOut(Estimator):
    """REINFORCE with the leave-one-out baseline (Kool et al. 2019; Mnih & Rezende 2016's VIMCO form).

    With S >= 2 draws, draw s uses the mean objective of the other S - 1 draws as its baseline.
    Multi-sample by construction, so it has no single-sample form to Rao-Blackwellize.
    """

    name = "reinforce-loo"

    def __call__(self, logits, objective, num_samples=2, generator=None):
        logits = check_logits(logits)
        _check_num_samples(
            num_samples, 2, self.name, why=": each draw's baseline is the mean of the other draws"
        )
        categories = sample_categories(torch.softmax(logits.detach(), -1), num_samples, generator)
        values = evaluate_objective(objective, _one_hot(categories, logits))
        total = values.detach().sum(0, keepdim=True)
        baseline = (total - values.detach()) / (num_samples - 1)
        surrogate = values + (values.detach() - baseline) * _log_prob_at(logits, categories)
        return finish(surrogate.mean(0), values.detach().mean(0), num_samples)


class GumbelSoftmax(SampleEstimator):
    """Gumbel-softmax / concrete relaxation (Jang et al. 2017; Maddison et al. 2017). Biased.

    ``y = softmax((log q + G) / tau)``; soft: the objective is evaluated at y and differentiated through
    it. Straight-through: the forward pass uses ``one_hot(argmax)`` and the backward pass the soft y.

    Args:
        temperature: tau > 0 (the bias vanishes as tau -> 0 while the variance grows).
        straight_through: use the straight-through variant.
    """

    unbiased = False
    uses_noise = True

    def __init__(self, temperature: float = 0.5, straight_through: bool = False) -> None:
        if not temperature > 0.0:
            raise InputError("temperature must be positive", item=temperature)
        self.temperature = float(temperature)
        self.straight_through = straight_through
        self.name = "gumbel-st" if straight_through else "gumbel-soft"

    def per_sample(self, logits, objective, categories, noise=None, generator=None):
        log_probs = torch.log_softmax(logits, -1)
        if noise is None:
            perturbed = conditional_gumbel(log_probs.detach(), categories, generator)
            noise = perturbed - log_probs.detach()
        soft = torch.softmax((log_probs + noise) / self.temperature, -1)
        if self.straight_through:
            z = _one_hot(categories, logits) + soft - soft.detach()
        else:
            z = soft
        values = evaluate_objective(objective, z)
        return SampleTerms(surrogate=values, value=values.detach())
