"""Adversarial reprogramming (Elsayed, Goodfellow & Sohl-Dickstein 2019; summary sec. 37).

A frozen classifier ``f`` trained on MNIST digits (28 x 28) is repurposed to count squares: a small
``s x s`` target image ``x~`` is placed at the centre of the 28 x 28 input and surrounded by a learned
frame, ``X = M * sigmoid(W) + pad(x~)`` (the paper's ``tanh(W * M)`` mapped into [0, 1], the pixel range
of our models; `Reprogram`). The paper's hard-coded label mapping sends the ``k`` target classes to the
first ``k`` source classes (here: ``c`` squares -> digit ``c - 1``). Only ``W`` is trained
(`fit_program`); the network's parameters, ``requires_grad`` flags and mode are left exactly as they
were. `study` compares the reprogrammed trained network with the same architecture reprogrammed from
its random initialisation and trained from scratch on the target task.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from core.cli import RunOptions
from core.errors import InputError
from core.results import ResultTable

__all__ = ["REPROGRAM", "Reprogram", "count_squares", "fit_program", "study"]

REPROGRAM = {
    "smoke": {"source_epochs": 3, "target_train": 2000, "test": 1000, "steps": 400, "scratch_epochs": 10},
    "full": {"source_epochs": 20, "target_train": 10000, "test": 5000, "steps": 3000, "scratch_epochs": 30},
}
"""Source-network epochs on MNIST-5000, target images (train/test), program Adam steps, scratch epochs."""


def count_squares(n: int, classes: int = 4, size: int = 14, seed: int = 0) -> tuple[Tensor, Tensor]:
    """``n`` images ``(n, 1, size, size)`` with ``c`` white 3 x 3 squares in distinct cells of a 4 x 4 grid.

    Labels ``c - 1`` for ``c`` in ``1..classes`` (uniform). The squares sit at a random offset inside
    each 3 x 3 cell's 3-pixel margin, so images of one count differ in position.
    """
    if not 1 <= classes <= 16 or size < 14:
        raise InputError(f"count_squares needs 1 <= classes <= 16 and size >= 14, got {classes}, {size}")
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 1, size, size), np.float32)
    y = rng.integers(0, classes, n)
    for i in range(n):
        for cell in rng.choice(16, y[i] + 1, replace=False):
            r, c = 1 + 3 * (cell // 4), 1 + 3 * (cell % 4)
            x[i, 0, r : r + 2, c : c + 2] = 1.0
    return torch.tensor(x), torch.tensor(y)


class Reprogram(nn.Module):
    """``model(M * sigmoid(W) + pad(x))[:, :classes]``: a learned frame around a centred small input."""

    def __init__(self, model: nn.Module, image: int, inner: int, classes: int):
        super().__init__()
        if inner > image or (image - inner) % 2:
            raise InputError(f"inner size {inner} must fit centred in {image} with an even margin")
        self.model, self.classes, self.pad = model, classes, (image - inner) // 2
        self.weight = nn.Parameter(torch.zeros(1, 1, image, image))
        mask = torch.ones(1, 1, image, image)
        mask[..., self.pad : self.pad + inner, self.pad : self.pad + inner] = 0
        self.register_buffer("mask", mask)

    def program_input(self, x: Tensor) -> Tensor:
        """The full-size input the frozen network sees, in [0, 1]."""
        p = self.pad
        return self.mask * torch.sigmoid(self.weight) + nn.functional.pad(x, (p, p, p, p))

    def forward(self, x: Tensor) -> Tensor:
        return self.model(self.program_input(x))[:, : self.classes]


def fit_program(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    *,
    image: int,
    classes: int,
    steps: int,
    seed: int,
    lr: float = 0.05,
) -> Reprogram:
    """Train only the frame of a `Reprogram` around frozen `model`; its state is restored afterwards."""
    program = Reprogram(model, image, x.shape[-1], classes)
    flags = {name: p.requires_grad for name, p in model.named_parameters()}
    modes = {name: m.training for name, m in model.named_modules()}
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam([program.weight], lr=lr)
    try:
        model.eval().requires_grad_(False)
        for _ in range(steps):
            index = torch.randint(0, len(x), (64,), generator=generator)
            loss = nn.functional.cross_entropy(program(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        for name, p in model.named_parameters():
            p.requires_grad_(flags[name])
        for name, m in model.named_modules():
            m.train(modes[name])
    return program


def _accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def study(options: RunOptions) -> list[ResultTable]:
    """Square counting through a frozen MNIST MLP: trained vs untrained network vs trained from scratch."""
    from core.plots import new_figure, save_figure
    from robust.analyses.small import mlp, train_classifier
    from robust.data import load_dataset

    budget = REPROGRAM[options.scale]
    data = load_dataset("mnist5000")
    classes = 4
    source = mlp(784, (256, 256), data.num_classes, seed=options.seed)
    untrained = mlp(784, (256, 256), data.num_classes, seed=options.seed)
    train_classifier(source, data.x_train, data.y_train, epochs=budget["source_epochs"], seed=options.seed)
    x, y = count_squares(budget["target_train"], classes, seed=options.seed)
    x_test, y_test = count_squares(budget["test"], classes, seed=options.seed + 1)
    table = ResultTable(
        "reprogramming",
        title="Adversarial reprogramming: counting 1-4 squares through a frozen MNIST MLP",
        data=f"{data.describe()}; target: {budget['target_train']} / {budget['test']} generated 14x14 square-count images",
        notes=(
            "Label mapping c squares -> digit c - 1 (the paper's first-k mapping); only the 28x28 frame is "
            f"trained ({budget['steps']} Adam steps, batch 64); chance 0.25. Paper (sec. 37): ImageNet models "
            "reprogrammed to count squares at 0.99; untrained networks reprogram poorly."
        ),
    )
    shown = {}
    for name, network in (("trained MNIST MLP, frozen", source), ("untrained MLP, frozen", untrained)):
        program = fit_program(
            network, x, y, image=28, classes=classes, steps=budget["steps"], seed=options.seed
        )
        table.add(
            model=name,
            trained_parameters=program.weight.numel(),
            source_test_accuracy=_accuracy(network, data.x_test, data.y_test),
            target_test_accuracy=_accuracy(program, x_test, y_test),
        )
        with torch.no_grad():
            shown[name] = program.program_input(x_test[:1])[0, 0].numpy()
    scratch = mlp(196, (256, 256), classes, seed=options.seed + 1)
    train_classifier(scratch, x, y, epochs=budget["scratch_epochs"], seed=options.seed)
    table.add(
        model="same MLP trained from scratch on the target",
        trained_parameters=sum(p.numel() for p in scratch.parameters()),
        source_test_accuracy=float("nan"),
        target_test_accuracy=_accuracy(scratch, x_test, y_test),
    )
    options.publish(table)
    figure = new_figure(6, 3.2)
    for k, (name, image) in enumerate(shown.items()):
        axis = figure.add_subplot(1, 2, k + 1)
        axis.imshow(image, cmap="gray", vmin=0, vmax=1)
        axis.set(title=name, xticks=[], yticks=[])
    save_figure(figure, Path(options.out) / "reprogramming.png")
    return [table]
