"""Rao-Blackwellized top-k gradient estimators (Liu, Regier, Tripuraneni, Jordan, McAuliffe; ICML 2019).

For a base single-sample estimator ``g`` (unbiased or not) and the set ``C_k`` of the k most probable
categories, the estimator (eq. 6)

    g_RB = sum_{z in C_k} q(z) g(z)  +  q(z not in C_k) * mean_{i=1..N-k} g(v_i),   v_i ~ q(. | not in C_k)

has the same expectation as ``g``. When ``g`` is a function of the draw z alone (REINFORCE, with no
baseline or with one fixed before the draw, such as a moving average of earlier calls), its variance is
at most ``q(z not in C_k) / (N - k)`` times the variance of one base sample (Sec. 3), and ``k = "auto"``,
the paper's choice ``argmin_k q(z not in C_k) / (N - k)`` (`choose_k`), makes it no worse than averaging N
base draws: that is the composition the paper's guarantee covers.

Bases that also carry Gumbel noise (Gumbel-softmax soft/straight-through, REBAR, RELAX) draw one
conditional noise per summed category, and their variance has a term the bound ignores:

    Var g_RB = sum_{j in C_k} q_j^2 s_j^2 + q(z not in C_k)^2 / (N - k) Var(g | z not in C_k),

with ``s_j^2 = Var(g | z = j)`` the noise variance at category j. Averaging N base draws costs
``(1/N) sum_j q_j s_j^2`` for the same term, so a summed category with ``q_j > 1/N`` is worse than
sampling it whenever its ``s_j^2`` dominates; and if every ``q_j <= 1/N``, then ``q(z not in C_k) >=
(N - k)/N`` and, in the worst case (``E[g | z]`` constant), the sampled part is no better either. No rule that sees only q can pick a ``k >= 1`` that
is guaranteed no worse than averaging (measured: 1.4-1.7x the variance at the paper's k), so
``k = "auto"`` is refused for these bases: pass ``k`` explicitly (``k = 0`` is the base estimator; every
k still has at most the variance of one base draw, as Rao-Blackwellization guarantees).

The moving-average baseline of a REINFORCE base observes the RB estimate of the objective (the top-k sum
plus the weighted outside draws), an unbiased estimate of ``E_q f``, so it tracks ``E_q f`` as the
plain estimator's does.
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
        if k == "auto" and base.uses_noise:
            raise InputError(
                f"k='auto' is not available for rb-{base.name}: the paper's choice of k, and its guarantee of no"
                " more variance than averaging the same budget, hold only for estimators that are a function of"
                f" the draw alone (the REINFORCE family); {base.name} also carries Gumbel noise, for which no"
                " k >= 1 chosen from q is guaranteed no worse",
                item=f"rb-{base.name}, k='auto'",
                expected="an explicit k (k=0 is the base estimator itself, k=1 sums the mode exactly)",
            )
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
        if self.k == "auto" and num_samples == 1:
            raise InputError(
                f"{self.name} with k='auto' and a budget of one draw would sum no category and silently be"
                f" its base estimator {self.base.name!r}",
                item="num_samples = 1",
                expected="num_samples >= 2 (k >= 1 needs a budget of k + 1 draws), or k=0 to ask for the base",
            )
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
        _check_num_samples(num_samples, 1, self.name)
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
        # the RB estimate of E_q f per row (all terms, summed and drawn): a baseline tracks E_q f, not
        # E[f | z outside C_k]
        self.base.observe(value.unsqueeze(0))
        if terms.logit_grad is not None:
            self.base.after_estimate(logits, (all_weights.unsqueeze(-1) * terms.logit_grad).sum(0))
        evaluations = all_categories.shape[0] * self.base.evaluations_per_sample
        return finish(surrogate, value, evaluations)
