"""Fitting MTLR: batched full-batch L-BFGS (with the C1 cross-validation solved in one batch) and an
Adam loop with early stopping, checkpoints and resumption for the neural variant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold

from core.checkpoint import load_checkpoint, save_checkpoint
from core.device import pick_device
from core.errors import CheckpointMismatchError, InputError
from survival.mtlr import (
    MTLRConfig,
    MTLRNet,
    _log_mask,
    _target_mask,
    interval_index,
    mtlr_log_likelihood,
)

__all__ = ["FitResult", "batched_lbfgs", "fit_linear_lbfgs", "fit_mtlr", "train_adam"]


@dataclass
class FitResult:
    """A fitted network plus what the fit found: the C1 used, CV scores, iterations."""

    net: MTLRNet
    c1: float
    cv_scores: dict[float, float] = field(default_factory=dict)
    n_iter: int = 0


def batched_lbfgs(
    objective: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    start: torch.Tensor,
    *,
    max_iter: int = 500,
    tol: float = 1e-6,
    history: int = 10,
) -> tuple[torch.Tensor, int]:
    """Minimise ``M`` independent smooth functions at once with L-BFGS (Nocedal & Wright, Alg. 7.5).

    Each problem keeps its own curvature history, its own backtracking (Armijo) step and its own
    stopping test, and only the problems still running are evaluated, so a slow, ill-conditioned
    problem neither delays the others' convergence nor makes their iterations cost anything.

    Args:
        objective: ``(params (m, P), rows (m,) long) -> (m,) values`` for the problems `rows`
            (row r of `params` holds the parameters of problem ``rows[r]``).
        start: (M, P) initial parameters.
        tol: a problem stops when its gradient's max-norm falls below `tol` or its value
            changes by less than ``tol * max(1, |f|)`` in one iteration.

    Returns:
        ``(minimisers (M, P), iterations run)``.
    """
    z = start.detach().clone()
    n_models, n_params = z.shape
    everyone = torch.arange(n_models, device=z.device)

    def evaluate(params: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        params = params.detach().requires_grad_(True)
        values = objective(params, rows)
        (grad,) = torch.autograd.grad(values.sum(), params)
        return values.detach(), grad.detach()

    f, g = evaluate(z, everyone)
    s_hist = torch.zeros(n_models, history, n_params, dtype=z.dtype, device=z.device)
    y_hist = torch.zeros_like(s_hist)
    rho = torch.zeros(n_models, history, dtype=z.dtype, device=z.device)
    active = g.abs().amax(dim=1) > tol
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
            q = q - a[:, None] * yh[:, k]
            alphas.append(a)
        yy = yh[:, -1].square().sum(dim=1)
        gamma = torch.where(rh[:, -1] > 0, 1.0 / (rh[:, -1] * yy).clamp_min(1e-300), torch.ones_like(yy))
        r = gamma[:, None] * q
        for k, a in zip(range(history), reversed(alphas)):
            b = rh[:, k] * (yh[:, k] * r).sum(dim=1)
            r = r + (a - b)[:, None] * sh[:, k]
        direction = -r
        descent = (direction * ga).sum(dim=1) < 0
        direction[~descent] = -ga[~descent]
        slope = (direction * ga).sum(dim=1)
        fresh = rh[:, -1] == 0  # no curvature yet: a cautious first step, as torch's L-BFGS takes
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
        change = (fa - f_new).abs()
        z[rows], f[rows], g[rows] = z_new, f_new, g_new
        # a problem with no acceptable step is at its minimum to working precision
        done = (g_new.abs().amax(dim=1) <= tol) | (change <= tol * f_new.abs().clamp_min(1.0)) | ~accepted
        active[rows[done]] = False
    return z, iteration


def fit_linear_lbfgs(
    features: torch.Tensor,
    mask: torch.Tensor,
    weights: torch.Tensor,
    c1: torch.Tensor,
    *,
    max_iter: int = 500,
    tol: float = 1e-6,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Fit ``M`` independent linear MTLR models at once by full-batch L-BFGS (`batched_lbfgs`).

    Model m minimises ``(-sum_i w_mi loglik_i + C1_m / 2 ||Theta_m||^2) / sum_i w_mi``, a convex
    objective, so L-BFGS reaches each model's unique minimum.

    Args:
        features: (n, d); mask: (n, K+1) target intervals; weights: (M, n) row weights (0 drops a
            row, e.g. the held-out fold); c1: (M,) L2 weights.

    Returns:
        ``(Theta (M, d, K), b (M, K), iterations)``.
    """
    n_models = weights.shape[0]
    n_features, n_times = features.shape[1], mask.shape[1] - 1
    split = n_features * n_times
    total = weights.sum(dim=1)

    def objective(params: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        theta = params[:, :split].reshape(-1, n_features, n_times)
        bias = params[:, split:]
        logits = torch.einsum("nd,mdk->mnk", features, theta) + bias[:, None, :]
        loglik = mtlr_log_likelihood(logits, mask)
        penalty = 0.5 * c1[rows] * theta.square().sum(dim=(1, 2))
        return (-(loglik * weights[rows]).sum(dim=1) + penalty) / total[rows]

    start = torch.zeros(n_models, split + n_times, dtype=features.dtype, device=features.device)
    start[:, split:] = _marginal_bias(mask, weights)
    params, n_iter = batched_lbfgs(objective, start, max_iter=max_iter, tol=tol)
    return params[:, :split].reshape(n_models, n_features, n_times), params[:, split:], n_iter


def _marginal_bias(mask: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """(M, K) biases of the feature-free MTLR that matches the marginal interval frequencies.

    Censored rows are spread evenly over their possible intervals; ``b_k = log P(k) - log P(k+1)``
    reproduces those frequencies, a good starting point for L-BFGS.
    """
    allowed = (mask if mask.dtype == torch.bool else torch.isfinite(mask)).to(weights.dtype)
    spread = allowed / allowed.sum(dim=1, keepdim=True)
    freq = (weights @ spread) + 0.5  # (M, K+1), smoothed
    log_p = torch.log(freq / freq.sum(dim=1, keepdim=True))
    return log_p[:, :-1] - log_p[:, 1:]


def _linear_net(theta: torch.Tensor, bias: torch.Tensor) -> MTLRNet:
    net = MTLRNet(theta.shape[0], theta.shape[1]).to(theta.dtype)
    with torch.no_grad():
        net.mtlr.weight.copy_(theta.T)
        net.mtlr.bias.copy_(bias)
    return net


def _folds(event: np.ndarray, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    n_folds = int(min(n_folds, max(2, min(np.sum(event), np.sum(~event)) if (~event).any() else event.size)))
    if n_folds < 2:
        raise InputError("too few rows for internal cross-validation of C1", item=f"{event.size} rows")
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(event.size), event))


def fit_mtlr(
    features: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    grid: np.ndarray,
    config: MTLRConfig,
    *,
    checkpoint: str | Path | None = None,
) -> FitResult:
    """Fit MTLR on (n, d) features with the time points `grid`, choosing C1 by CV if not given.

    The linear L-BFGS path solves every (fold, C1) problem and every full-data fit in one batched
    optimisation; the Adam path (neural or ``optimizer="adam"``) runs them one after another.
    """
    device = pick_device(config.device)
    bins = interval_index(time, grid, event)
    if config.c1 is not None and config.c1 < 0:
        raise InputError("C1 must be non-negative", item=config.c1)
    linear_lbfgs = config.optimizer == "lbfgs" and not config.hidden
    if linear_lbfgs:
        x = torch.as_tensor(features, dtype=torch.float64, device=device)
        mask = _log_mask(
            _target_mask(
                torch.as_tensor(bins, device=device), torch.as_tensor(event, device=device), grid.size + 1
            ),
            torch.float64,
        )
        grid_c1 = [config.c1] if config.c1 is not None else list(config.c1_grid)
        folds = _folds(event, config.cv_folds, config.seed) if config.c1 is None else []
        weights = [np.ones(event.size)] * len(grid_c1)  # full-data fits first
        c1s = list(grid_c1)
        for train_rows, _ in folds:
            w = np.zeros(event.size)
            w[train_rows] = 1.0
            weights += [w] * len(grid_c1)
            c1s += grid_c1
        theta, bias, n_iter = fit_linear_lbfgs(
            x,
            mask,
            torch.as_tensor(np.stack(weights), device=device),
            torch.as_tensor(c1s, dtype=torch.float64, device=device),
            max_iter=config.max_iter,
            tol=config.tol,
        )
        scores: dict[float, float] = {}
        best = 0
        if folds:
            with torch.no_grad():
                logits = torch.einsum("nd,mdk->mnk", x, theta[len(grid_c1) :]) + bias[len(grid_c1) :, None, :]
                loglik = mtlr_log_likelihood(logits, mask).cpu().numpy()
            per_fold = np.array(
                [
                    [loglik[f * len(grid_c1) + g, held].mean() for g in range(len(grid_c1))]
                    for f, (_, held) in enumerate(folds)
                ]
            )
            mean = per_fold.mean(axis=0)
            scores = {float(c): float(s) for c, s in zip(grid_c1, mean)}
            best = int(np.argmax(mean))
        return FitResult(
            _linear_net(theta[best].cpu(), bias[best].cpu()), float(grid_c1[best]), scores, n_iter
        )
    if config.c1 is None:
        folds = _folds(event, config.cv_folds, config.seed)
        scores = {}
        for c1 in config.c1_grid:
            held_out = []
            for train_rows, held in folds:
                net, _ = train_adam(
                    features[train_rows], bins[train_rows], event[train_rows], grid.size, config, c1
                )
                held_out.append(_mean_loglik(net, features[held], bins[held], event[held], grid.size))
            scores[float(c1)] = float(np.mean(held_out))
        c1 = max(scores, key=scores.__getitem__)
    else:
        c1, scores = float(config.c1), {}
    net, epochs = train_adam(features, bins, event, grid.size, config, c1, checkpoint=checkpoint)
    return FitResult(net.cpu(), c1, scores, epochs)


def _mean_loglik(
    net: MTLRNet, features: np.ndarray, bins: np.ndarray, event: np.ndarray, n_times: int
) -> float:
    param = next(net.parameters())
    net.eval()
    with torch.no_grad():
        x = torch.as_tensor(features, dtype=param.dtype, device=param.device)
        mask = _target_mask(
            torch.as_tensor(bins, device=param.device),
            torch.as_tensor(event, device=param.device),
            n_times + 1,
        )
        return float(mtlr_log_likelihood(net(x), mask).mean())


def _check_resumable(
    saved: MTLRConfig, config: MTLRConfig, c1: float, saved_c1: float | None, path: str | Path
) -> None:
    """A run may resume with a larger epoch budget, nothing else changed."""
    for name in saved.__dataclass_fields__:
        if name != "max_iter" and getattr(saved, name) != getattr(config, name):
            raise CheckpointMismatchError(
                f"checkpoint config field '{name}' differs from the requested config",
                item=f"{path}: stored {getattr(saved, name)!r}, requested {getattr(config, name)!r}",
            )
    if saved_c1 is not None and saved_c1 != c1:
        raise CheckpointMismatchError(
            "checkpoint was trained with another C1", item=f"{path}: stored {saved_c1}, requested {c1}"
        )


def train_adam(
    features: np.ndarray,
    bins: np.ndarray,
    event: np.ndarray,
    n_times: int,
    config: MTLRConfig,
    c1: float,
    *,
    checkpoint: str | Path | None = None,
) -> tuple[MTLRNet, int]:
    """Adam on the MTLR objective with early stopping on a stratified validation split.

    Each step minimises ``mean_batch(-loglik) + C1 / (2 n_train) ||Theta_mtlr||^2``. Training stops
    after `config.patience` epochs without a better validation log-likelihood and returns the best
    network. With `checkpoint`, progress is saved every 10 epochs and resumed from that file.

    Returns:
        ``(best network, epochs run)``.
    """
    device = pick_device(config.device)
    generator = torch.Generator().manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    n = event.size
    val_rows = np.zeros(n, dtype=bool)
    if config.validation_fraction > 0 and n >= 10:
        for group in (np.flatnonzero(event), np.flatnonzero(~event)):
            take = round(config.validation_fraction * group.size)
            val_rows[rng.permutation(group)[:take]] = True
    train_idx = np.flatnonzero(~val_rows)
    x = torch.as_tensor(features, dtype=torch.float32, device=device)
    mask = _log_mask(
        _target_mask(
            torch.as_tensor(bins, device=device), torch.as_tensor(event, device=device), n_times + 1
        ),
        torch.float32,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        net = MTLRNet(features.shape[1], n_times, config.hidden, config.dropout).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr, fused=device.type in ("cpu", "cuda"))
    start_epoch, best_val, bad_epochs = 0, -float("inf"), 0
    best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    if checkpoint is not None and Path(checkpoint).is_file():
        saved = load_checkpoint(checkpoint, MTLRConfig, map_location=device)
        _check_resumable(saved.config, config, c1, saved.extra.get("c1"), checkpoint)
        net.load_state_dict(saved.state["net"])
        optimizer.load_state_dict(saved.state["optimizer"])
        best_state = saved.state["best"]
        generator.set_state(saved.state["generator"].cpu())
        start_epoch = saved.extra["epoch"]
        best_val, bad_epochs = saved.extra["best_val"], saved.extra["bad_epochs"]
    batch = config.batch_size or train_idx.size
    train_t = torch.as_tensor(train_idx, device=device)
    val_t = torch.as_tensor(np.flatnonzero(val_rows), device=device)
    epochs_run = 0
    for epoch in range(start_epoch, config.max_iter):
        epochs_run += 1
        net.train()
        order = train_t[torch.randperm(train_t.numel(), generator=generator).to(device)]
        train_loglik = torch.zeros((), device=device)
        for start in range(0, order.numel(), batch):
            rows = order[start : start + batch]
            optimizer.zero_grad()
            loglik = mtlr_log_likelihood(net(x[rows]), mask[rows])
            loss = -loglik.mean()
            if c1 > 0:
                loss = loss + 0.5 * c1 * net.mtlr.weight.square().sum() / train_idx.size
            loss.backward()
            optimizer.step()
            train_loglik += loglik.detach().sum()
        if val_t.numel():
            net.eval()
            with torch.no_grad():
                val = float(mtlr_log_likelihood(net(x[val_t]), mask[val_t]).mean())
        else:  # no validation rows: monitor the epoch's training log-likelihood
            val = float(train_loglik) / train_idx.size
        if val > best_val + 1e-6:
            best_val, bad_epochs = val, 0
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        else:
            bad_epochs += 1
        if checkpoint is not None and (epoch + 1) % 10 == 0:
            state = {
                "net": net.state_dict(),
                "optimizer": optimizer.state_dict(),
                "best": best_state,
                "generator": generator.get_state(),
            }
            extra = {"epoch": epoch + 1, "best_val": best_val, "bad_epochs": bad_epochs, "c1": c1}
            save_checkpoint(checkpoint, state, config, extra=extra)
        if bad_epochs >= config.patience:
            break
    net.load_state_dict(best_state)
    return net, epochs_run
