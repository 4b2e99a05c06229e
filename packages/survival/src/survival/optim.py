"""Batched L-BFGS: many independent smooth problems minimised at once (Nocedal & Wright, Alg. 7.5).

torch's `torch.optim.LBFGS` solves one problem; cross-validating a penalty solves dozens of small
ones (folds x penalties), and running them one after another costs a Python loop per problem and
iteration. Here every problem keeps its own curvature history, backtracking (Armijo) step and
stopping test, and only the problems still running are evaluated.

Stopping, per problem: the max-norm of the gradient falls to ``gtol`` (converged); or the objective
fell by less than ``1e-14 * max(1, |f|)`` over the last ``window`` iterations, or no step of the
line search decreases it (stalled at working precision). A problem still running at ``max_iter``
raises a `ConvergenceWarning` (scikit-learn's) naming how many problems and the largest gradient.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import NamedTuple

import torch

__all__ = ["LBFGSResult", "batched_lbfgs"]

_STALL = 1e-14


class LBFGSResult(NamedTuple):
    """x: (M, P) minimisers; n_iter: iterations run; converged: (M,) bool (gradient test met);
    grad_norm: (M,) max-norm of the gradient at x."""

    x: torch.Tensor
    n_iter: int
    converged: torch.Tensor
    grad_norm: torch.Tensor


Objective = Callable[[torch.Tensor, torch.Tensor], "torch.Tensor | tuple[torch.Tensor, torch.Tensor]"]


def batched_lbfgs(
    objective: Objective,
    start: torch.Tensor,
    *,
    max_iter: int = 500,
    gtol: float = 1e-5,
    window: int = 10,
    history: int = 10,
    warn: bool = True,
    returns_gradient: bool = False,
    precondition: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> LBFGSResult:
    """Minimise ``M`` independent smooth functions at once.

    Args:
        objective: ``(params (m, P), rows (m,) long) -> values (m,)`` for the problems `rows`
            (row r of `params` holds the parameters of problem ``rows[r]``); gradients by autograd,
            or, with ``returns_gradient=True``, it returns ``(values, gradients (m, P))`` itself.
        start: (M, P) initial parameters (a warm start when a neighbouring solution is known).
        gtol: gradient max-norm at which a problem has converged.
        window: iterations over which a stalled objective is detected.
        warn: raise a `ConvergenceWarning` when problems hit `max_iter`.
        precondition: ``(vectors (m, P), rows (m,)) -> H0 vectors``, an approximate inverse
            Hessian of each problem used as the initial matrix of the two-loop recursion (scaled
            by ``s'y / y'H0 y``; the first step is ``-H0 g`` with step length 1). None: the
            identity scaled by ``s'y / y'y``, and a cautious first step.

    Returns:
        an `LBFGSResult`.
    """
    z = start.detach().clone()
    n_models, n_params = z.shape
    everyone = torch.arange(n_models, device=z.device)

    def evaluate(params: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if returns_gradient:
            with torch.no_grad():
                values, grad = objective(params, rows)
            return values, grad
        params = params.detach().requires_grad_(True)
        values = objective(params, rows)
        (grad,) = torch.autograd.grad(values.sum(), params)
        return values.detach(), grad.detach()

    f, g = evaluate(z, everyone)
    s_hist = torch.zeros(n_models, history, n_params, dtype=z.dtype, device=z.device)
    y_hist = torch.zeros_like(s_hist)
    rho = torch.zeros(n_models, history, dtype=z.dtype, device=z.device)
    past = f[:, None].repeat(1, window)  # objective values of the last `window` iterations
    active = g.abs().amax(dim=1) > gtol
    iteration = 0
    while active.any() and iteration < max_iter:
        iteration += 1
        rows = torch.nonzero(active).squeeze(1)
        za, fa, ga = z[rows], f[rows], g[rows]
        sh, yh, rh = s_hist[rows], y_hist[rows], rho[rows]
        # two-loop recursion, newest history entry last; empty entries have rho = 0
        q = ga.clone()
        alphas = []
        for k in range(history - 1, -1, -1):
            a = rh[:, k] * (sh[:, k] * q).sum(dim=1)
            q.sub_(a[:, None] * yh[:, k])
            alphas.append(a)
        if precondition is None:
            yy = yh[:, -1].square().sum(dim=1)
            r = q
        else:
            yy = (yh[:, -1] * precondition(yh[:, -1], rows)).sum(dim=1)
            r = precondition(q, rows)
        gamma = torch.where(rh[:, -1] > 0, 1.0 / (rh[:, -1] * yy).clamp_min(1e-300), torch.ones_like(yy))
        r = gamma[:, None] * r
        for k, a in zip(range(history), reversed(alphas)):
            b = rh[:, k] * (yh[:, k] * r).sum(dim=1)
            r.add_((a - b)[:, None] * sh[:, k])
        direction = r.neg_()
        descent = (direction * ga).sum(dim=1) < 0
        if precondition is None:
            direction[~descent] = -ga[~descent]
        elif not bool(descent.all()):
            direction[~descent] = -precondition(ga[~descent], rows[~descent])
        slope = (direction * ga).sum(dim=1)
        fresh = rh[:, -1] == 0  # no curvature yet: a cautious first step, as torch's L-BFGS takes
        if precondition is not None:
            fresh = torch.zeros_like(fresh)  # -H0 g is already a Newton-like step
        step = torch.where(
            fresh, torch.clamp(1.0 / ga.abs().sum(dim=1).clamp_min(1e-12), max=1.0), torch.ones_like(fa)
        )
        accepted = torch.zeros_like(descent)
        f_new, g_new, z_new = fa.clone(), ga.clone(), za.clone()
        for _ in range(40):
            pending = torch.nonzero(~accepted).squeeze(1)
            trial = za[pending] + step[pending, None] * direction[pending]
            f_trial, g_trial = evaluate(trial, rows[pending])
            ok = torch.isfinite(f_trial) & (f_trial <= fa[pending] + 1e-4 * step[pending] * slope[pending])
            hit = pending[ok]
            f_new[hit], g_new[hit], z_new[hit] = f_trial[ok], g_trial[ok], trial[ok]
            accepted[hit] = True
            if accepted.all():
                break
            step = torch.where(accepted, step, step * 0.5)
        s = z_new - za
        y = g_new - ga
        sy = (s * y).sum(dim=1)
        update = accepted & (sy > 1e-12 * y.square().sum(dim=1).clamp_min(1e-300))
        if update.any():
            upd = rows[update]
            s_hist[upd] = torch.roll(sh[update], -1, dims=1)
            y_hist[upd] = torch.roll(yh[update], -1, dims=1)
            rho[upd] = torch.roll(rh[update], -1, dims=1)
            s_hist[upd, -1] = s[update]
            y_hist[upd, -1] = y[update]
            rho[upd, -1] = 1.0 / sy[update]
        z[rows], f[rows], g[rows] = z_new, f_new, g_new
        oldest = past[rows, iteration % window]
        past[rows, iteration % window] = f_new
        stalled = (oldest - f_new) <= _STALL * f_new.abs().clamp_min(1.0)
        stalled &= iteration >= window
        done = (g_new.abs().amax(dim=1) <= gtol) | stalled | ~accepted
        active[rows[done]] = False
    grad_norm = g.abs().amax(dim=1)
    converged = grad_norm <= gtol
    if warn and bool(active.any()):
        from sklearn.exceptions import ConvergenceWarning

        warnings.warn(
            f"L-BFGS hit max_iter={max_iter} with {int(active.sum())} of {n_models} problems still running "
            f"(largest gradient max-norm {float(grad_norm[active].max()):.2e} > gtol {gtol:g}); "
            "raise max_iter",
            ConvergenceWarning,
            stacklevel=2,
        )
    return LBFGSResult(z, iteration, converged, grad_norm)
