"""Linear MTLR by full-batch L-BFGS: the objective with its analytic gradient, and the C1 path.

Choosing C1 by internal K-fold cross-validation solves K problems per C1 value. They are solved
along the path from the largest C1 (the most regularised, closest to the feature-free start) to the
smallest, all folds of one C1 in one batched L-BFGS, each warm-started from its solution at the
previous C1; the full-data fit runs once, at the chosen C1, warm-started from the mean of its fold
solutions. Every problem runs to the gradient test (`survival.optim`), so the cross-validation
scores converged fits.
"""

from __future__ import annotations

import numpy as np
import torch

from survival.mtlr import MTLRNet
from survival.optim import LBFGSResult, batched_lbfgs

__all__ = ["LinearMTLRProblem", "marginal_bias"]


class LinearMTLRProblem:
    """``M`` linear MTLR objectives on one feature matrix, with their gradients in closed form.

    Model m minimises ``(-sum_i w_mi loglik_i + C1_m / 2 ||Theta_m||^2) / sum_i w_mi`` (convex). With
    interval scores ``s_j = sum_{k >= j} f_k`` the gradient of ``loglik_i`` in ``f_k`` is
    ``sum_{j <= k} (q_ij - p_ij)``: p the softmax of s, q the softmax over the intervals
    consistent with the observation, which needs no autograd graph (less memory, less time).

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
        """(m, P) -> ``(Theta (m, d, K), b (m, K))``."""
        return params[:, : self.split].reshape(-1, self.n_features, self.n_times), params[:, self.split :]

    def loglik(self, params: torch.Tensor) -> torch.Tensor:
        """(m, n) per-patient log-likelihoods."""
        return self._forward(params)[0]

    def _forward(self, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        theta, bias = self.unpack(params)
        logits = torch.matmul(self.x, theta).add_(bias[:, None, :])  # (m, n, K)
        scores = torch.zeros(*logits.shape[:-1], self.n_times + 1, dtype=logits.dtype, device=logits.device)
        scores[..., :-1] = torch.flip(torch.cumsum(torch.flip(logits, [-1]), -1), [-1])
        norm = torch.logsumexp(scores, dim=-1, keepdim=True)
        masked = scores + self.log_mask
        allowed = torch.logsumexp(masked, dim=-1, keepdim=True)
        # q - p, the gradient of loglik in the interval scores
        diff = torch.exp(masked.sub_(allowed)).sub_(torch.exp(scores.sub_(norm)))
        return (allowed - norm).squeeze(-1), diff, theta

    def value_and_grad(
        self, params: torch.Tensor, weights: torch.Tensor, c1: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Objectives (m,) and gradients (m, P) for row weights (m, n) and L2 weights (m,)."""
        loglik, diff, theta = self._forward(params)
        total = weights.sum(dim=1)
        value = (-(loglik * weights).sum(dim=1) + 0.5 * c1 * theta.square().sum(dim=(1, 2))) / total
        grad_f = torch.cumsum(diff, dim=-1)[..., :-1].mul_(
            -(weights / total[:, None])[..., None]
        )  # (m, n, K)
        grad_theta = torch.matmul(self.x.T, grad_f).add_(theta * (c1 / total)[:, None, None])
        grad_bias = grad_f.sum(dim=1)
        return value, torch.cat([grad_theta.reshape(len(value), -1), grad_bias], dim=1)

    def solve(
        self, start: torch.Tensor, weights: torch.Tensor, c1: torch.Tensor, *, max_iter: int, tol: float
    ) -> LBFGSResult:
        """Minimise the objectives of the rows of `weights`/`c1` from `start` (m, P)."""

        def objective(params: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return self.value_and_grad(params, weights[rows], c1[rows])

        return batched_lbfgs(objective, start, max_iter=max_iter, gtol=tol, returns_gradient=True)

    def start(self, weights: torch.Tensor) -> torch.Tensor:
        """(m, P) feature-free starting points (`marginal_bias`)."""
        start = torch.zeros(
            weights.shape[0], self.split + self.n_times, dtype=self.x.dtype, device=self.x.device
        )
        start[:, self.split :] = marginal_bias(torch.isfinite(self.log_mask), weights)
        return start

    def net(self, params: torch.Tensor) -> MTLRNet:
        """An `MTLRNet` holding one problem's solution (P,)."""
        theta, bias = self.unpack(params[None].cpu())
        net = MTLRNet(self.n_features, self.n_times).to(params.dtype)
        with torch.no_grad():
            net.mtlr.weight.copy_(theta[0].T)
            net.mtlr.bias.copy_(bias[0])
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
        ``(scores {C1: held-out mean loglik}, fold solutions per C1 in `grid` order, all converged)``.
    """
    n = problem.x.shape[0]
    dtype, device = problem.x.dtype, problem.x.device
    weights = torch.zeros(len(folds), n, dtype=dtype, device=device)
    for f, (train_rows, _) in enumerate(folds):
        weights[f, torch.as_tensor(train_rows, device=device)] = 1.0
    params = problem.start(weights)
    order = sorted(range(len(grid)), key=lambda g: -grid[g])  # most regularised first
    solutions: list[torch.Tensor] = [params] * len(grid)
    scores: dict[float, float] = {}
    converged = True
    for g in order:
        c1 = torch.full((len(folds),), float(grid[g]), dtype=dtype, device=device)
        result = problem.solve(params, weights, c1, max_iter=max_iter, tol=tol)
        params = result.x
        converged &= bool(result.converged.all())
        solutions[g] = params
        with torch.no_grad():
            loglik = problem.loglik(params).cpu().numpy()
        scores[float(grid[g])] = float(np.mean([loglik[f, held].mean() for f, (_, held) in enumerate(folds)]))
    return {float(c): scores[float(c)] for c in grid}, solutions, converged
