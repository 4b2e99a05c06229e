"""Categorical building blocks: input checks, Gumbel noise, conditional Gumbels, top-k splits.

Every estimator in this package works on a batch of independent categorical variables given by
`logits` of shape ``(B, K)`` (row ``b`` is ``q_b = softmax(logits[b])``). A Bernoulli with logit
``l`` is the categorical with logits ``(0, l)`` (`bernoulli_logits`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from core.errors import InputError

__all__ = [
    "bernoulli_logits",
    "check_logits",
    "choose_k",
    "conditional_gumbel",
    "gumbel_noise",
    "sample_categories",
    "sample_outside",
    "top_k_split",
]

_TINY = 1e-20


def check_logits(logits: Tensor) -> Tensor:
    """Validate logits and return them as a ``(B, K)`` view (a 1-D ``(K,)`` input becomes ``(1, K)``).

    Raises:
        InputError: not a floating tensor, not 1-D/2-D, fewer than 2 categories, or a NaN/inf entry
            (the message names the first offending row and column).
    """
    if not isinstance(logits, Tensor):
        raise InputError("logits must be a torch.Tensor", item=type(logits).__name__)
    if not logits.is_floating_point():
        raise InputError("logits must be a floating-point tensor", item=str(logits.dtype))
    if logits.dim() == 1:
        logits = logits.unsqueeze(0)
    if logits.dim() != 2:
        raise InputError("logits must have shape (K,) or (B, K)", item=f"shape {tuple(logits.shape)}")
    if logits.shape[1] < 2:
        raise InputError("a categorical needs at least 2 categories", item=f"K = {logits.shape[1]}")
    finite = torch.isfinite(logits)
    if not bool(finite.all()):
        row, col = (~finite).nonzero()[0].tolist()
        raise InputError(
            "logits contain a non-finite value",
            item=f"row {row}, category {col}: {logits[row, col].item()}",
            expected="finite real numbers",
        )
    return logits


def bernoulli_logits(logit: Tensor) -> Tensor:
    """Logits ``(..., 2)`` of the categorical over {0, 1} equal to Bernoulli(sigmoid(logit))."""
    return torch.stack([torch.zeros_like(logit), logit], dim=-1)


def gumbel_noise(shape: tuple[int, ...], like: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Standard Gumbel(0, 1) draws of `shape` with `like`'s dtype and device (no gradient)."""
    u = torch.rand(shape, generator=generator, dtype=like.dtype, device=like.device)
    exponential = -torch.log(u.clamp_min(_TINY))
    return -torch.log(exponential.clamp_min(_TINY))


def conditional_gumbel(
    log_probs: Tensor, categories: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """Perturbed log-probabilities ``x = log q + G`` drawn conditionally on ``argmax x = categories``.

    The reparameterisation of Tucker et al. (REBAR, 2017, appendix): with uniforms ``v``,
    ``x_b = -log(-log v_b)`` and ``x_i = -log(-log v_i / q_i - log v_b)`` for ``i != b``. It is
    differentiable in `log_probs` when they carry gradients.

    Args:
        log_probs: ``(B, K)`` normalised log-probabilities.
        categories: ``(S, B)`` long, the category each draw is conditioned on.

    Returns:
        ``(S, B, K)`` perturbed values whose argmax along the last axis equals `categories`.
    """
    shape = (*categories.shape, log_probs.shape[-1])
    v = torch.rand(shape, generator=generator, dtype=log_probs.dtype, device=log_probs.device)
    log_exponential = torch.log(-torch.log(v.clamp(_TINY, 1.0 - 1e-7)))  # log(-log v), finite
    top = torch.gather(log_exponential, -1, categories.unsqueeze(-1))  # log(-log v_b), (S, B, 1)
    # -log(-log v_i / q_i - log v_b), in log space so that tiny q_i neither underflow nor divide by 0
    others = -torch.logaddexp(log_exponential - log_probs.expand(shape), top.expand(shape))
    mask = torch.nn.functional.one_hot(categories, shape[-1]).bool()
    return torch.where(mask, -top.expand(shape), others)


def top_k_split(probs: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """The k most probable categories per row and the mass outside them.

    Args:
        probs: ``(B, K)`` probabilities.
        k: ``0 <= k <= K``.

    Returns:
        ``(indices, outside)``: ``(B, k)`` long and ``(B,)`` = ``sum_{j not in C_k} q(j)`` (Liu et al. eq. 6).
    """
    if k > probs.shape[-1]:
        raise InputError(
            "k is larger than the number of categories",
            item=f"k = {k}",
            expected=f"k <= K = {probs.shape[-1]}",
        )
    indices = torch.topk(probs, k, dim=-1).indices
    inside = torch.gather(probs, -1, indices).sum(-1)
    return indices, (1.0 - inside).clamp_min(0.0)


def choose_k(probs: Tensor, num_samples: int) -> int:
    """The paper's k for a budget of `num_samples` evaluations (Liu et al. 2019, Sec. 3.2).

    ``k = argmin_{k} (sum_{j not in C_k} q(j)) / (N - k)`` over ``0 <= k < N`` (the bound on the variance
    of the RB estimator relative to one base sample), averaged over the rows of a batch; when the budget
    covers all K categories the exact sum (k = K) is chosen.
    """
    if num_samples < 1:
        raise InputError("num_samples must be >= 1", item=num_samples)
    num_categories = probs.shape[-1]
    if num_samples > num_categories:
        return num_categories
    sorted_probs = torch.sort(probs.detach(), dim=-1, descending=True).values
    inside = torch.cumsum(sorted_probs, dim=-1)  # mass of C_1 .. C_K
    outside = torch.cat([torch.ones_like(inside[:, :1]), (1.0 - inside).clamp_min(0.0)], dim=-1)
    ks = torch.arange(num_samples, device=probs.device)
    bound = outside[:, :num_samples].mean(0) / (num_samples - ks).to(probs.dtype)
    return int(torch.argmin(bound).item())


def sample_categories(probs: Tensor, num_samples: int, generator: torch.Generator | None = None) -> Tensor:
    """``(num_samples, B)`` independent draws from the rows of ``probs (B, K)`` (inverse-CDF sampling)."""
    return torch.multinomial(probs, num_samples, replacement=True, generator=generator).transpose(0, 1)


def sample_outside(
    log_probs: Tensor, excluded: Tensor, num_samples: int, generator: torch.Generator | None = None
) -> Tensor:
    """Draw ``(num_samples, B)`` categories from q conditioned on not being in `excluded` ``(B, k)``.

    A row whose outside mass underflows to zero draws uniformly outside (its RB weight is zero anyway).
    """
    restricted = log_probs.detach().exp().scatter(-1, excluded, 0.0)
    empty = restricted.sum(-1, keepdim=True) <= 0
    if bool(empty.any()):
        outside = torch.ones_like(restricted).scatter(-1, excluded, 0.0)
        restricted = torch.where(empty, outside, restricted)
    return sample_categories(restricted, num_samples, generator)
