"""Linear MTLR by full-batch L-BFGS: the objective with its analytic gradient, and the C1 path.

Choosing C1 by internal K-fold cross-validation solves K problems per C1 value. They are solved
along the path from the largest C1 (the most regularised, closest to the feature-free start) to the
smallest, all folds of one C1 in one batched L-BFGS, each warm-started from its solution at the
previous C1; the full-data fit runs once, at the chosen C1, warm-started from the mean of its fold
solutions. Every problem runs to the gradient test (`survival.optim`), so the cross-validation
scores converged fits.

The path stops early once the held-out score has fallen for `PATH_PATIENCE` consecutive C1 values
below the best so far: held-out log-likelihood along a ridge path is in practice unimodal, and the
least regularised problems are the slowest to converge (flchain, one training fold, C1 = 1000 ...
0.001: the held-out score falls monotonically below C1 = 1000, and the full path took 507 s
where the first three values take a fraction of it). C1 values not reached have no score.
"""

from __future__ import annotations

import numpy as np
import torch

from survival.mtlr import MTLRNet
from survival.optim import LBFGSResult, batched_lbfgs

__all__ = ["PATH_PATIENCE", "LinearMTLRProblem", "c1_path", "marginal_bias"]

PATH_PATIENCE = 2


class LinearMTLRProblem:
    """``M`` linear MTLR objectives on one feature matrix, with their gradients in closed form.

    Model m minimises ``(-sum_i w_mi loglik_i + C1_m / 2 ||Theta_m||^2) / sum_i w_mi`` (convex).

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
        features: (n, d); log_mask: (n, K+1) 0 where an interval is consistent, -inf elsewhere.
    """

    def __init__(self, features: torch.Tensor, log_mask: torch.Tensor) -> None:
        self.x = features
        self.log_mask = log_mask
        self.n_features = features.shape[1]
        self.n_times = log_mask.shape[1] - 1
        self.split = self.n_features * self.n_times

    def unpack(self, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(m, P) -> ``(phi (m, d, K), beta (m, K))``."""
        return params[:, : self.split].reshape(-1, self.n_features, self.n_times), params[:, self.split :]

    @staticmethod
    def differences(cumulative: torch.Tensor) -> torch.Tensor:
        """``theta_k = phi_k - phi_{k+1}`` (phi_K = 0) along the last axis."""
        return cumulative - torch.cat([cumulative[..., 1:], torch.zeros_like(cumulative[..., :1])], dim=-1)

    def loglik(self, params: torch.Tensor) -> torch.Tensor:
        """(m, n) per-patient log-likelihoods."""
        return self._forward(params)[0]

    def _forward(self, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        phi, beta = self.unpack(params)
        head = torch.matmul(self.x, phi).add_(beta[:, None, :])  # (m, n, K) interval scores s_0..s_{K-1}
        scores = torch.cat([head, torch.zeros_like(head[..., :1])], dim=-1)  # s_K = 0
        norm = torch.logsumexp(scores, dim=-1, keepdim=True)
        masked = scores + self.log_mask
        allowed = torch.logsumexp(masked, dim=-1, keepdim=True)
        diff = torch.exp(masked.sub_(allowed)).sub_(torch.exp(scores.sub_(norm)))  # q - p
        return (allowed - norm).squeeze(-1), diff

    def value_and_grad(
        self, params: torch.Tensor, weights: torch.Tensor, c1: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Objectives (m,) and gradients (m, P) for row weights (m, n) and L2 weights (m,)."""
        loglik, diff = self._forward(params)
        phi, _ = self.unpack(params)
        theta = self.differences(phi)
        total = weights.sum(dim=1)
        value = (-(loglik * weights).sum(dim=1) + 0.5 * c1 * theta.square().sum(dim=(1, 2))) / total
        grad_s = diff[..., :-1].mul_(-(weights / total[:, None])[..., None])  # (m, n, K)
        # d/dphi_k of ||Theta||^2 / 2 is theta_k - theta_{k-1}
        penalty = theta - torch.cat([torch.zeros_like(theta[..., :1]), theta[..., :-1]], dim=-1)
        grad_phi = torch.matmul(self.x.T, grad_s).add_(penalty * (c1 / total)[:, None, None])
        return value, torch.cat([grad_phi.reshape(len(value), -1), grad_s.sum(dim=1)], dim=1)

    def solve(
        self, start: torch.Tensor, weights: torch.Tensor, c1: torch.Tensor, *, max_iter: int, tol: float
    ) -> LBFGSResult:
        """Minimise the objectives of the rows of `weights`/`c1` from `start` (m, P)."""

        def objective(params: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return self.value_and_grad(params, weights[rows], c1[rows])

        return batched_lbfgs(objective, start, max_iter=max_iter, gtol=tol, returns_gradient=True)

    def start(self, weights: torch.Tensor) -> torch.Tensor:
        """(m, P) feature-free starting points (`marginal_bias`, as interval-score biases)."""
        start = torch.zeros(
            weights.shape[0], self.split + self.n_times, dtype=self.x.dtype, device=self.x.device
        )
        bias = marginal_bias(torch.isfinite(self.log_mask), weights)
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
    """
    allowed = allowed.to(weights.dtype)
    spread = allowed / allowed.sum(dim=1, keepdim=True)
    freq = (weights @ spread) + 0.5  # (M, K+1), smoothed
    log_p = torch.log(freq / freq.sum(dim=1, keepdim=True))
    return log_p[:, :-1] - log_p[:, 1:]


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
    n = problem.x.shape[0]
    dtype, device = problem.x.dtype, problem.x.device
    weights = torch.zeros(len(folds), n, dtype=dtype, device=device)
    for f, (train_rows, _) in enumerate(folds):
        weights[f, torch.as_tensor(train_rows, device=device)] = 1.0
    params = problem.start(weights)
    order = sorted(range(len(grid)), key=lambda g: -grid[g])  # most regularised first
    solutions: list[torch.Tensor | None] = [None] * len(grid)
    scores: dict[float, float] = {}
    converged = True
    best, worse = -float("inf"), 0
    for g in order:
        if worse >= PATH_PATIENCE:
            break
        c1 = torch.full((len(folds),), float(grid[g]), dtype=dtype, device=device)
        result = problem.solve(params, weights, c1, max_iter=max_iter, tol=tol)
        params = result.x
        converged &= bool(result.converged.all())
        solutions[g] = params
        with torch.no_grad():
            loglik = problem.loglik(params).cpu().numpy()
        score = float(np.mean([loglik[f, held].mean() for f, (_, held) in enumerate(folds)]))
        scores[float(grid[g])] = score
        best, worse = (score, 0) if score > best else (best, worse + 1)
    return {float(c): scores[float(c)] for c in grid if float(c) in scores}, solutions, converged
