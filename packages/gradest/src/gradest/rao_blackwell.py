"""Rao-Blackwellized top-k gradient estimators (Liu, Regier, Tripuraneni, Jordan, McAuliffe; ICML 2019).

For a base single-sample estimator ``g`` (unbiased or not) and the set ``C_k`` of the k most probable
categories, the estimator (eq. 6)

    g_RB = sum_{z in C_k} q(z) g(z)  +  q(z not in C_k) * mean_{i=1..N-k} g(v_i),   v_i ~ q(. | not in C_k)

has the same expectation as ``g`` and variance at most ``q(z not in C_k) / (N - k)`` times the variance of
one base sample (Sec. 3). ``k`` defaults to the paper's choice for the budget N (`choose_k`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from core.errors import InputError
from gradest.categorical import check_logits, choose_k, sample_outside, top_k_split
from gradest.estimators import (
    Estimate,
    Estimator,
    Objective,
    SampleEstimator,
    _check_num_samples,
    combine,
    finish,
)

__all__ = ["RaoBlackwellized"]


class RaoBlackwellized(Estimator):
    """Rao-Blackwellize any `SampleEstimator`: sum exactly over the top k, sample the remainder.

    Args:
        base: the single-sample estimator to Rao-Blackwellize (REINFORCE, REINFORCE with a moving
            average baseline, Gumbel-softmax soft/straight-through, REBAR, RELAX).
        k: number of categories summed exactly, or ``"auto"`` for the paper's choice given the budget.

    Calling it with ``num_samples=N`` spends N draws' worth of evaluations per row: k summed, N - k
    sampled (none when k = K, which is the exact gradient).
    """

    def __init__(self, base: SampleEstimator, k: int | str = "auto") -> None:
        if not isinstance(base, SampleEstimator):
            raise InputError("the base of a Rao-Blackwellized estimator must draw single samples", item=base)
        if isinstance(k, str):
            if k != "auto":
                raise InputError("k must be an integer or 'auto'", item=k)
        elif not isinstance(k, int) or isinstance(k, bool) or k < 0:
            raise InputError("k must be a non-negative integer or 'auto'", item=k)
        self.base = base
        self.k = k
        self.unbiased = base.unbiased
        self.name = f"rb-{base.name}"

    def state_dict(self) -> dict:
        return {"base": self.base.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.base.load_state_dict(state["base"])

    def resolve_k(self, probs: Tensor, num_samples: int) -> int:
        """The k used for a budget of `num_samples` (checks k <= K and k < num_samples unless k == K)."""
        num_categories = probs.shape[-1]
        k = choose_k(probs, num_samples) if self.k == "auto" else int(self.k)
        if k > num_categories:
            raise InputError(
                "k is larger than the number of categories",
                item=f"k = {k}",
                expected=f"k <= K = {num_categories}",
            )
        if k < num_categories and num_samples - k < 1:
            raise InputError(
                "the sample budget must exceed k (at least one draw outside the top k)",
                item=f"num_samples = {num_samples}, k = {k}",
                expected=f"num_samples >= {k + 1}",
            )
        return k

    def __call__(self, logits, objective, num_samples=1, generator=None):
        logits = check_logits(logits)
        _check_num_samples(num_samples)
        probs = torch.softmax(logits.detach(), -1)
        k = self.resolve_k(probs, num_samples)
        top, outside = top_k_split(probs, k)
        num_outside = 0 if k == probs.shape[-1] else num_samples - k
        drawn = None
        if num_outside:
            drawn = sample_outside(torch.log_softmax(logits.detach(), -1), top, num_outside, generator)
        return self.estimate_given(logits, objective, top, outside, drawn, generator)

    def estimate_given(
        self,
        logits: Tensor,
        objective: Objective,
        top: Tensor,
        outside: Tensor,
        drawn: Tensor | None,
        generator: torch.Generator | None = None,
    ) -> Estimate:
        """The estimator for given top-k indices ``(B, k)``, outside mass ``(B,)`` and draws ``(m, B)``.

        Exposed so that tests can enumerate the draws and compute the variance exactly.
        """
        probs = torch.softmax(logits.detach(), -1)
        categories = [top.transpose(0, 1)]
        weights = [torch.gather(probs, -1, top).transpose(0, 1)]
        if drawn is not None:
            categories.append(drawn)
            weights.append((outside / drawn.shape[0]).expand(drawn.shape))
        all_categories = torch.cat(categories, 0)
        all_weights = torch.cat(weights, 0)
        terms = self.base.per_sample(logits, objective, all_categories, generator=generator)
        surrogate, value = combine(all_weights, terms)
        if drawn is not None:
            self.base.observe(terms.value[top.shape[1] :])
        if terms.logit_grad is not None:
            self.base.after_estimate(logits, (all_weights.unsqueeze(-1) * terms.logit_grad).sum(0))
        evaluations = all_categories.shape[0] * self.base.evaluations_per_sample
        return finish(surrogate, value, evaluations)
