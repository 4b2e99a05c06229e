"""Out-of-distribution scores and their evaluation: WAIC over an ensemble, AUROC/AUPR, Nalisnick's second-order analysis.

- `waic`: Choi, Jang & Alemi (2018): ``WAIC(x) = E_theta[log p(x | theta)] - Var_theta[log p(x | theta)]``
  over an ensemble standing in for posterior samples (higher = more in-distribution).
- `auroc`, `aupr`: out-of-distribution inputs are the positive class, scored by an OoD score
  (higher = more out of distribution, e.g. ``-log p(x)`` or ``-WAIC(x)``).
- `second_order_difference`: Nalisnick et al. (2019, sec. 5): expanding ``log p`` to second order
  around a shared mean ``x0``, ``E_q[log p(x)] - E_p*[log p(x)] ~ 1/2 tr(H(x0) (Sigma_q - Sigma_p*))``
  with H the Hessian of the model's log density; with per-dimension variances only, the trace keeps
  H's diagonal. For a constant-volume flow the volume term drops out of H.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.errors import InputError

__all__ = ["aupr", "auroc", "second_order_difference", "second_order_expansion", "waic"]


def waic(log_likelihoods: np.ndarray) -> np.ndarray:
    """``mean - variance`` over the ensemble axis of ``(members, n)`` log-likelihoods -> ``(n,)``.

    The variance is the population variance (ddof 0), so one member, or identical members, give
    WAIC equal to their log-likelihood.

    Raises:
        InputError: not a 2-D array.
    """
    values = np.asarray(log_likelihoods, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] < 1:
        raise InputError("waic takes (members, n) log-likelihoods", item=values.shape)
    return values.mean(0) - values.var(0)


def _scores(in_scores: np.ndarray, out_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(in_scores, dtype=np.float64).ravel()
    b = np.asarray(out_scores, dtype=np.float64).ravel()
    if len(a) == 0 or len(b) == 0:
        raise InputError(
            "AUROC/AUPR need at least one in- and one out-of-distribution score", item=(len(a), len(b))
        )
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise InputError("OoD scores must be finite", item="nan or inf among the scores")
    return a, b


def auroc(in_scores: np.ndarray, out_scores: np.ndarray) -> float:
    """Area under the ROC curve, OoD positive: ``P(out > in) + P(out == in) / 2`` (Mann-Whitney U / (n m)).

    Args:
        in_scores: ``(n,)`` OoD scores of in-distribution inputs.
        out_scores: ``(m,)`` OoD scores of out-of-distribution inputs (higher = flagged).
    """
    a, b = _scores(in_scores, out_scores)
    values = np.concatenate([a, b])
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    # average ranks over ties
    _, start, counts = np.unique(sorted_values, return_index=True, return_counts=True)
    average = start + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    u = ranks[len(a) :].sum() - len(b) * (len(b) + 1) / 2.0
    return float(u / (len(a) * len(b)))


def aupr(in_scores: np.ndarray, out_scores: np.ndarray) -> float:
    """Area under the precision-recall curve, OoD positive, as average precision ``sum (R_k - R_{k-1}) P_k``
    over the distinct score thresholds (ties counted together)."""
    a, b = _scores(in_scores, out_scores)
    values = np.concatenate([a, b])
    positive = np.concatenate([np.zeros(len(a)), np.ones(len(b))])
    order = np.argsort(-values, kind="mergesort")
    values, positive = values[order], positive[order]
    last = np.r_[np.nonzero(np.diff(values))[0], len(values) - 1]  # the last index of each distinct score
    true_positives = np.cumsum(positive)[last]
    flagged = last + 1.0
    precision = true_positives / flagged
    recall = true_positives / len(b)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def second_order_difference(
    log_prob: Callable, x0, cov_p, cov_q, diagonal: bool = True
) -> tuple[float, np.ndarray]:
    """Nalisnick et al.'s prediction of ``E_q[log p(x)] - E_p*[log p(x)]`` from the data's second moments.

    Args:
        log_prob: maps a torch tensor of `x0`'s shape to the scalar log density.
        x0: the expansion point (the shared mean), a torch tensor of any shape with D elements.
        cov_p, cov_q: per-dimension variances ``(D,)`` (``diagonal=True``) or covariances ``(D, D)``
            of the training data p* and the other data q (numpy).
        diagonal: use only the Hessian's diagonal (the paper's per-dimension-variance form).

    Returns:
        The predicted difference (nats) and the Hessian diagonal ``(D,)``.

    Raises:
        InputError: covariances whose size does not match `x0`.
    """
    import torch

    dims = x0.numel()
    cov_p, cov_q = np.asarray(cov_p, dtype=np.float64), np.asarray(cov_q, dtype=np.float64)
    expected = (dims,) if diagonal else (dims, dims)
    if cov_p.shape != expected or cov_q.shape != expected:
        raise InputError(
            "covariances do not match the expansion point", item=(cov_p.shape, cov_q.shape), expected=expected
        )
    shape = x0.shape
    hessian = torch.autograd.functional.hessian(lambda v: log_prob(v.reshape(shape)), x0.flatten().detach())
    hessian = hessian.detach().double().cpu().numpy()
    difference = cov_q - cov_p
    if diagonal:
        value = 0.5 * float(np.sum(np.diag(hessian) * difference))
    else:
        value = 0.5 * float(np.trace(hessian @ difference))
    return value, np.diag(hessian).copy()


def second_order_expansion(log_prob: Callable, mean_p, var_p, mean_q, var_q) -> dict[str, float]:
    """The second-order prediction of ``E_q[log p(x)] - E_p*[log p(x)]`` when the two means differ too.

    Expanding around ``x0 = mean_p`` (the training data's mean), with ``d = mean_q - mean_p``, g and H
    the gradient and Hessian of ``log p`` at x0:
    ``E_q - E_p* ~ g.d + 1/2 d'Hd + 1/2 tr(H (Sigma_q - Sigma_p*))``. Nalisnick et al. (2019, sec. 5)
    keep the last term only (their data sets share a mean); the first two are the mean shift. Exact
    for a Gaussian ``log p`` (quadratic), whatever the means.

    Args:
        log_prob: maps a torch tensor of `mean_p`'s shape to the scalar log density.
        mean_p, mean_q: torch tensors of one shape (D elements), the two data sets' means.
        var_p, var_q: ``(D,)`` per-dimension variances (numpy): only H's diagonal meets them.

    Returns:
        ``variance`` (the paper's term), ``mean_shift`` (the first two terms), ``total`` (their sum), nats.

    Raises:
        InputError: means of different shapes or variances of the wrong size.
    """
    import torch

    if tuple(mean_p.shape) != tuple(mean_q.shape):
        raise InputError("the two means must have one shape", item=(tuple(mean_p.shape), tuple(mean_q.shape)))
    variance, _ = second_order_difference(log_prob, mean_p, var_p, var_q, diagonal=True)
    shape = mean_p.shape
    x0 = mean_p.flatten().detach()
    d = (mean_q.flatten().detach() - x0).to(x0.dtype)
    value = lambda v: log_prob(v.reshape(shape))  # noqa: E731
    gradient = torch.autograd.functional.jacobian(value, x0)
    _, hvp = torch.autograd.functional.hvp(value, x0, d)
    shift = float(gradient.flatten() @ d) + 0.5 * float(d @ hvp.flatten())
    return {"variance": variance, "mean_shift": shift, "total": variance + shift}
