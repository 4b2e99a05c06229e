"""Adam on the MTLR objective (neural MTLR, or ``optimizer="adam"``): early stopping on a stratified
validation split, checkpoints and the workspace's one resume rule.

All randomness comes from one explicit `torch.Generator` seeded with ``config.seed`` (weight
initialisation, batch order, dropout masks) and one `numpy.random.Generator` (the validation
split); nothing touches torch's global generator, and a checkpoint stores the generator's state,
so a resumed run continues bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.checkpoint import load_checkpoint, load_state_into, save_checkpoint
from core.device import pick_device
from core.errors import CheckpointMismatchError
from survival.mtlr import MTLRConfig, MTLRNet, _log_mask, _target_mask, mtlr_log_likelihood

__all__ = ["mean_loglik", "train_adam"]

Callback = Callable[[int, dict[str, float]], Any]


def _validation_rows(event: np.ndarray, config: MTLRConfig) -> np.ndarray:
    rng = np.random.default_rng(config.seed)
    val_rows = np.zeros(event.size, dtype=bool)
    if config.validation_fraction > 0 and event.size >= 10:
        for group in (np.flatnonzero(event), np.flatnonzero(~event)):
            take = round(config.validation_fraction * group.size)
            val_rows[rng.permutation(group)[:take]] = True
    return val_rows


def train_adam(
    features: np.ndarray,
    bins: np.ndarray,
    event: np.ndarray,
    n_times: int,
    config: MTLRConfig,
    c1: float,
    *,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 10,
    callback: Callback | None = None,
) -> tuple[MTLRNet, int, list[dict[str, float]]]:
    """Adam on the MTLR objective with early stopping on a stratified validation split.

    Each step minimises ``mean_batch(-loglik) + C1 / (2 n_train) ||Theta_mtlr||^2``. Training stops
    after `config.patience` epochs without a better validation log-likelihood and returns the best
    network. With `checkpoint`, progress is saved every `checkpoint_every` epochs and resumed from
    that file (`core.checkpoint.load_checkpoint(..., resume=config)`: only `max_iter` may differ).

    Returns:
        ``(best network, epochs run in this call, history)``; history has one record per epoch
        (``epoch``, ``train_loss``, ``val_loglik``) since the start of the run.
    """
    device = pick_device(config.device)
    generator = torch.Generator().manual_seed(config.seed)
    val_rows = _validation_rows(event, config)
    train_idx = np.flatnonzero(~val_rows)
    x = torch.as_tensor(features, dtype=torch.float32, device=device)
    mask = _log_mask(
        _target_mask(
            torch.as_tensor(bins, device=device), torch.as_tensor(event, device=device), n_times + 1
        ),
        torch.float32,
    )
    net = MTLRNet(features.shape[1], n_times, config.hidden, config.dropout, generator=generator).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr, fused=device.type in ("cpu", "cuda"))
    start_epoch, best_val, bad_epochs = 0, -float("inf"), 0
    history: list[dict[str, float]] = []
    best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    if checkpoint is not None and Path(checkpoint).is_file():
        saved = load_checkpoint(checkpoint, MTLRConfig, resume=config, map_location=device)
        if saved.extra.get("c1") != c1:
            raise CheckpointMismatchError(
                "checkpoint was trained with another C1",
                item=f"{checkpoint}: saved {saved.extra.get('c1')}, requested {c1}",
            )
        load_state_into(net, saved.state["net"], source=checkpoint)
        optimizer.load_state_dict(saved.state["optimizer"])
        best_state = saved.state["best"]
        generator.set_state(saved.state["generator"].cpu())
        start_epoch = saved.extra["epoch"]
        best_val, bad_epochs = saved.extra["best_val"], saved.extra["bad_epochs"]
        history = list(saved.extra["history"])
    batch = config.batch_size or train_idx.size
    train_t = torch.as_tensor(train_idx, device=device)
    val_t = torch.as_tensor(np.flatnonzero(val_rows), device=device)
    epochs_run = 0
    for epoch in range(start_epoch, config.max_iter):
        if bad_epochs >= config.patience:
            break
        epochs_run += 1
        net.train()
        order = train_t[torch.randperm(train_t.numel(), generator=generator).to(device)]
        train_loss = torch.zeros((), device=device)
        for start in range(0, order.numel(), batch):
            rows = order[start : start + batch]
            optimizer.zero_grad()
            loglik = mtlr_log_likelihood(net(x[rows], generator), mask[rows])
            loss = -loglik.mean()
            if c1 > 0:
                loss = loss + 0.5 * c1 * net.mtlr.weight.square().sum() / train_idx.size
            loss.backward()
            optimizer.step()
            train_loss += -loglik.detach().sum()
        train_loss_value = float(train_loss) / train_idx.size
        if val_t.numel():
            net.eval()
            with torch.no_grad():
                val = float(mtlr_log_likelihood(net(x[val_t]), mask[val_t]).mean())
        else:  # no validation rows: monitor the epoch's training log-likelihood
            val = -train_loss_value
        if val > best_val + 1e-6:
            best_val, bad_epochs = val, 0
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        else:
            bad_epochs += 1
        history.append({"epoch": epoch + 1, "train_loss": train_loss_value, "val_loglik": val})
        if checkpoint is not None and (epoch + 1) % checkpoint_every == 0:
            state = {
                "net": net.state_dict(),
                "optimizer": optimizer.state_dict(),
                "best": best_state,
                "generator": generator.get_state(),
            }
            extra = {
                "epoch": epoch + 1,
                "best_val": best_val,
                "bad_epochs": bad_epochs,
                "c1": c1,
                "history": history,
            }
            save_checkpoint(checkpoint, state, config, extra=extra)
        if callback is not None:
            callback(epoch + 1, history[-1])
    net.load_state_dict(best_state)
    return net, epochs_run, history


def mean_loglik(
    net: MTLRNet, features: np.ndarray, bins: np.ndarray, event: np.ndarray, n_times: int
) -> float:
    """Mean MTLR log-likelihood of `net` on held-out rows."""
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
