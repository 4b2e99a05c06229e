"""Small ReLU MLPs on 8x8 digits, trained in seconds: the model family the analyses sweep.

Models take ``(n, 1, 8, 8)`` images in [0, 1] (a leading ``nn.Flatten``) so every attack of
`robust.attacks` applies to them unchanged, and return ``(n, classes)`` logits.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["corrupt_labels", "mlp", "train_classifier"]


def mlp(in_features: int, widths: tuple[int, ...], classes: int, seed: int) -> nn.Sequential:
    """``Flatten -> (Linear -> ReLU) per width -> Linear``, initialised from `seed`."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        layers: list[nn.Module] = [nn.Flatten()]
        previous = in_features
        for width in widths:
            layers += [nn.Linear(previous, width), nn.ReLU()]
            previous = width
        layers.append(nn.Linear(previous, classes))
        return nn.Sequential(*layers)


def corrupt_labels(y: Tensor, fraction: float, classes: int, seed: int) -> Tensor:
    """A copy of `y` whose first ``round(fraction n)`` entries (in a seeded permutation) are uniform labels."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"label corruption fraction must lie in [0, 1], got {fraction}")
    generator = torch.Generator().manual_seed(seed)
    out = y.clone()
    chosen = torch.randperm(len(y), generator=generator)[: round(fraction * len(y))]
    out[chosen] = torch.randint(0, classes, (len(chosen),), generator=generator)
    return out


def train_classifier(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    *,
    epochs: int,
    lr: float = 1e-3,
    batch_size: int = 64,
    weight_decay: float = 0.0,
    adversary=None,
    seed: int = 0,
) -> nn.Module:
    """Minibatch Adam on cross-entropy; with `adversary` (an ``attack(x, y) -> x_adv``), on its outputs.

    Args:
        x: ``(n, 1, h, w)`` images in [0, 1]; y: ``(n,)`` labels.
        weight_decay: L2 penalty ``weight_decay/2 ||theta||^2`` added to the loss (not Adam's decoupled form).
    Returns:
        `model`, trained in place and left in eval mode.
    """
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), batch_size):
            index = order[start : start + batch_size]
            xb, yb = x[index], y[index]
            if adversary is not None:
                xb = adversary(xb, yb)
            model.train()
            loss = nn.functional.cross_entropy(model(xb), yb)
            if weight_decay:
                loss = loss + 0.5 * weight_decay * sum((p**2).sum() for p in model.parameters())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()
