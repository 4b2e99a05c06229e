"""Linear MTLR by full-batch L-BFGS: the objective with its analytic gradient, and the C1 path.

Choosing C1 by internal K-fold cross-validation solves K problems per C1 value. They are solved
along the path from the largest C1 (the most regularised, closest to the feature-free start) to the
smallest, all folds of one C1 in one batched L-BFGS, each warm-started from its solution at the
previous C1; the full-data fit runs once, at the chosen C1, warm-started from the mean of its fold
solutions. Every problem runs to the gradient test (`survival.optim`), so the cross-validation
scores converged fits. Each fold's problem holds only its own training rows, and L-BFGS is
preconditioned (`LinearMTLRProblem.preconditioner`): on an flchain training fold the path
1e5 ... 10 took 19, 8, 14, 28 and 72 iterations; unpreconditioned, > 500 at 1e5 from the
feature-free start, and 162, 91, 147 along the path 1e3, 1e2, 10.

The path stops early once the held-out score has fallen for `PATH_PATIENCE` consecutive C1 values
below the best so far: held-out log-likelihood along a ridge path is in practice unimodal, and the
least regularised problems are the slowest to converge (flchain, one training fold: the held-out
score rises from C1 = 1e5 to its peak at 1e3 and falls monotonically below; C1 = 1 alone takes
more iterations than 1e5 ... 10 together). C1 values not reached have no score.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from survival.mtlr import MTLRNet
from survival.optim import LBFGSResult, batched_lbfgs

__all__ = ["PATH_PATIENCE", "LinearMTLRProblem", "c1_path", "marginal_bias"]

PATH_PATIENCE = 2


class LinearMTLRProblem:
    """``M`` linear MTLR objectives on one feature matrix, with their gradients in closed form.

    Model m minimises ``(-sum_i w_mi loglik_i + C1_m / 2 ||Theta_m||^2) / sum_i w_mi``. Convex
    for uncensored patients; a censored patient's term ``-log sum_{j >= b} p_j`` is not convex
    in general (its Hessian ``Cov_p - Cov_q`` can have a negative eigenvalue: measured at the
    feature-free start on flchain), so L-BFGS finds a stationary point; the warm-started path
    from the most regularised problem keeps it on the same branch.

    The parameters are the *interval-score* weights ``phi_j = sum_{k >= j} theta_k`` and biases
    ``beta_j = sum_{k >= j} b_k`` (so the score of interval j is ``s_j = x . phi_j + beta_j``), not
    the paper's per-time-point ``theta_k``: the likelihood is then a softmax regression in the
    parameters, whose curvature does not grow with the number of time points, while in ``theta``
    every interval score sums up to K weights. Measured on an flchain training fold (6,299 rows,
    23 features, 46 time points, C1 = 1): 500 L-BFGS iterations in ``theta`` left a gradient
    max-norm above 1e-5; in ``phi`` it converges (see tools/bench/survival.py). The penalty
    ``||Theta||^2 = sum_k ||phi_k - phi_{k+1}||^2`` and the gradient follow by the chain rule:
    ``d loglik_i / d s_ij = q_ij - p_ij`` with p the softmax of s and q the softmax over the
    intervals consistent with the observation, so no autograd graph is built (less memory, less
    time).

    Args:
        features: (n, d) shared by every problem, or (M, n, d) one matrix per problem (each
            internal fold's own training rows, so no work is spent on rows of weight zero).
        allowed: (n, K+1) or (M, n, K+1) bool, True where an interval is consistent with the
            patient's observation (`survival.mtlr._target_mask`).
    """

    def __init__(self, features: torch.Tensor, allowed: torch.Tensor) -> None:
        self.x = features
        self.allowed = allowed.to(features.dtype)
        self.n_features = features.shape[-1]
        self.n_times = allowed.shape[-1] - 1
        self.split = self.n_features * self.n_times

    @staticmethod
    def _select(tensor: torch.Tensor, rows: torch.Tensor | None) -> torch.Tensor:
        """The per-problem slices `rows` of a (M, n, .) tensor; a shared (n, .) one as it is."""
        if tensor.dim() == 2 or rows is None or rows.numel() == tensor.shape[0]:
            return tensor  # rows are sorted and unique: all of them is every problem in order
        return tensor[rows]

    def unpack(self, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(m, P) -> ``(phi (m, d, K), beta (m, K))``."""
        return params[:, : self.split].reshape(-1, self.n_features, self.n_times), params[:, self.split :]

    @staticmethod
    def differences(cumulative: torch.Tensor) -> torch.Tensor:
        """``theta_k = phi_k - phi_{k+1}`` (phi_K = 0) along the last axis."""
        return cumulative - torch.cat([cumulative[..., 1:], torch.zeros_like(cumulative[..., :1])], dim=-1)

    def loglik(self, params: torch.Tensor) -> torch.Tensor:
        """(m, n) per-patient log-likelihoods."""
        return self._forward(params, self.x, self.allowed)[0]

    def _forward(
        self, params: torch.Tensor, x: torch.Tensor, allowed: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-likelihoods (m, n) and ``q - p`` (m, n, K+1) with one ``exp`` per entry.

        ``p`` is the softmax of the interval scores and the likelihood of a patient is ``g = sum_j
        p_j a_j`` over its consistent intervals ``a`` (one for an event, all from the censoring
        interval on otherwise), so ``q = p a / g``. Masking the scores with ``-inf`` and taking two
        ``logsumexp`` costs three ``exp`` per entry, and ``exp(-inf)`` runs far slower than a finite
        ``exp`` on x86 (measured 2.4 ms vs 1.1 ms per 270k float64 values): this form made one
        objective-and-gradient evaluation on an flchain training fold 5x faster. A patient whose
        ``g`` underflows gets ``loglik = -inf``, which the line search rejects.
        """
        probs, consistent, likelihood = self._parts(params, x, allowed)
        diff = consistent.div_(likelihood).sub_(probs)  # q - p
        return torch.log(likelihood).squeeze(-1), diff

    def _parts(
        self, params: torch.Tensor, x: torch.Tensor, allowed: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``p`` (m, n, K+1), ``p * a`` (m, n, K+1) and the likelihoods ``g`` (m, n, 1)."""
        phi, beta = self.unpack(params)
        head = torch.matmul(x, phi).add_(beta[:, None, :])  # (m, n, K) scores s_0..s_{K-1}
        scores = torch.cat([head, torch.zeros_like(head[..., :1])], dim=-1)  # s_K = 0
        probs = torch.exp(scores.sub_(scores.amax(dim=-1, keepdim=True)))
        probs.div_(probs.sum(dim=-1, keepdim=True))
        consistent = probs * allowed
        return probs, consistent, consistent.sum(dim=-1, keepdim=True)

    def value_and_grad(
        self, params: torch.Tensor, weights: torch.Tensor, c1: torch.Tensor, rows: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Objectives (m,) and gradients (m, P) for row weights (m, n) and L2 weights (m,).

        `rows`: which problems the m rows of `params` are (needed with per-problem features).
        """
        x = self._select(self.x, rows)
        loglik, diff = self._forward(params, x, self._select(self.allowed, rows))
        phi, _ = self.unpack(params)
        theta = self.differences(phi)
        total = weights.sum(dim=1)
        value = (-(loglik * weights).sum(dim=1) + 0.5 * c1 * theta.square().sum(dim=(1, 2))) / total
        grad_s = diff[..., :-1].mul_(-(weights / total[:, None])[..., None])  # (m, n, K)
        # d/dphi_k of ||Theta||^2 / 2 is theta_k - theta_{k-1}
        penalty = theta - torch.cat([torch.zeros_like(theta[..., :1]), theta[..., :-1]], dim=-1)
        grad_phi = torch.matmul(x.transpose(-1, -2), grad_s).add_(penalty * (c1 / total)[:, None, None])
        return value, torch.cat([grad_phi.reshape(len(value), -1), grad_s.sum(dim=1)], dim=1)

    def solve(
        self, start: torch.Tensor, weights: torch.Tensor, c1: torch.Tensor, *, max_iter: int, tol: float
    ) -> LBFGSResult:
        """Minimise the objectives of the rows of `weights`/`c1` from `start` (m, P)."""

        def objective(params: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return self.value_and_grad(params, weights[rows], c1[rows], rows)

        return batched_lbfgs(
            objective,
            start,
            max_iter=max_iter,
            gtol=tol,
            returns_gradient=True,
            precondition=self.preconditioner(start, weights, c1),
        )

    def preconditioner(
        self, params: torch.Tensor, weights: torch.Tensor, c1: torch.Tensor
    ) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        """``v -> M^-1 v`` for an approximate Hessian ``M`` of each objective at `params` (m, P).

        The penalty's Hessian in the interval-score parameters is ``C1/n * L`` with ``L`` the
        (K, K) second-difference matrix of ``||phi_k - phi_{k+1}||^2``, whose eigenvalues span a
        factor ~K^2: unpreconditioned L-BFGS needed *more* iterations the larger C1 (flchain fold
        problems: 162 at C1 = 1e3, 341 at 1e4, > 500 at 1e5). ``M`` is the likelihood's Hessian in
        Kronecker form (K-FAC: ``E[x x^T] (x) E[H_s]``, ``H_s = Cov_p - Cov_q`` the per-patient
        Hessian in the interval scores) plus the penalty, inverted exactly through the eigenvectors
        of ``E[x x^T]`` (d solves of K x K); the biases get ``E[H_s]^-1``.
        """
        m, k = params.shape[0], self.n_times
        rows = torch.arange(m, device=params.device)
        x, allowed = self._select(self.x, rows), self._select(self.allowed, rows)
        with torch.no_grad():
            probs, consistent, likelihood = self._parts(params, x, allowed)
            q = consistent.div_(likelihood)[..., :k]
            p = probs[..., :k]
            share = weights / weights.sum(dim=1, keepdim=True)  # (m, n)
            hess = torch.diag_embed(((p - q) * share[..., None]).sum(dim=1))
            hess -= (p * share[..., None]).transpose(1, 2) @ p - (q * share[..., None]).transpose(1, 2) @ q
            # a censored patient's Hessian Cov_p - Cov_q can be indefinite (the objective is not
            # convex): use |eigenvalues|, floored at a tenth of their mean
            values, basis = torch.linalg.eigh(hess)
            values = values.abs()
            values = values.clamp_min(0.1 * values.mean(dim=1, keepdim=True)).clamp_min(1e-12)
            hess = (basis * values[:, None, :]) @ basis.transpose(1, 2)
            xw = x * share[..., None] if x.dim() == 3 else x[None] * share[..., None]
            gram = xw.transpose(1, 2) @ (x if x.dim() == 3 else x[None])  # (m, d, d)
            lam, vectors = torch.linalg.eigh(gram)
            second = 2.0 * torch.eye(k, dtype=p.dtype, device=p.device)
            second -= torch.diag(torch.ones(k - 1, dtype=p.dtype, device=p.device), 1)
            second -= torch.diag(torch.ones(k - 1, dtype=p.dtype, device=p.device), -1)
            second[0, 0] = 1.0
            scale = c1 / weights.sum(dim=1)
            blocks = lam.clamp_min(0)[..., None, None] * hess[:, None] + (scale[:, None, None, None] * second)
            inv_phi = torch.linalg.inv(blocks + 1e-3 * hess[:, None])  # (m, d, K, K)
            inv_beta = torch.linalg.inv(hess)  # (m, K, K)

        def apply(vectors_in: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
            v_phi, v_beta = self.unpack(vectors_in)
            u = vectors[rows]
            w = u.transpose(1, 2) @ v_phi  # (m, d, K) in the eigenbasis of E[x x^T]
            w = (inv_phi[rows] @ w[..., None])[..., 0]
            out_phi = u @ w
            out_beta = (inv_beta[rows] @ v_beta[..., None])[..., 0]
            return torch.cat([out_phi.reshape(len(rows), -1), out_beta], dim=1)

        return apply

    def start(self, weights: torch.Tensor) -> torch.Tensor:
        """(m, P) feature-free starting points (`marginal_bias`, as interval-score biases)."""
        start = torch.zeros(
            weights.shape[0], self.split + self.n_times, dtype=self.x.dtype, device=self.x.device
        )
        bias = marginal_bias(self.allowed, weights)
        start[:, self.split :] = torch.flip(torch.cumsum(torch.flip(bias, [-1]), -1), [-1])
        return start

    def net(self, params: torch.Tensor) -> MTLRNet:
        """An `MTLRNet` holding one problem's solution (P,), in the paper's parameters."""
        phi, beta = self.unpack(params[None].cpu())
        net = MTLRNet(self.n_features, self.n_times).to(params.dtype)
        with torch.no_grad():
            net.mtlr.weight.copy_(self.differences(phi)[0].T)
            net.mtlr.bias.copy_(self.differences(beta)[0])
        return net


def marginal_bias(allowed: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """(M, K) biases of the feature-free MTLR that matches the marginal interval frequencies.

    Censored rows are spread evenly over their possible intervals; ``b_k = log P(k) - log P(k+1)``
    reproduces those frequencies, a good starting point for L-BFGS.

    Args:
        allowed: (n, K+1) or (M, n, K+1) consistent intervals; weights: (M, n) row weights.
    """
    allowed = allowed.to(weights.dtype)
    spread = allowed / allowed.sum(dim=-1, keepdim=True)
    freq = (weights[..., None] * spread).sum(dim=-2) + 0.5  # (M, K+1), smoothed
    log_p = torch.log(freq / freq.sum(dim=1, keepdim=True))
    return log_p[:, :-1] - log_p[:, 1:]


class FoldProblem(NamedTuple):
    """The training rows of every fold stacked: `problem` with (M, n_max, .) tensors, `weights`
    (M, n_max) 1 on a fold's rows and 0 on the padding."""

    problem: LinearMTLRProblem
    weights: torch.Tensor


def fold_problem(problem: LinearMTLRProblem, rows: list[np.ndarray]) -> FoldProblem:
    """One problem per row subset of `problem`'s (shared) data, padded to the longest subset."""
    longest = max(len(r) for r in rows)
    index = torch.zeros(len(rows), longest, dtype=torch.long, device=problem.x.device)
    weights = torch.zeros(len(rows), longest, dtype=problem.x.dtype, device=problem.x.device)
    for f, r in enumerate(rows):
        index[f, : len(r)] = torch.as_tensor(r, device=index.device)
        weights[f, : len(r)] = 1.0
    return FoldProblem(LinearMTLRProblem(problem.x[index], problem.allowed[index] > 0), weights)


def c1_path(
    problem: LinearMTLRProblem,
    folds: list[tuple[np.ndarray, np.ndarray]],
    grid: list[float],
    *,
    max_iter: int,
    tol: float,
) -> tuple[dict[float, float], list[torch.Tensor], bool]:
    """Cross-validated held-out mean log-likelihood of every C1 in `grid`, warm-started path.

    Returns:
        ``(scores {C1: held-out mean loglik} of the C1 values reached, fold solutions per C1 in
        `grid` order (None where not reached), all converged)``.
    """
    dtype, device = problem.x.dtype, problem.x.device
    train = fold_problem(problem, [train_rows for train_rows, _ in folds])
    weights = train.weights
    params = train.problem.start(weights)
    order = sorted(range(len(grid)), key=lambda g: -grid[g])  # most regularised first
    solutions: list[torch.Tensor | None] = [None] * len(grid)
    scores: dict[float, float] = {}
    converged = True
    best, worse = -float("inf"), 0
    for g in order:
        if worse >= PATH_PATIENCE:
            break
        c1 = torch.full((len(folds),), float(grid[g]), dtype=dtype, device=device)
        result = train.problem.solve(params, weights, c1, max_iter=max_iter, tol=tol)
        params = result.x
        converged &= bool(result.converged.all())
        solutions[g] = params
        with torch.no_grad():
            loglik = problem.loglik(params).cpu().numpy()
        score = float(np.mean([loglik[f, held].mean() for f, (_, held) in enumerate(folds)]))
        scores[float(grid[g])] = score
        best, worse = (score, 0) if score > best else (best, worse + 1)
    return {float(c): scores[float(c)] for c in grid if float(c) in scores}, solutions, converged
